"""Liquid, the personalisation language marketers write content in.

python-liquid is designed for untrusted template authors; the environments
below add resource limits so one template cannot exhaust a worker. HTML parts
are rendered with autoescape on: a value from ``profile`` or ``context`` (data
sent by other systems, possibly by the recipients themselves) is HTML-escaped
unless the marketer marks it trusted with the ``safe`` filter. Text parts
(subjects, SMS, push) are not HTML and stay unescaped.

Parsed templates are cached per process, bounded by count and by the total
size of their sources (``campaigns.bounded_cache``): a version's templates by
(version, locale, part), since a version never changes; unsaved sources
(previews of drafts, validation) by their text.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO
from uuid import UUID

from django.utils.translation import gettext
from liquid import BoundTemplate, Environment
from liquid.builtin.content import ContentNode
from liquid.builtin.expressions import FilteredExpression, Path
from liquid.builtin.output import Output, OutputNode
from liquid.context import RenderContext
from liquid.exceptions import LiquidError
from liquid.stringify import to_liquid_string

from campaigns import limits
from campaigns.bounded_cache import BoundedCache

VARIABLE_ROOTS = ("profile", "context")
# Variables Clarion itself fills for each message, besides the roots above: the
# recipient's signed unsubscribe link (delivery.tracking; previews show an example).
MESSAGE_VARIABLES = ("unsubscribe_url",)

# Paths of the profile/context variables that rendered as nothing, for the render
# in progress (None when nobody listens). A context variable, so concurrent renders
# in threads or tasks never mix their findings.
_empty_variables: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "clarion_liquid_empty_variables", default=None
)


def _variable_path(expression: object) -> str | None:
    """``profile.person.name.firstName`` for an output of a profile or context path."""
    if not isinstance(expression, FilteredExpression) or not isinstance(expression.left, Path):
        return None
    segments = expression.left.path
    if len(segments) < 2 or segments[0] not in VARIABLE_ROOTS:
        return None
    return ".".join(str(segment) for segment in segments)


class _RecordingOutputNode(OutputNode):
    """``{{ ... }}`` that notes a profile or context variable rendering empty (for previews)."""

    __slots__ = ()

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        text = to_liquid_string(self.expression.evaluate(context), context.autoescape)
        found = _empty_variables.get()
        if not text and found is not None:
            path = _variable_path(self.expression)
            if path is not None and path not in found:
                found.append(path)
        return buffer.write(text)


class _RecordingOutput(Output):
    node_class = _RecordingOutputNode


class ClarionLiquidEnvironment(Environment):
    """Liquid with resource limits for marketer-written templates."""

    loop_iteration_limit = limits.LIQUID_LOOP_ITERATION_LIMIT
    output_stream_limit = limits.LIQUID_OUTPUT_STREAM_LIMIT
    context_depth_limit = limits.LIQUID_CONTEXT_DEPTH_LIMIT
    local_namespace_limit = limits.LIQUID_LOCAL_NAMESPACE_LIMIT

    def setup_tags_and_filters(self, *, extra: bool = False) -> None:
        super().setup_tags_and_filters(extra=extra)
        self.add_tag(_RecordingOutput)


# Subjects, preheaders, text bodies, SMS and push: plain text, never HTML-escaped.
ENVIRONMENT = ClarionLiquidEnvironment()
# HTML bodies: every {{ value }} is HTML-escaped unless piped through `safe`.
HTML_ENVIRONMENT = ClarionLiquidEnvironment(autoescape=True)

# Parsed templates of frozen versions, keyed by (version id, locale, part).
VERSION_TEMPLATES: BoundedCache[tuple[UUID, str, str], BoundTemplate] = BoundedCache(
    max_entries=limits.LIQUID_VERSION_CACHE_ENTRIES,
    max_size=limits.LIQUID_VERSION_CACHE_SOURCE_CHARS,
)
# Parsed templates of unsaved or draft sources, keyed by (html?, source text).
SOURCE_TEMPLATES: BoundedCache[tuple[bool, str], BoundTemplate] = BoundedCache(
    max_entries=limits.LIQUID_SOURCE_CACHE_ENTRIES,
    max_size=limits.LIQUID_SOURCE_CACHE_SOURCE_CHARS,
)


@dataclass(frozen=True)
class TemplateProblem:
    """A template error in words, with its 1-based line and column when known."""

    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        # python-liquid's own message stays English; the position reads in the reader's language.
        return gettext("%(problem)s (line %(line)d, column %(column)d)") % {
            "problem": self.message,
            "line": self.line,
            "column": self.column or 0,
        }


class TemplateError(Exception):
    """Raised when a template does not parse or fails while rendering."""

    def __init__(self, problem: TemplateProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True)
class RenderedText:
    """A rendered template and the ``profile.*``/``context.*`` paths that rendered empty."""

    text: str
    empty_variables: tuple[str, ...] = ()


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


def _parse(source: str, html: bool) -> BoundTemplate:
    environment = HTML_ENVIRONMENT if html else ENVIRONMENT
    try:
        return environment.from_string(source)
    except LiquidError as error:
        raise TemplateError(_problem(error)) from None


def template_parse(source: str, *, html: bool = False) -> BoundTemplate:
    """Parse (or fetch from the cache) an unsaved template; raises TemplateError.

    ``html`` parses it for an HTML part (autoescape on).
    """
    return SOURCE_TEMPLATES.get_or_build(
        (html, source), lambda: _parse(source, html), size=len(source)
    )


def version_template(
    *, version_id: UUID, locale: str, part: str, source: str, html: bool
) -> BoundTemplate:
    """A frozen version's parsed template for one locale and part; raises TemplateError."""
    return VERSION_TEMPLATES.get_or_build(
        (version_id, locale, part), lambda: _parse(source, html), size=len(source)
    )


def template_check(source: str) -> TemplateProblem | None:
    """The syntax problem in ``source``, or None when it parses."""
    try:
        template_parse(source)
    except TemplateError as error:
        return error.problem
    return None


def _plain_text(template: BoundTemplate) -> str | None:
    """The text of a template with no tag or output (a push deep link, an image URL), which
    renders as itself: a message's constant parts skip Liquid's render machinery. None
    for any other template, or one longer than the output limit (rendering refuses it)."""
    nodes = template.nodes
    if not all(type(node) is ContentNode for node in nodes):
        return None
    text = "".join(node.text for node in nodes)  # type: ignore[attr-defined]
    limit = limits.LIQUID_OUTPUT_STREAM_LIMIT  # counted in UTF-8 bytes, as Liquid does
    if len(text) * 4 > limit and len(text.encode()) > limit:
        return None
    # Liquid's output buffer reads newlines universally: \r\n and \r become \n.
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def template_render(
    template: BoundTemplate,
    *,
    profile: Mapping[str, Any],
    context: Mapping[str, Any],
    variables: Mapping[str, str] | None = None,
) -> RenderedText:
    """Render with ``profile.*``, ``context.*`` and ``variables`` (MESSAGE_VARIABLES
    only); raises TemplateError."""
    text = _plain_text(template)
    if text is not None:
        return RenderedText(text)
    found: list[str] = []
    token = _empty_variables.set(found)
    extra = {name: value for name, value in (variables or {}).items() if name in MESSAGE_VARIABLES}
    try:
        text = template.render(**extra, profile=profile, context=context)
    except LiquidError as error:
        raise TemplateError(_problem(error)) from None
    finally:
        _empty_variables.reset(token)
    return RenderedText(text, tuple(found))


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
