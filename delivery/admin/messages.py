"""Messages in the admin: the list (cheap on a large table), a message with its attempts."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audiences.identities import IdentityValueError
from audiences.models import identities_prefetch
from core.channels import Channel
from core.formats import datetime_html
from delivery.addresses import normalize_address
from delivery.admin import rendered
from delivery.admin.common import (
    CampaignFilter,
    ReadOnlyAdmin,
    admin_link,
    as_uuid,
    pretty_json,
    status_badge,
    visible_to,
)
from delivery.models import Message, MessageAttempt


def warning_lines(message: Message) -> list[str]:
    """The message's warnings in words (today: variables that rendered empty)."""
    lines = []
    for warning in message.warnings or []:
        if warning.get("code") == "empty_variable":
            lines.append(
                gettext("{{ %(variable)s }} rendered empty in %(field)s.")
                % {"variable": warning.get("variable", ""), "field": warning.get("field", "")}
            )
        else:
            lines.append(str(warning))
    return lines


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = [
        "accepted_at",
        "recipient",
        "channel",
        "status_display",
        "reason",
        "campaign_name",
        "attempts",
        "sent_at",
        "test_send",
    ]
    list_display_links = ["accepted_at", "recipient"]
    # The campaign's name and the execution's test flag: joined, never a query per row.
    list_select_related = ["campaign", "execution"]
    list_filter = [
        CampaignFilter,
        "status",
        "channel",
        "recipient_type",
        ("execution__is_test", admin.BooleanFieldListFilter),
        # A date filter, not a date hierarchy: the hierarchy reads the distinct dates
        # of the whole table on every page view.
        ("accepted_at", admin.DateFieldListFilter),
    ]
    search_fields = ["address", "user_id", "=execution__request_id"]
    search_help_text = _(
        "An address (written any way), a user id, a request id (exact), or a message or "
        "execution id."
    )
    show_full_result_count = False  # one COUNT less on the largest table
    show_facets = admin.ShowFacets.NEVER  # a COUNT per filter choice: too dear here
    list_per_page = 100
    fieldsets = [
        (
            _("Recipient"),
            {
                "fields": [
                    "id",
                    "recipient_type",
                    "namespace",
                    "user_id",
                    "profile_link",
                    "channel",
                    "address",
                    "push_info_pretty",
                    "locale",
                ]
            },
        ),
        (
            _("Outcome"),
            {
                "fields": [
                    "status_display",
                    "reason",
                    "reason_detail",
                    "attempts",
                    "provider_message_id",
                    "accepted_at",
                    "sent_at",
                    "updated_at",
                ]
            },
        ),
        (_("Attempts"), {"fields": ["attempt_table"]}),
        (_("Warnings"), {"fields": ["warning_list"]}),
        (
            _("What it was sent from"),
            {
                "fields": [
                    "execution_link",
                    "campaign_link",
                    "version_link",
                    "recipient_profile_pretty",
                    "recipient_context_pretty",
                ],
                "description": _(
                    "The rendered content is not stored: “View rendered message” renders it "
                    "again from this version and this data."
                ),
            },
        ),
    ]
    readonly_fields = [
        name for _title, options in fieldsets for name in options["fields"] if isinstance(name, str)
    ]

    class Media:
        css = {"all": ["delivery/admin/delivery.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return visible_to(request, super().get_queryset(request))

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Message | None:
        found = super().get_object(request, object_id, from_field)
        if found is None:
            return None
        # The change page shows the execution, campaign, version and profile: one query
        # for all, and one for the identities that name the profile.
        return (
            Message.objects.select_related("execution", "campaign", "version", "profile")
            .prefetch_related(identities_prefetch("profile__"))
            .filter(pk=found.pk)
            .first()
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Message], search_term: str
    ) -> tuple[QuerySet[Message], bool]:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return found, duplicates
        extra = Q()
        identifier = as_uuid(term)
        if identifier is not None:  # a message id (X-Clarion-Message-Id) or an execution id
            extra |= Q(pk=identifier) | Q(execution_id=identifier)
        # Also the spelling addresses are stored in: "(416) 555-0100" finds +14165550100.
        for channel in (Channel.EMAIL, Channel.SMS):
            try:
                normalized = normalize_address(channel, term)
            except IdentityValueError:
                continue
            extra |= Q(channel=channel, address=normalized)
        if extra:
            found = found | queryset.filter(extra)
        return found, duplicates

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}  # nothing to act on in bulk: the records are read-only

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        extra = [
            path(
                "<path:object_id>/rendered/",
                wrap(lambda request, object_id: rendered.rendered_view(self, request, object_id)),
                name="delivery_message_rendered",
            )
        ]
        return extra + super().get_urls()

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = {
            **(extra_context or {}),
            "rendered_url": reverse("admin:delivery_message_rendered", args=[object_id]),
        }
        return super().change_view(request, object_id, form_url, extra)

    # --- list columns ------------------------------------------------------------------
    @admin.display(description=_("recipient"), ordering="address")
    def recipient(self, obj: Message) -> str:
        if obj.user_id and obj.user_id != obj.address:
            return f"{obj.user_id} ({obj.address or '—'})"
        return obj.address or obj.user_id or "—"

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj: Message) -> SafeString:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description=_("campaign"), ordering="campaign__name")
    def campaign_name(self, obj: Message) -> str:
        return obj.campaign.name

    @admin.display(description=_("test"), boolean=True)
    def test_send(self, obj: Message) -> bool:
        return obj.execution.is_test

    # --- change page -------------------------------------------------------------------
    @admin.display(description=_("profile"))
    def profile_link(self, obj: Message) -> SafeString | str:
        if obj.profile_id is None:
            return "—"
        url = reverse("admin:audiences_profile_change", args=[obj.profile_id])
        return format_html('<a href="{}">{}</a>', url, obj.profile)

    @admin.display(description=_("push target"))
    def push_info_pretty(self, obj: Message) -> SafeString | str:
        return pretty_json(obj.push_info) if obj.push_info else "—"

    @admin.display(description=_("execution"))
    def execution_link(self, obj: Message) -> SafeString | str:
        return admin_link(obj.execution)

    @admin.display(description=_("campaign"))
    def campaign_link(self, obj: Message) -> SafeString | str:
        return admin_link(obj.campaign)

    @admin.display(description=_("version"))
    def version_link(self, obj: Message) -> SafeString | str:
        return admin_link(obj.version, f"v{obj.version.number}")

    @admin.display(description=_("profile data from the call"))
    def recipient_profile_pretty(self, obj: Message) -> SafeString:
        return pretty_json(obj.recipient_profile or {})

    @admin.display(description=_("context from the call"))
    def recipient_context_pretty(self, obj: Message) -> SafeString:
        return pretty_json(obj.recipient_context or {})

    @admin.display(description=_("attempts"))
    def attempt_table(self, obj: Message) -> SafeString | str:
        attempts = list(MessageAttempt.objects.filter(message=obj).order_by("number", "pk"))
        if not attempts:
            return gettext("No attempt yet.")
        rows = format_html_join(
            "",
            '<tr class="attempt-{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    attempt.outcome,
                    attempt.number,
                    datetime_html(attempt.at),
                    attempt.get_outcome_display(),
                    attempt.code or "—",
                    attempt.detail or attempt.provider_message_id or "",
                )
                for attempt in attempts
            ),
        )
        return format_html(
            '<table class="clarion-attempts"><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            gettext("Attempt"),
            gettext("Time"),
            gettext("Outcome"),
            gettext("Code"),
            gettext("Detail"),
            rows,
        )

    @admin.display(description=_("warnings"))
    def warning_list(self, obj: Message) -> SafeString | str:
        lines = warning_lines(obj)
        if not lines:
            return gettext("None.")
        items = format_html_join("", "<li>{}</li>", ((line,) for line in lines))
        return format_html('<ul class="clarion-warnings">{}</ul>', items)
