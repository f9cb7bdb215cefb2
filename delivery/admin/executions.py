"""Executions in the admin: one row per accepted trigger call or test send, read-only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from delivery.admin.common import (
    CampaignFilter,
    ReadOnlyAdmin,
    admin_link,
    as_uuid,
    pretty_json,
    status_badge,
    visible_to,
)
from delivery.models import Execution, MessageStatus
from delivery.services.executions import execution_counts


def messages_url(**filters: object) -> str:
    """The message list filtered by ``filters`` (``execution=…``, ``status__exact=…``)."""
    query = urlencode({name: str(value) for name, value in filters.items()})
    return reverse("admin:delivery_message_changelist") + "?" + query


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "short_id",
        "kind",
        "campaign",
        "status_display",
        "targeted_count",
        "request_id",
        "api_key",
        "is_test",
    ]
    list_display_links = ["created_at", "short_id"]
    list_select_related = ["campaign", "api_key"]
    list_filter = [
        CampaignFilter,
        "status",
        "kind",
        ("campaign__channel", admin.ChoicesFieldListFilter),
        "is_test",
    ]
    date_hierarchy = "created_at"
    search_fields = ["=request_id"]
    search_help_text = _("A request id (exact), or an execution id.")
    show_full_result_count = False  # one COUNT less on a large table
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "id",
                    "kind",
                    "campaign_link",
                    "version_link",
                    "status_display",
                    "is_test",
                    "request_id",
                    "api_key_link",
                    "audience",
                    "schedule",
                ]
            },
        ),
        (_("Messages"), {"fields": ["targeted_count", "counts_table", "messages_link"]}),
        (_("Data"), {"fields": ["context_pretty", "error"]}),
        (
            _("Times"),
            {"fields": ["created_at", "started_at", "heartbeat_at", "finished_at"]},
        ),
    ]
    readonly_fields = [
        "id",
        "kind",
        "campaign_link",
        "version_link",
        "status_display",
        "is_test",
        "request_id",
        "api_key_link",
        "audience",
        "schedule",
        "targeted_count",
        "counts_table",
        "messages_link",
        "context_pretty",
        "error",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
    ]

    class Media:
        css = {"all": ["delivery/admin/delivery.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Execution]:
        queryset = super().get_queryset(request).select_related("version")
        return visible_to(request, queryset)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Execution], search_term: str
    ) -> tuple[QuerySet[Execution], bool]:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        execution_id = as_uuid(search_term)
        if execution_id is not None:
            found = found | queryset.filter(pk=execution_id)
        return found, duplicates

    @admin.display(description=_("execution"))
    def short_id(self, obj: Execution) -> str:
        return str(obj.pk)[:8]

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj: Execution) -> SafeString:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description=_("campaign"))
    def campaign_link(self, obj: Execution) -> SafeString | str:
        return admin_link(obj.campaign)

    @admin.display(description=_("version"))
    def version_link(self, obj: Execution) -> SafeString | str:
        return admin_link(obj.version, f"v{obj.version.number}")

    @admin.display(description=_("API key"))
    def api_key_link(self, obj: Execution) -> SafeString | str:
        if obj.api_key_id is None:
            return gettext("— (a test send, or a key since deleted)")
        return admin_link(obj.api_key)

    @admin.display(description=_("messages by status"))
    def counts_table(self, obj: Execution) -> SafeString:
        counts = execution_counts(obj)
        rows = format_html_join(
            "",
            '<tr class="count-{}"><th scope="row">{}</th><td><a href="{}">{}</a></td></tr>',
            (
                (
                    status,
                    label,
                    messages_url(execution=obj.pk, status__exact=status),
                    counts[status],
                )
                for status, label in MessageStatus.choices
            ),
        )
        return format_html('<table class="clarion-counts"><tbody>{}</tbody></table>', rows)

    @admin.display(description=_("messages"))
    def messages_link(self, obj: Execution) -> SafeString:
        return format_html(
            '<a class="button" href="{}">{}</a>',
            messages_url(execution=obj.pk),
            gettext("Browse this execution's messages"),
        )

    @admin.display(description=_("context"))
    def context_pretty(self, obj: Execution) -> SafeString:
        return pretty_json(obj.context or {})

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}  # nothing to act on in bulk: the records are read-only
