"""What the delivery admins share: read-only rules, visibility, the campaign filter."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from campaigns.selectors import campaign_list_visible
from core.actors import Actor
from core.selectors import access_labels_not_held


def actor_of(request: HttpRequest) -> Actor:
    return Actor(user=request.user)


def visible_to(request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Rows of campaigns whose every access label the user holds (as the campaign admin).

    One subquery, no query of its own; none at all for a user who holds every label.
    """
    actor = actor_of(request)
    if access_labels_not_held(actor) is None:
        return queryset
    return queryset.filter(campaign__in=campaign_list_visible(actor=actor).values("pk"))


def as_uuid(term: str) -> UUID | None:
    try:
        return UUID(term.strip())
    except ValueError:
        return None


def pretty_json(value: Any) -> SafeString:
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    return format_html('<pre class="clarion-json">{}</pre>', text)


def admin_link(obj: Model | None, label: object = None) -> SafeString | str:
    """A link to ``obj``'s admin page (no query: the URL is built from its pk)."""
    if obj is None:
        return "—"
    meta = obj._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else obj)


def status_badge(value: str, label: str) -> SafeString:
    return format_html('<span class="clarion-delivery-status status-{}">{}</span>', value, label)


class CampaignFilter(admin.SimpleListFilter):
    """The campaigns the user may see that were ever activated: one query on campaigns.

    Not a related-field filter: that would read every distinct campaign of the
    message table, the largest one, on each page view.
    """

    title = _("campaign")
    parameter_name = "campaign"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        campaigns = (
            campaign_list_visible(actor=actor_of(request))
            .filter(live_version__isnull=False)
            .order_by("name")
            .values_list("pk", "name")
        )
        return [(str(pk), name) for pk, name in campaigns]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        chosen = as_uuid(self.value() or "")
        if self.value() and chosen is None:
            return queryset.none()
        return queryset.filter(campaign_id=chosen) if chosen else queryset


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Delivery records are written by the pipeline only: listed and shown, never edited
    or deleted by hand (a message's history is evidence of what was sent)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
