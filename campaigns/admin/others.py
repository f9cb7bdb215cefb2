"""Admins around campaigns: channel configurations, tags, audit log, versions."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from campaigns.admin.forms import ChannelConfigurationForm
from campaigns.models import AuditEvent, CampaignVersion, ChannelConfiguration, Tag
from campaigns.models.audit import AUDIT_ACTION_LABELS
from campaigns.selectors import campaign_list_visible
from core.actors import Actor


def _pretty_json(value: Any) -> str:
    return format_html(
        '<pre class="clarion-json">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False)
    )


@admin.register(ChannelConfiguration)
class ChannelConfigurationAdmin(admin.ModelAdmin[ChannelConfiguration]):
    form = ChannelConfigurationForm
    list_display = ["name", "channel", "sender", "is_active", "updated_at"]
    list_filter = ["channel", "is_active"]
    search_fields = ["name", "from_email", "sms_sender", "push_app_id"]
    fieldsets = [
        (None, {"fields": ["name", "channel", "is_active"]}),
        (
            _("Email"),
            {
                "fields": ["from_name", "from_email", "reply_to", "tracking_domain"],
                "description": _("For email configurations: who the message comes from."),
            },
        ),
        (
            _("SMS"),
            {
                "fields": ["sms_sender", "sms_provider"],
                "description": _("For SMS configurations: the sender shown on the phone."),
            },
        ),
        (
            _("Push"),
            {
                "fields": ["push_app_id", "push_platform", "push_provider", "push_app_schemes"],
                "description": _("For push configurations: the app notifications go to."),
            },
        ),
    ]

    @admin.display(description=_("sender"))
    def sender(self, obj: ChannelConfiguration) -> str:
        return {"email": obj.from_email, "sms": obj.sms_sender}.get(obj.channel, obj.push_app_id)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    list_display = ["name", "campaign_count"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return super().get_queryset(request).annotate(campaign_total=Count("campaigns"))

    @admin.display(description=_("campaigns"), ordering="campaign_total")
    def campaign_count(self, obj: Tag) -> int:
        return getattr(obj, "campaign_total", 0)


class _ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Rows written by services only: listed and shown, never edited here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditActionFilter(admin.SimpleListFilter):
    """The audit actions by their names in the reader's language."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(AUDIT_ACTION_LABELS.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(action=value) if value else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(_ReadOnlyAdmin):
    list_display = [
        "created_at",
        "action_label",
        "campaign_link",
        "actor_display",
        "detail_summary",
    ]
    list_filter = [AuditActionFilter, "created_at"]
    search_fields = ["campaign_name"]
    fields = [
        "created_at",
        "action_label",
        "campaign",
        "campaign_name",
        "actor",
        "api_key",
        "detail_json",
    ]
    readonly_fields = [
        "created_at",
        "action_label",
        "campaign",
        "campaign_name",
        "actor",
        "api_key",
        "detail_json",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        """Events of deleted campaigns, and of the campaigns the user can see."""
        visible = campaign_list_visible(actor=Actor(user=request.user)).values("pk")
        queryset = super().get_queryset(request).select_related("actor", "api_key", "campaign")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(campaign__isnull=True) | queryset.filter(campaign__in=visible)

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, obj: AuditEvent) -> str:
        return obj.action_display

    @admin.display(description=_("campaign"), ordering="campaign_name")
    def campaign_link(self, obj: AuditEvent) -> str:
        if obj.campaign_id is None:
            return obj.campaign_name
        url = reverse("admin:campaigns_campaign_change", args=[obj.campaign_id])
        return format_html('<a href="{}">{}</a>', url, obj.campaign_name)

    @admin.display(description=_("user"))
    def actor_display(self, obj: AuditEvent) -> str:
        return obj.actor_display

    @admin.display(description=_("detail"))
    def detail_summary(self, obj: AuditEvent) -> str:
        return json.dumps(obj.detail, ensure_ascii=False) if obj.detail else ""

    @admin.display(description=_("detail"))
    def detail_json(self, obj: AuditEvent) -> str:
        return _pretty_json(obj.detail)


@admin.register(CampaignVersion)
class CampaignVersionAdmin(_ReadOnlyAdmin):
    list_display = ["campaign", "number", "created_at", "created_by"]
    list_filter = ["created_at"]
    search_fields = ["campaign__name"]
    fields = ["campaign", "number", "created_at", "created_by", "snapshot_json"]
    readonly_fields = ["campaign", "number", "created_at", "created_by", "snapshot_json"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CampaignVersion]:
        visible = campaign_list_visible(actor=Actor(user=request.user)).values("pk")
        return (
            super()
            .get_queryset(request)
            .filter(campaign__in=visible)
            .select_related("campaign", "created_by")
        )

    @admin.display(description=_("snapshot"))
    def snapshot_json(self, obj: CampaignVersion) -> str:
        return _pretty_json(obj.snapshot)
