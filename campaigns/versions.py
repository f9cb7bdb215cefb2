"""Reading frozen versions: the typed snapshot, and rendering a version's content.

A ``CampaignVersion`` stores its snapshot as JSON (``campaigns.snapshot``).
Everything that acts on a live campaign (delivery, the dispatcher, previews
of live campaigns) reads it through ``version_snapshot``, which checks the
snapshot's schema number and turns it into typed values once per version and
process; ``version_render`` is the one function that renders a version's
content for a recipient.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from types import MappingProxyType
from typing import Any
from uuid import UUID

from django.utils.translation import gettext as _

from campaigns import limits
from campaigns.bounded_cache import BoundedCache
from campaigns.liquid import version_template
from campaigns.models import HTML_PARTS, CampaignVersion, Category
from campaigns.rendering import RenderedMessage, content_render
from campaigns.snapshot import SNAPSHOT_SCHEMA_VERSION
from core.channels import Channel
from core.errors import ClarionError


@dataclass
class SnapshotSchemaError(ClarionError):
    """A snapshot this code cannot read (frozen by a newer Clarion, or damaged): 409."""

    code: str = "unreadable_version"
    status: int = 409


@dataclass(frozen=True)
class Tracking:
    opens: bool
    clicks: bool


@dataclass(frozen=True)
class AudienceSettings:
    identity_namespace: str
    create_new_profiles: bool
    audience_id: UUID | None


@dataclass(frozen=True)
class Schedule:
    """The sending window; None is open-ended. Always timezone-aware."""

    start_at: datetime | None
    end_at: datetime | None

    def is_open(self, now: datetime) -> bool:
        return (self.start_at is None or self.start_at <= now) and (
            self.end_at is None or now < self.end_at
        )


@dataclass(frozen=True)
class VersionSnapshot:
    """One frozen version of a campaign, typed. ``content`` is per locale, per API part name."""

    version_id: UUID
    campaign_id: UUID
    number: int
    schema_version: int
    name: str
    category: Category
    channel: Channel
    channel_configuration_id: UUID | None
    channel_settings: Mapping[str, Any]
    app_schemes: tuple[str, ...]
    tracking: Tracking
    throttle_rate: int | None
    audience: AudienceSettings
    schedule: Schedule
    default_locale: str
    locale_attribute: str
    access_labels: tuple[str, ...]
    content: Mapping[str, Mapping[str, str]]

    def sources(self) -> list[str]:
        """Every template of every locale (for variable listings)."""
        return [source for parts in self.content.values() for source in parts.values()]

    @cached_property
    def mentions_unsubscribe_url(self) -> bool:
        """Whether a template may read ``{{ unsubscribe_url }}``: only then does sending
        sign each message's link (a token and a URL reversal per message)."""
        return any("unsubscribe_url" in source for source in self.sources())


_SNAPSHOTS: BoundedCache[UUID, VersionSnapshot] = BoundedCache(
    max_entries=limits.VERSION_SNAPSHOT_CACHE_ENTRIES,
    max_size=limits.VERSION_SNAPSHOT_CACHE_CHARS,
)


def _datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = datetime.fromisoformat(str(value))
    # Snapshots write UTC with a Z; a naive value can only be UTC as well.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _uuid(value: Any) -> UUID | None:
    return UUID(str(value)) if value else None


def _schema_version(version: CampaignVersion, data: Mapping[str, Any]) -> int:
    number = data.get("schemaVersion", 1)  # frozen before the number existed: schema 1
    if isinstance(number, bool) or number != SNAPSHOT_SCHEMA_VERSION:
        raise SnapshotSchemaError(
            _(
                "Campaign version %(id)s was frozen with snapshot schema %(found)r; this Clarion "
                "reads schema %(known)d. Upgrade Clarion on every process before reading it."
            )
            % {"id": version.pk, "found": number, "known": SNAPSHOT_SCHEMA_VERSION}
        )
    return SNAPSHOT_SCHEMA_VERSION


def _read(version: CampaignVersion) -> VersionSnapshot:
    data = version.snapshot
    if not isinstance(data, Mapping):
        raise SnapshotSchemaError(_("Campaign version %s has no snapshot object.") % version.pk)
    schema = _schema_version(version, data)
    channel_settings = dict(data.get("channelSettings") or {})
    audience = data.get("audience") or {}
    schedule = data.get("schedule") or {}
    tracking = data.get("tracking") or {}
    try:
        return VersionSnapshot(
            version_id=version.pk,
            campaign_id=version.campaign_id,
            number=version.number,
            schema_version=schema,
            name=str(data["name"]),
            category=Category(data["category"]),
            channel=Channel(data["channel"]),
            channel_configuration_id=_uuid(data.get("channelConfiguration")),
            channel_settings=MappingProxyType(channel_settings),
            app_schemes=tuple(str(s).lower() for s in channel_settings.get("appSchemes") or ()),
            tracking=Tracking(
                opens=bool(tracking.get("opens", False)), clicks=bool(tracking.get("clicks", False))
            ),
            throttle_rate=(data.get("throttle") or {}).get("ratePerSecond"),
            audience=AudienceSettings(
                identity_namespace=str(audience["identityNamespace"]),
                create_new_profiles=bool(audience.get("createNewProfiles", False)),
                audience_id=_uuid(audience.get("audienceId")),
            ),
            schedule=Schedule(
                start_at=_datetime(schedule.get("startAt")), end_at=_datetime(schedule.get("endAt"))
            ),
            default_locale=str(data["defaultLocale"]),
            locale_attribute=str(data.get("localeAttribute") or ""),
            access_labels=tuple(data.get("accessLabels") or ()),
            content=MappingProxyType(
                {
                    str(locale): MappingProxyType({str(k): str(v) for k, v in parts.items()})
                    for locale, parts in (data.get("content") or {}).items()
                }
            ),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise SnapshotSchemaError(
            _("Campaign version %(id)s has a damaged snapshot: %(error)s")
            % {"id": version.pk, "error": repr(error)}
        ) from error


def version_snapshot(version: CampaignVersion) -> VersionSnapshot:
    """The typed snapshot of ``version``, read once per process (versions never change).

    Raises SnapshotSchemaError for a schema number this code does not know.
    """
    found = _SNAPSHOTS.get(version.pk)
    if found is not None:
        return found
    snapshot = _read(version)
    size = sum(len(source) for source in snapshot.sources())
    return _SNAPSHOTS.put(version.pk, snapshot, size=size)


def version_snapshot_by_id(version_id: UUID) -> VersionSnapshot:
    """``version_snapshot`` by id: no query once the process has read the version."""
    found = _SNAPSHOTS.get(version_id)
    if found is not None:
        return found
    return version_snapshot(CampaignVersion.objects.get(pk=version_id))


def version_render(
    *,
    version: CampaignVersion | UUID,
    locale: str | None,
    profile: Mapping[str, Any],
    context: Mapping[str, Any],
    variables: Mapping[str, str] | None = None,
) -> RenderedMessage:
    """Render ``version``'s content for a recipient, as delivery sends it and previews show it.

    ``variables`` are the per-message values Clarion fills (``{{ unsubscribe_url }}``).

    The locale falls back ``pt-BR -> pt -> default``. Each part is rendered with the
    version's parsed template (cached per version, locale and part); HTML parts
    escape data. Raises InvalidInput: ``no_content_for_locale``, ``template_error``,
    or ``link_not_allowed`` when a rendered push link is not https: or an allowed app
    scheme, each with a pointer per content part.
    """
    snapshot = (
        version_snapshot_by_id(version) if isinstance(version, UUID) else version_snapshot(version)
    )
    return content_render(
        channel=snapshot.channel,
        contents=snapshot.content,
        default_locale=snapshot.default_locale,
        locale=locale,
        profile=profile,
        context=context,
        app_schemes=snapshot.app_schemes,
        variables=variables,
        template=lambda content_locale, part, source: version_template(
            version_id=snapshot.version_id,
            locale=content_locale,
            part=part,
            source=source,
            html=part in HTML_PARTS,
        ),
    )
