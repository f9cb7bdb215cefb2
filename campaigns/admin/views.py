"""Extra admin views of a campaign: review & activate, lifecycle actions, live preview."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from campaigns.admin.actions import ACTIONS, campaign_review_actions
from campaigns.models import CONTENT_PARTS, Campaign, Status
from campaigns.preview import campaign_preview, preview_warnings
from campaigns.review import Finding, campaign_review
from campaigns.services.lifecycle import APPROVE_PERMISSION, approval_required
from campaigns.snapshot import POINTER_FIELDS
from core.actors import Actor
from core.errors import ClarionError

if TYPE_CHECKING:
    from campaigns.admin.campaign import CampaignAdmin

# Largest sample profile or context the preview accepts, in characters of JSON.
PREVIEW_MAX_JSON = 100_000


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user)


def _campaign_or_404(admin: CampaignAdmin, request: HttpRequest, object_id: str) -> Campaign:
    """The campaign if the user may see it (access labels included), else 404."""
    campaign = admin.get_object(request, object_id)
    if campaign is None or not admin.has_view_or_change_permission(request, campaign):
        raise Http404(_("No such campaign."))
    return campaign


def change_url(campaign: Campaign) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


def field_anchor(campaign: Campaign, pointer: str, locales: list[str]) -> str:
    """The change form row a JSON pointer designates, as ``#field-…``.

    ``/schedule/endAt`` -> ``#field-end_at``; ``/content/en/subject`` ->
    ``#field-contents-0-subject`` (the inline lists locales in order). The
    rows carry Django's ``field-<name>`` class, not an id: the change page's
    script (campaign.js) gives them these ids, then scrolls to and marks the
    one the address names. A row, not the input, because some fields have no
    element of their own id (split date-times, the filter widgets of tags).
    """
    if pointer in POINTER_FIELDS:
        return "#field-" + POINTER_FIELDS[pointer]
    segments = pointer.split("/")[1:]
    if segments and segments[0] == "content":
        if len(segments) >= 2 and segments[1] in locales:
            index = locales.index(segments[1])
            if len(segments) >= 3:
                part = CONTENT_PARTS[campaign.channel].get(segments[2], segments[2])
                return f"#field-contents-{index}-{part}"
            return f"#field-contents-{index}-locale"
        return "#contents-group"
    return ""


def _findings(
    campaign: Campaign, findings: list[Finding], locales: list[str]
) -> list[dict[str, str]]:
    base = change_url(campaign)
    return [
        {
            "message": finding.message,
            "code": finding.code,
            "field": finding.field,
            "href": base + field_anchor(campaign, finding.field, locales),
        }
        for finding in findings
    ]


def review_view(admin: CampaignAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """The checks (errors block, warnings do not) and the buttons that move the campaign on."""
    campaign = _campaign_or_404(admin, request, object_id)
    review = campaign_review(campaign=campaign)
    locales = list(campaign.contents.order_by("locale").values_list("locale", flat=True))
    approval = approval_required()
    approver = request.user.has_perm(APPROVE_PERMISSION)
    can_act = admin.has_change_permission(request)
    names = campaign_review_actions(campaign, approval=approval, approver=approver)
    errors = _findings(campaign, review.errors, locales)
    # A button the errors block is shown disabled; the service refuses it anyway.
    actions = [
        {"action": ACTIONS[name], "blocked": bool(errors) and ACTIONS[name].needs_review}
        for name in (names if can_act else [])
    ]
    context = {
        **admin.admin_site.each_context(request),
        "opts": admin.model._meta,
        "title": _("Review & activate: %s") % campaign.name,
        "original": campaign,
        "campaign": campaign,
        "errors": errors,
        "warnings": _findings(campaign, review.warnings, locales),
        "actions": actions,
        "blocked": any(item["blocked"] for item in actions),
        "approval_required": approval,
        "is_approver": approver,
        "change_url": change_url(campaign),
        "last_edited_by": campaign.last_edited_by,
        "needs_fixing": not review.ok and campaign.status == Status.DRAFT,
    }
    return TemplateResponse(request, "admin/campaigns/campaign/review.html", context)


def action_view(
    admin: CampaignAdmin, request: HttpRequest, object_id: str, action: str
) -> HttpResponse:
    """Run one lifecycle service and say what happened; refusals become messages, not errors."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    campaign = _campaign_or_404(admin, request, object_id)
    chosen = ACTIONS.get(action)
    if chosen is None:
        raise Http404(_("No such action."))
    needed = admin.has_add_permission(request) if action == "duplicate" else True
    if not (needed and admin.has_change_permission(request)):
        raise PermissionDenied
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = change_url(campaign)
    try:
        result = chosen.run(campaign, _actor(request))
    except ClarionError as error:
        details = "; ".join(e.detail for e in error.errors[:5])
        messages.error(request, f"{error.message} {details}".strip() if details else error.message)
        return HttpResponseRedirect(back)
    messages.success(request, str(chosen.done) % {"status": result.get_status_display()})
    if result.pk != campaign.pk:  # duplicate: go to the copy
        return HttpResponseRedirect(change_url(result))
    return HttpResponseRedirect(back)


def _json_field(raw: str, label: str) -> tuple[dict[str, Any] | None, str | None]:
    if not raw.strip():
        return {}, None
    if len(raw) > PREVIEW_MAX_JSON:
        return None, _("The sample %(what)s is too long.") % {"what": label}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        return None, _("The sample %(what)s is not valid JSON: %(error)s (line %(line)d).") % {
            "what": label,
            "error": error.msg,
            "line": error.lineno,
        }
    if not isinstance(value, dict):
        return None, _('The sample %(what)s must be a JSON object, like {"a": 1}.') % {
            "what": label
        }
    return value, None


def preview_view(admin: CampaignAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Render the live version (or a draft's saved content) with a sample profile and context."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    campaign = _campaign_or_404(admin, request, object_id)
    problems: list[str] = []
    profile, problem = _json_field(request.POST.get("profile", ""), _("profile"))
    problems += [problem] if problem else []
    context, problem = _json_field(request.POST.get("context", ""), _("context"))
    problems += [problem] if problem else []
    if profile is None or context is None:
        return JsonResponse({"ok": False, "errors": problems}, status=400)
    try:
        rendered = campaign_preview(
            campaign=campaign,
            locale=request.POST.get("locale") or None,
            profile=profile,
            context=context,
        )
    except ClarionError as error:
        errors = [f"{e.pointer}: {e.detail}" for e in error.errors] or [error.message]
        return JsonResponse({"ok": False, "errors": errors}, status=400)
    return JsonResponse(
        {
            "ok": True,
            "channel": rendered.channel,
            "locale": rendered.locale,
            "parts": dict(rendered.parts),
            "warnings": preview_warnings(rendered),
        }
    )
