"""Liquid, the personalisation language marketers write content in.

python-liquid is designed for untrusted template authors; the environment
below adds resource limits so one template cannot exhaust a worker. Templates
are parsed once and cached by source text, so every version and locale of a
campaign is parsed at most once per process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from liquid import BoundTemplate, Environment
from liquid.exceptions import LiquidError

from campaigns import limits

VARIABLE_ROOTS = ("profile", "context")


class ClarionLiquidEnvironment(Environment):
    """Liquid with resource limits for marketer-written templates."""

    loop_iteration_limit = limits.LIQUID_LOOP_ITERATION_LIMIT
    output_stream_limit = limits.LIQUID_OUTPUT_STREAM_LIMIT
    context_depth_limit = limits.LIQUID_CONTEXT_DEPTH_LIMIT
    local_namespace_limit = limits.LIQUID_LOCAL_NAMESPACE_LIMIT


ENVIRONMENT = ClarionLiquidEnvironment()


@dataclass(frozen=True)
class TemplateProblem:
    """A template error in words, with its 1-based line and column when known."""

    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"{self.message} (line {self.line}, column {self.column})"


class TemplateError(Exception):
    """Raised when a template does not parse or fails while rendering."""

    def __init__(self, problem: TemplateProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _problem(error: LiquidError) -> TemplateProblem:
    message = str(error.message or error.__class__.__name__)
    try:
        context = error.context()
    except ValueError:
        context = None
    if context is None:
        return TemplateProblem(message)
    line, column, *_ = context
    return TemplateProblem(message, line, column + 1)


@lru_cache(maxsize=limits.LIQUID_TEMPLATE_CACHE_SIZE)
def _parse_cached(source: str) -> BoundTemplate:
    return ENVIRONMENT.from_string(source)


def template_parse(source: str) -> BoundTemplate:
    """Parse (or fetch from the cache) a template; raises TemplateError."""
    try:
        return _parse_cached(source)
    except LiquidError as error:
        raise TemplateError(_problem(error)) from None


def template_check(source: str) -> TemplateProblem | None:
    """The syntax problem in ``source``, or None when it parses."""
    try:
        template_parse(source)
    except TemplateError as error:
        return error.problem
    return None


def template_render(source: str, *, profile: Mapping[str, Any], context: Mapping[str, Any]) -> str:
    """Render ``source`` with ``profile.*`` and ``context.*``; raises TemplateError."""
    template = template_parse(source)
    try:
        return template.render(profile=profile, context=context)
    except LiquidError as error:
        raise TemplateError(_problem(error)) from None


def template_variables(sources: Iterable[str]) -> dict[str, set[str]]:
    """Every ``profile.*`` and ``context.*`` path the templates read.

    Returns ``{"profile": {"person.name.firstName", ...}, "context": {...}}``
    (paths without their root). Templates that do not parse are skipped: the
    review checks report them.
    """
    found: dict[str, set[str]] = {root: set() for root in VARIABLE_ROOTS}
    for source in sources:
        if not source or ("{{" not in source and "{%" not in source):
            continue
        try:
            template = template_parse(source)
        except TemplateError:
            continue
        for segments in template.global_variable_segments():
            if len(segments) >= 2 and segments[0] in found:
                path = ".".join(str(segment) for segment in segments[1:])
                found[str(segments[0])].add(path)
    # Keep only leaves: "person.name" is implied by "person.name.firstName".
    for root, paths in found.items():
        found[root] = {p for p in paths if not any(other.startswith(p + ".") for other in paths)}
    return found
