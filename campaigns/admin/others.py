"""Admins around campaigns: channel configurations, labels, tags, API keys, audit log, versions."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from campaigns.actors import Actor
from campaigns.admin.forms import ApiKeyChangeForm, ApiKeyCreateForm, ChannelConfigurationForm
from campaigns.apikeys import api_key_create
from campaigns.models import (
    AccessLabel,
    ApiKey,
    AuditEvent,
    CampaignVersion,
    ChannelConfiguration,
    Tag,
)
from campaigns.selectors import campaign_list_visible
from config.errors import ClarionError


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


@admin.register(AccessLabel)
class AccessLabelAdmin(admin.ModelAdmin[AccessLabel]):
    list_display = ["name", "description", "group_names"]
    search_fields = ["name"]
    filter_horizontal = ["groups"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessLabel]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("groups holding this label"))
    def group_names(self, obj: AccessLabel) -> str:
        return ", ".join(group.name for group in obj.groups.all())


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    list_display = ["name", "campaign_count"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return super().get_queryset(request).annotate(campaign_total=Count("campaigns"))

    @admin.display(description=_("campaigns"), ordering="campaign_total")
    def campaign_count(self, obj: Tag) -> int:
        return getattr(obj, "campaign_total", 0)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    """Keys are created with a generated secret, shown once; only its hash is stored."""

    form = ApiKeyChangeForm
    list_display = ["name", "prefix", "scope_list", "last_used_at", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "created_by"]
    fields = [
        "name",
        "prefix",
        "scopes",
        "access_labels",
        "is_active",
        "created_at",
        "last_used_at",
        "created_by",
    ]

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes or [])

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Ask for name, scopes and labels; answer with the secret, once, on this response."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiKeyCreateForm(request.POST or None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Add API key"),
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            try:
                key, secret = api_key_create(
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    access_labels=[label.name for label in form.cleaned_data["access_labels"]],
                    created_by=Actor(user=request.user).db_user,
                )
            except ClarionError as error:
                form.add_error(None, error.message)
            else:
                self.log_addition(request, key, [{"added": {}}])
                context.update(
                    {
                        "title": gettext("API key created"),
                        "key": key,
                        "secret": secret,
                        "changelist_url": reverse("admin:campaigns_apikey_changelist"),
                    }
                )
                response = TemplateResponse(request, "admin/campaigns/apikey/created.html", context)
                # The secret is on this page only: keep it out of every cache.
                response["Cache-Control"] = "no-store"
                return response
        return TemplateResponse(request, "admin/campaigns/apikey/add.html", context)


class _ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Rows written by services only: listed and shown, never edited here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(_ReadOnlyAdmin):
    list_display = ["created_at", "action", "campaign_link", "actor_display", "detail_summary"]
    list_filter = ["action", "created_at"]
    search_fields = ["campaign_name"]
    fields = [
        "created_at",
        "action",
        "campaign",
        "campaign_name",
        "actor",
        "api_key",
        "detail_json",
    ]
    readonly_fields = [
        "created_at",
        "action",
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
