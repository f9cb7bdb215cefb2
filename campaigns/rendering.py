"""Rendering content for one recipient: locale fallback, every part, link safety.

``content_render`` is shared by ``campaigns.versions.version_render`` (a frozen
version: what delivery sends and what a live campaign previews) and by the
preview of a draft, which has no version yet; only where the parsed templates
come from differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from django.utils.translation import gettext as _
from liquid import BoundTemplate

from campaigns.links import link_problem
from campaigns.liquid import TemplateError, template_render
from campaigns.models import CONTENT_PARTS, LINK_PARTS
from core.errors import FieldError, InvalidInput, pointer
from core.locales import locale_resolve

# (content locale, API part name, source) -> the parsed template.
TemplateLookup = Callable[[str, str, str], BoundTemplate]


@dataclass(frozen=True)
class EmptyVariable:
    """A ``profile.*`` or ``context.*`` variable that rendered as nothing in one part."""

    field: str  # JSON pointer of the part, /content/en/subject
    variable: str  # profile.person.name.firstName


@dataclass(frozen=True)
class RenderedMessage:
    """One recipient's message: its channel, the content locale used and each part rendered."""

    channel: str
    locale: str
    parts: Mapping[str, str]
    empty_variables: tuple[EmptyVariable, ...] = ()


def content_render(
    *,
    channel: str,
    contents: Mapping[str, Mapping[str, str]],
    default_locale: str,
    locale: str | None,
    profile: Mapping[str, Any],
    context: Mapping[str, Any],
    app_schemes: Iterable[str],
    template: TemplateLookup,
    variables: Mapping[str, str] | None = None,
) -> RenderedMessage:
    """Render every part of ``channel`` in the locale a recipient with ``locale`` gets.

    ``variables``: what Clarion fills per message (``campaigns.liquid.MESSAGE_VARIABLES``).

    Raises InvalidInput (``no_content_for_locale``, ``template_error``,
    ``link_not_allowed``) with a pointer per failing part.
    """
    chosen = locale_resolve(locale, contents, default_locale)
    if chosen is None:
        raise InvalidInput(
            code="no_content_for_locale",
            message=_(
                "No content matches the locale %(locale)s, and the default %(default)s has none."
            )
            % {"locale": locale or "-", "default": default_locale},
            errors=[FieldError("/locale", _("No content for this locale or its fallbacks."))],
        )
    sources = contents[chosen]
    parts: dict[str, str] = {}
    empty: list[EmptyVariable] = []
    errors: list[FieldError] = []
    for part in CONTENT_PARTS[channel]:
        source = sources.get(part, "")
        try:
            rendered = template_render(
                template(chosen, part, source),
                profile=profile,
                context=context,
                variables=variables,
            )
        except TemplateError as error:
            errors.append(FieldError(pointer("content", chosen, part), str(error.problem)))
            continue
        parts[part] = rendered.text
        if rendered.empty_variables:
            at = pointer("content", chosen, part)
            empty += [EmptyVariable(at, variable) for variable in rendered.empty_variables]
    if errors:
        raise InvalidInput(code="template_error", message=errors[0].detail, errors=errors)
    schemes = tuple(app_schemes)
    refused = [
        FieldError(pointer("content", chosen, part), problem)
        for part in CONTENT_PARTS[channel]
        if part in LINK_PARTS and (problem := link_problem(parts[part], schemes)) is not None
    ]
    if refused:
        raise InvalidInput(
            code="link_not_allowed",
            message=_("The rendered link is not allowed: %s") % refused[0].detail,
            errors=refused,
        )
    return RenderedMessage(channel, chosen, MappingProxyType(parts), tuple(empty))
