"""“Send test” and “Report” on a campaign's page: its live version to an address the
user types, and its report (delivery.admin.reports).

The campaign admin lives in campaigns, a lower layer that cannot import
delivery. Delivery extends it the way ``delivery.admin.profiles`` extends the
profile admin: ``CampaignWithSendTestAdmin`` subclasses ``CampaignAdmin``, adds
the send-test page to its URLs and a button to its object tools (its change form
template extends the campaigns one), and replaces the registration.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.admin.campaign import CampaignAdmin
from campaigns.models import Campaign
from campaigns.preview import campaign_sample_data
from core.channels import Channel
from core.errors import ClarionError
from delivery.admin.common import actor_of
from delivery.admin.reports import report_link, report_view
from delivery.models import Message, MessageStatus
from delivery.services.proofs import ADDRESS_POINTER, campaign_send_test
from delivery.services.triggers import TRIGGERABLE

TRIGGER_PERMISSION = "campaigns.trigger_campaign"
SAMPLE_MAX_JSON = 100_000  # characters; the trigger API allows 200 KB of context

ADDRESS_LABELS: dict[str, tuple[Any, Any]] = {
    Channel.EMAIL: (gettext_lazy("Email address"), gettext_lazy("e.g. ana@example.com")),
    Channel.SMS: (gettext_lazy("Mobile number"), gettext_lazy("e.g. +14165550100")),
    Channel.PUSH: (gettext_lazy("Push token"), gettext_lazy("the device's FCM/APNs token")),
}


def _json_object(raw: str, what: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    if len(raw) > SAMPLE_MAX_JSON:
        raise forms.ValidationError(_("The %(what)s is too long.") % {"what": what})
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise forms.ValidationError(
            _("The %(what)s is not valid JSON: %(error)s (line %(line)d).")
            % {"what": what, "error": error.msg, "line": error.lineno}
        ) from None
    if not isinstance(value, dict):
        raise forms.ValidationError(
            _('The %(what)s must be a JSON object, like {"a": 1}.') % {"what": what}
        )
    return value


class SendTestForm(forms.Form):
    address = forms.CharField(max_length=4096)
    profile = forms.CharField(
        label=gettext_lazy("Profile (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "vLargeTextField"}),
        help_text=gettext_lazy("Fills {{ profile.* }}: the recipient has no stored profile."),
    )
    context = forms.CharField(
        label=gettext_lazy("Context (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "vLargeTextField"}),
        help_text=gettext_lazy("Fills {{ context.* }}, as a trigger call's context would."),
    )

    def __init__(self, *args: Any, channel: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        label, example = ADDRESS_LABELS.get(channel, ADDRESS_LABELS[Channel.EMAIL])
        self.fields["address"].label = label
        self.fields["address"].help_text = example
        self.fields["address"].widget.attrs["class"] = "vTextField"

    def clean_profile(self) -> dict[str, Any]:
        return _json_object(self.cleaned_data.get("profile", ""), _("profile"))

    def clean_context(self) -> dict[str, Any]:
        return _json_object(self.cleaned_data.get("context", ""), _("context"))


def result_summary(message: Message) -> str:
    """What became of the test message, in words."""
    values = {
        "address": message.address,
        "reason": message.reason,
        "detail": message.reason_detail,
    }
    if message.status == MessageStatus.SENT:
        return _("Sent to %(address)s.") % values
    if message.status == MessageStatus.EXCLUDED:
        return _("Not sent: %(address)s is excluded (%(reason)s).") % values
    if message.status == MessageStatus.QUEUED:
        return _("Not sent yet: %(reason)s %(detail)s. It will be retried automatically.") % values
    return _("Not sent: %(reason)s %(detail)s") % values


def send_test_allowed(request: HttpRequest, campaign: Campaign) -> bool:
    return bool(
        request.user.has_perm(TRIGGER_PERMISSION)
        and campaign.live_version_id is not None
        and campaign.status in TRIGGERABLE
    )


def send_test_view(admin: CampaignAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    campaign = admin.get_object(request, object_id)  # access labels apply: else None
    if campaign is None or not admin.has_view_or_change_permission(request, campaign):
        raise Http404(_("No such campaign."))
    if not request.user.has_perm(TRIGGER_PERMISSION):
        raise PermissionDenied
    sample = campaign_sample_data(campaign)
    initial = {
        "profile": json.dumps(sample["profile"], indent=2, ensure_ascii=False),
        "context": json.dumps(sample["context"], indent=2, ensure_ascii=False),
    }
    result: Message | None = None
    if request.method == "POST":
        form = SendTestForm(request.POST, channel=campaign.channel)
        if form.is_valid():
            try:
                result = campaign_send_test(
                    campaign=campaign,
                    address=form.cleaned_data["address"],
                    actor=actor_of(request),
                    profile=form.cleaned_data["profile"],
                    context=form.cleaned_data["context"],
                )
            except ClarionError as error:
                at_address = [e.detail for e in error.errors if e.pointer == ADDRESS_POINTER]
                for detail in at_address:
                    form.add_error("address", detail)
                if not at_address:
                    form.add_error(None, error.message)
    else:
        form = SendTestForm(initial=initial, channel=campaign.channel)
    context = {
        **admin.admin_site.each_context(request),
        "opts": admin.model._meta,
        "title": _("Send a test: %s") % campaign.name,
        "original": campaign,
        "campaign": campaign,
        "form": form,
        "allowed": send_test_allowed(request, campaign),
        "result": result,
        "result_summary": result_summary(result) if result is not None else "",
        "change_url": reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
    }
    return TemplateResponse(request, "admin/delivery/campaign/send_test.html", context)


class CampaignWithSendTestAdmin(CampaignAdmin):
    change_form_template = "admin/delivery/campaign/change_form.html"
    list_display = [*CampaignAdmin.list_display, "report"]

    @admin.display(description=gettext_lazy("Report"))
    def report(self, campaign: Campaign) -> str:
        return report_link(campaign)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        extra = [
            path(
                "<path:object_id>/send-test/",
                wrap(lambda request, object_id: send_test_view(self, request, object_id)),
                name="campaigns_campaign_send_test",
            ),
            path(
                "<path:object_id>/report/",
                wrap(lambda request, object_id: report_view(self, request, object_id)),
                name="campaigns_campaign_report",
            ),
        ]
        return extra + super().get_urls()

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Campaign | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context["report_url"] = reverse("admin:campaigns_campaign_report", args=[obj.pk])
        if obj is not None and send_test_allowed(request, obj):
            context["send_test_url"] = reverse("admin:campaigns_campaign_send_test", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)


admin.site.unregister(Campaign)
admin.site.register(Campaign, CampaignWithSendTestAdmin)
