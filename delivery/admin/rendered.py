"""“View rendered message”: a message rendered again from its version and recorded data.

Rendered content is never stored (delivery.models); this page calls
``message_render``, the function the send path uses, so it shows what was (or
will be) sent. The marketer's HTML is shown only inside ``<iframe sandbox
srcdoc>``: no scripts, no same-origin access, never part of the admin page.
A content that does not render is explained in words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ClarionError
from delivery.services.sending import message_render

if TYPE_CHECKING:
    from delivery.admin.messages import MessageAdmin

# Each part's label, in the order a reader expects it (the API's part names).
PART_LABELS = {
    "subject": gettext_lazy("Subject"),
    "preheader": gettext_lazy("Preheader"),
    "title": gettext_lazy("Title"),
    "body": gettext_lazy("Body"),
    "text": gettext_lazy("Text"),
    "deepLink": gettext_lazy("Deep link"),
    "imageUrl": gettext_lazy("Image URL"),
    "html": gettext_lazy("HTML"),
}


def _parts(parts: dict[str, str]) -> list[dict[str, Any]]:
    ordered = [name for name in PART_LABELS if name in parts] + [
        name for name in parts if name not in PART_LABELS
    ]
    return [
        {"name": name, "label": PART_LABELS.get(name, name), "value": parts[name]}
        for name in ordered
    ]


def rendered_view(admin: MessageAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    message = admin.get_object(request, object_id)
    if message is None or not admin.has_view_permission(request, message):
        raise Http404(_("No such message."))
    problem = ""
    problems: list[str] = []
    parts: list[dict[str, Any]] = []
    locale = ""
    warnings: list[str] = []
    try:
        result = message_render(message)
    except ClarionError as error:
        problem = error.message
        problems = [f"{e.pointer}: {e.detail}" for e in error.errors]
    else:
        locale = result.locale
        parts = _parts(dict(result.parts))
        warnings = [
            _("{{ %(variable)s }} rendered empty in %(field)s.")
            % {"variable": empty.variable, "field": empty.field}
            for empty in result.empty_variables
        ]
    context = {
        **admin.admin_site.each_context(request),
        "opts": admin.model._meta,
        "title": _("Rendered message"),
        "subtitle": str(message),
        "original": message,
        "message": message,
        "change_url": reverse("admin:delivery_message_change", args=[message.pk]),
        "problem": problem,
        "problems": problems,
        "parts": parts,
        "locale": locale,
        "warnings": warnings,
    }
    return TemplateResponse(request, "admin/delivery/message/rendered.html", context)
