"""Webhook endpoints: the cached list sending reads, and enabling, disabling, saving.

Every sending batch asks which endpoints want its events. The answer (the enabled
endpoints, their event types and campaign filters) is cached, so a batch costs no
query when no endpoint matches; every change to an endpoint goes through a function
here, which moves the cache to a new generation, now and once the change commits.

The cached routes carry the generation that was current before the endpoints were
read, and are used only while it is still current. A plain "delete on change" is not
enough: a reader that read the endpoints just before a change commits would put its
stale answer back after the change's delete, and a new endpoint would get no events
until the entry expired. Both keys are read in one round trip (``get_many``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from delivery.limits import WEBHOOK_ENDPOINTS_CACHE_SECONDS
from delivery.models import WebhookEndpoint

WEBHOOK_ROUTES_CACHE_KEY = "delivery:webhook-endpoints:v2"
WEBHOOK_ROUTES_GENERATION_KEY = "delivery:webhook-endpoints:generation"


@dataclass(frozen=True, slots=True)
class EndpointRoute:
    """What the queue needs to know of one enabled endpoint."""

    id: int
    event_types: frozenset[str]
    campaign_ids: frozenset[object]  # empty: every campaign

    def wants(self, event_type: str, campaign_id: object) -> bool:
        return event_type in self.event_types and (
            not self.campaign_ids or campaign_id in self.campaign_ids
        )


class _Kept(threading.local):
    routes: list[EndpointRoute] | None = None
    depth = 0


_kept = _Kept()


@contextmanager
def webhook_routes_kept() -> Iterator[None]:
    """Within the block, this thread reads the routes once and keeps them.

    A send batch records each email's outcome in its own transaction: without this,
    each would ask the cache (a Redis round trip) for the same routes. An endpoint
    changed during a batch takes effect at the next batch, as it does for a change
    made just after a batch.
    """
    _kept.depth += 1
    try:
        yield
    finally:
        _kept.depth -= 1
        if not _kept.depth:
            _kept.routes = None


def webhook_routes() -> list[EndpointRoute]:
    """The enabled endpoints (cached; one query for the endpoints and their campaigns
    when the cache is cold; read once within ``webhook_routes_kept``)."""
    if _kept.routes is not None:
        return _kept.routes
    cached = cache.get_many([WEBHOOK_ROUTES_GENERATION_KEY, WEBHOOK_ROUTES_CACHE_KEY])
    generation = cached.get(WEBHOOK_ROUTES_GENERATION_KEY, 0)
    entry: tuple[int, list[EndpointRoute]] | None = cached.get(WEBHOOK_ROUTES_CACHE_KEY)
    if entry is not None and entry[0] == generation:
        routes = entry[1]
    else:
        routes = [
            EndpointRoute(
                id=endpoint.pk,
                event_types=frozenset(endpoint.event_types or ()),
                campaign_ids=frozenset(c.pk for c in endpoint.campaigns.all()),
            )
            for endpoint in WebhookEndpoint.objects.filter(enabled=True).prefetch_related(
                "campaigns"
            )
        ]
        cache.set(WEBHOOK_ROUTES_CACHE_KEY, (generation, routes), WEBHOOK_ENDPOINTS_CACHE_SECONDS)
    if _kept.depth:
        _kept.routes = routes
    return routes


def _generation_next() -> None:
    if cache.add(WEBHOOK_ROUTES_GENERATION_KEY, 1, timeout=None):
        return
    try:
        cache.incr(WEBHOOK_ROUTES_GENERATION_KEY)
    except ValueError:  # expired or evicted between the two calls
        cache.add(WEBHOOK_ROUTES_GENERATION_KEY, 1, timeout=None)


def webhook_endpoints_changed() -> None:
    """Make the cached routes stale now and again once the current transaction commits
    (a reader between the two puts back what it read before the commit)."""
    _kept.routes = None
    _generation_next()
    transaction.on_commit(_generation_next, robust=True)


def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, reason: str, at: datetime) -> bool:
    """Disable ``endpoint`` with ``reason``; False when it was disabled already."""
    changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
        enabled=False, disabled_reason=reason, disabled_at=at, updated_at=at
    )
    if changed:
        endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = False, reason, at
        webhook_endpoints_changed()
    return bool(changed)


def webhook_endpoints_enable(*, endpoints: Iterable[WebhookEndpoint]) -> int:
    """Enable ``endpoints`` again: their reason is cleared, their pending deliveries resume."""
    ids = [endpoint.pk for endpoint in endpoints]
    changed = WebhookEndpoint.objects.filter(pk__in=ids, enabled=False).update(
        enabled=True, disabled_reason="", disabled_at=None, updated_at=timezone.now()
    )
    webhook_endpoints_changed()
    return changed


def webhook_endpoint_saved(*, endpoint: WebhookEndpoint, enabled_before: bool | None) -> None:
    """After the admin saved ``endpoint`` (its campaigns included): keep the disabled
    reason true (cleared when a user enabled it, set when a user disabled it) and the
    cache fresh."""
    if endpoint.enabled and endpoint.disabled_reason:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_reason="", disabled_at=None)
        endpoint.disabled_reason, endpoint.disabled_at = "", None
    elif not endpoint.enabled and enabled_before and not endpoint.disabled_reason:
        now = timezone.now()
        reason = _("Disabled by a user.")
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            disabled_reason=reason, disabled_at=now
        )
        endpoint.disabled_reason, endpoint.disabled_at = reason, now
    webhook_endpoints_changed()
