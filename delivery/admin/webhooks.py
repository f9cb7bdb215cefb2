"""Outbound webhooks in the admin: endpoints (with "Send test event" and re-enabling),
their deliveries and every attempt, read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.admin_display import DualListHelpMixin
from core.formats import datetime_html
from delivery.admin.common import ReadOnlyAdmin, admin_link, as_uuid, pretty_json, status_badge
from delivery.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEventType
from delivery.webhooks.endpoints import (
    webhook_endpoint_saved,
    webhook_endpoints_changed,
    webhook_endpoints_enable,
)
from delivery.webhooks.sending import AttemptOutcome, webhook_endpoint_test
from delivery.webhooks.targets import TargetRefused, target_check

# Attempts shown on an endpoint's or a delivery's page (the newest).
ATTEMPTS_SHOWN = 25


class WebhookEndpointForm(forms.ModelForm[WebhookEndpoint]):
    url = forms.URLField(label=_("URL"), max_length=2000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("Event types"),
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "event_types", "campaigns", "enabled"]

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"])
        try:
            target_check(url, allow_private=settings.CLARION_WEBHOOKS_ALLOW_PRIVATE)
        except TargetRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return url


def attempts_table(attempts: QuerySet[WebhookAttempt]) -> SafeString | str:
    rows = list(attempts[:ATTEMPTS_SHOWN])
    if not rows:
        return gettext("No attempt yet.")
    header = format_html(
        "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        gettext("time"),
        gettext("attempt"),
        gettext("event"),
        gettext("HTTP status"),
        gettext("time taken (ms)"),
        gettext("error or response"),
    )
    body = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
        (
            (
                datetime_html(a.at),
                a.number,
                admin_link(a.delivery, a.delivery.event_type),
                a.status_code if a.status_code is not None else "—",
                a.duration_ms,
                (a.error or a.response_excerpt)[:300],
            )
            for a in rows
        ),
    )
    return format_html('<table class="clarion-webhook-attempts">{}{}</table>', header, body)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(DualListHelpMixin, admin.ModelAdmin[WebhookEndpoint]):
    form = WebhookEndpointForm
    change_form_template = "admin/delivery/webhookendpoint/change_form.html"
    list_display = ["name", "url", "enabled", "disabled_reason", "last_success_at"]
    list_filter = ["enabled"]
    search_fields = ["name", "url"]
    filter_horizontal = ["campaigns"]
    readonly_fields = ["secret", "disabled_reason", "disabled_at", "last_success_at", "attempts"]
    actions = ["enable_endpoints", "send_test_events"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        main = ["name", "url", "event_types", "campaigns", "enabled"]
        if obj is None:
            return [(None, {"fields": main})]
        # The signing secret lets its holder forge events: only for who may change endpoints.
        signing = (
            [(_("Signing"), {"fields": ["secret"]})]
            if self.has_change_permission(request, obj)
            else []
        )
        return [
            (None, {"fields": main}),
            *signing,
            (_("Health"), {"fields": ["disabled_reason", "disabled_at", "last_success_at"]}),
            (_("Recent attempts"), {"fields": ["attempts"]}),
        ]

    @admin.display(description=_("Attempts"))
    def attempts(self, obj: WebhookEndpoint) -> SafeString | str:
        return attempts_table(obj.attempt_log.select_related("delivery").order_by("-at"))

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        self._enabled_before = (
            WebhookEndpoint.objects.filter(pk=obj.pk).values_list("enabled", flat=True).first()
            if change
            else None
        )
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        webhook_endpoint_saved(
            endpoint=form.instance, enabled_before=getattr(self, "_enabled_before", None)
        )

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        super().delete_model(request, obj)
        webhook_endpoints_changed()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        super().delete_queryset(request, queryset)
        webhook_endpoints_changed()

    @admin.action(description=_("Enable the selected endpoints again"), permissions=["change"])
    def enable_endpoints(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        count = webhook_endpoints_enable(endpoints=queryset)
        self.message_user(
            request,
            ngettext("%(count)d endpoint enabled.", "%(count)d endpoints enabled.", count)
            % {"count": count},
        )

    @admin.action(description=_("Send a test event"), permissions=["change"])
    def send_test_events(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            self._report(request, endpoint, webhook_endpoint_test(endpoint=endpoint))

    def _report(
        self, request: HttpRequest, endpoint: WebhookEndpoint, outcome: AttemptOutcome
    ) -> None:
        attempt = outcome.attempt
        if attempt.succeeded:
            self.message_user(
                request,
                gettext("Test event sent to %(endpoint)s: HTTP %(status)s in %(ms)d ms.")
                % {"endpoint": endpoint, "status": attempt.status_code, "ms": attempt.duration_ms},
                messages.SUCCESS,
            )
            return
        what = (
            gettext("HTTP %(status)s") % {"status": attempt.status_code}
            if attempt.status_code is not None
            else attempt.error
        )
        self.message_user(
            request,
            gettext("The test event to %(endpoint)s failed: %(what)s")
            % {"endpoint": endpoint, "what": what},
            messages.ERROR,
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/test/",
                self.admin_site.admin_view(require_POST(self.test_view)),
                name="delivery_webhookendpoint_test",
            ),
            *super().get_urls(),
        ]

    def test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        if not self.has_change_permission(request, endpoint):
            return HttpResponse(status=403)
        self._report(request, endpoint, webhook_endpoint_test(endpoint=endpoint))
        return HttpResponseRedirect(reverse("admin:delivery_webhookendpoint_change", args=[pk]))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "event_type",
        "endpoint",
        "status_display",
        "attempts",
        "next_attempt_at",
        "message_id",
    ]
    list_filter = ["status", "event_type", "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["=event_id", "=message_id"]
    show_full_result_count = False
    fields = (
        "event_id",
        "event_type",
        "endpoint",
        "status_display",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "created_at",
        "message_id",
        "payload_json",
        "attempt_table",
    )
    readonly_fields = fields

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        # Ids only: a UUID that does not parse finds nothing (never a full scan).
        term = as_uuid(search_term)
        if not search_term:
            return queryset, False
        if term is None:
            return queryset.none(), False
        return queryset.filter(event_id=term) | queryset.filter(message_id=term), False

    @admin.display(description=_("status"))
    def status_display(self, obj: WebhookDelivery) -> SafeString:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description=_("payload"))
    def payload_json(self, obj: WebhookDelivery) -> SafeString:
        return pretty_json(obj.payload)

    @admin.display(description=_("Attempts"))
    def attempt_table(self, obj: WebhookDelivery) -> SafeString | str:
        return attempts_table(obj.attempt_log.select_related("delivery").order_by("-at"))


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "endpoint",
        "delivery_link",
        "number",
        "succeeded",
        "status_code",
        "duration_ms",
        "error",
    ]
    list_filter = ["succeeded", "endpoint"]
    list_select_related = ["endpoint", "delivery"]
    show_full_result_count = False

    @admin.display(description=_("delivery"))
    def delivery_link(self, obj: WebhookAttempt) -> SafeString | str:
        return admin_link(obj.delivery, obj.delivery.event_type)
