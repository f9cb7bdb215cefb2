"""Creating, editing, duplicating and deleting campaigns.

Input is the API's camelCase campaign document (already shape-checked by a
serializer, or a version snapshot); these functions check references and
meaning and report each problem with a JSON pointer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from audiences.models import Audience, IdentityNamespace
from campaigns.audit import audit_record
from campaigns.limits import MAX_LOCALES_PER_CAMPAIGN
from campaigns.links import link_template_problem
from campaigns.liquid import template_check
from campaigns.models import (
    CONTENT_PARTS,
    LINK_PARTS,
    Campaign,
    CampaignContent,
    Category,
    ChannelConfiguration,
    Status,
    Tag,
)
from campaigns.snapshot import FIELD_POINTERS, campaign_to_data
from core.actors import Actor
from core.errors import FieldError, InvalidTransition, invalid_input, pointer
from core.locales import locale_normalize, locale_validator
from core.models import AccessLabel
from core.selectors import access_labels_held

_SIMPLE = {
    "name": "name",
    "description": "description",
    "category": "category",
    "channel": "channel",
    "defaultLocale": "default_locale",
    "localeAttribute": "locale_attribute",
}
_NESTED = {
    ("tracking", "opens"): "track_opens",
    ("tracking", "clicks"): "track_clicks",
    ("throttle", "ratePerSecond"): "throttle_rate",
    ("audience", "createNewProfiles"): "create_new_profiles",
    ("schedule", "startAt"): "start_at",
    ("schedule", "endAt"): "end_at",
}


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return parse_datetime(str(value))


class _Writer:
    """Applies a campaign document to a campaign row, collecting every error."""

    def __init__(self, campaign: Campaign, actor: Actor) -> None:
        self.campaign = campaign
        self.actor = actor
        self.errors: list[FieldError] = []
        self.tags: list[Tag] | None = None
        self.labels: list[AccessLabel] | None = None
        self.contents: dict[str, dict[str, str]] | None = None

    def error(self, at: str, detail: str) -> None:
        self.errors.append(FieldError(at, detail))

    def apply(self, data: Mapping[str, Any]) -> None:
        campaign = self.campaign
        for key, attr in _SIMPLE.items():
            if key in data:
                setattr(campaign, attr, data[key] if data[key] is not None else "")
        if data.get("defaultLocale"):
            campaign.default_locale = locale_normalize(str(data["defaultLocale"]))
        for (group, key), attr in _NESTED.items():
            if isinstance(data.get(group), Mapping) and key in data[group]:
                value = data[group][key]
                if attr in ("start_at", "end_at"):
                    value = _as_datetime(value)
                setattr(campaign, attr, value)
        if isinstance(data.get("audience"), Mapping) and "identityNamespace" in data["audience"]:
            code = data["audience"]["identityNamespace"]
            namespace = IdentityNamespace.objects.filter(code=code).first()
            if namespace is None:
                self.error(
                    "/audience/identityNamespace", _("Unknown identity namespace “%s”.") % code
                )
            else:
                campaign.identity_namespace = namespace
        if isinstance(data.get("audience"), Mapping) and "audienceId" in data["audience"]:
            self._audience(data["audience"]["audienceId"])
        if "channelConfiguration" in data:
            self._channel_configuration(data["channelConfiguration"])
        if "tags" in data:
            self.tags = [Tag(name=str(name)) for name in data["tags"] or []]
        if "accessLabels" in data:
            self._access_labels(list(data["accessLabels"] or []))
        if "content" in data:
            self._content(data["content"] or {})

    def _audience(self, value: Any) -> None:
        if not value:
            self.campaign.audience = None
            return
        try:
            self.campaign.audience = Audience.objects.get(pk=value)
        except (Audience.DoesNotExist, ValidationError, ValueError):
            self.error("/audience/audienceId", _("No audience has the id “%s”.") % value)

    def _channel_configuration(self, value: Any) -> None:
        if not value:
            self.campaign.channel_configuration = None
            return
        try:
            self.campaign.channel_configuration = ChannelConfiguration.objects.get(pk=value)
        except (ChannelConfiguration.DoesNotExist, ValidationError, ValueError):
            self.error(
                "/channelConfiguration", _("No channel configuration has the id “%s”.") % value
            )

    def _access_labels(self, names: list[str]) -> None:
        labels = list(AccessLabel.objects.filter(name__in=names))
        known = {label.name for label in labels}
        held = access_labels_held(self.actor)
        present = (
            set(self.campaign.access_labels.values_list("name", flat=True))
            if self.campaign.pk is not None
            else set()
        )
        for index, name in enumerate(names):
            if name not in known:
                self.error(pointer("accessLabels", index), _("Unknown access label “%s”.") % name)
            elif (
                held is not None
                and name not in present  # a label already there may stay
                and not any(lb.id in held for lb in labels if lb.name == name)
            ):
                self.error(
                    pointer("accessLabels", index),
                    _("You do not hold the access label “%s”, so you cannot give it.") % name,
                )
        if held is not None and self.campaign.pk is not None:
            # Nor take one away: that would lift a restriction its holders put there.
            for label in self.campaign.access_labels.exclude(name__in=names).exclude(id__in=held):
                self.error(
                    "/accessLabels",
                    _("You do not hold the access label “%s”, so you cannot remove it.")
                    % label.name,
                )
        self.labels = labels

    def _content(self, content: Mapping[str, Any]) -> None:
        channel = self.campaign.channel
        parts = CONTENT_PARTS.get(channel, {})
        if len(content) > MAX_LOCALES_PER_CAMPAIGN:
            self.error(
                "/content",
                _("At most %(max)d locales per campaign; this has %(n)d.")
                % {"max": MAX_LOCALES_PER_CAMPAIGN, "n": len(content)},
            )
        configuration = self.campaign.channel_configuration
        app_schemes = configuration.push_app_schemes if configuration is not None else []
        cleaned: dict[str, dict[str, str]] = {}
        for raw_locale, values in content.items():
            locale = locale_normalize(str(raw_locale))
            where = pointer("content", raw_locale)
            try:
                locale_validator(locale)
            except ValidationError:
                self.error(
                    where, _("“%s” is not a locale such as en, fr-CA or zh-Hant-TW.") % raw_locale
                )
                continue
            if locale in cleaned:
                self.error(where, _("The locale %s appears twice.") % locale)
                continue
            if not isinstance(values, Mapping):
                self.error(where, _("Content must be an object of parts."))
                continue
            row: dict[str, str] = {}
            for part, value in values.items():
                at = pointer("content", raw_locale, part)
                if part not in parts:
                    self.error(
                        at,
                        _("“%(part)s” is not part of %(channel)s content (parts: %(parts)s).")
                        % {"part": part, "channel": channel, "parts": ", ".join(parts)},
                    )
                    continue
                text = "" if value is None else str(value)
                problem = template_check(text)
                if problem is not None:
                    self.error(at, _("Template error: %s") % problem)
                elif (
                    part in LINK_PARTS
                    and (refused := link_template_problem(text, app_schemes)) is not None
                ):
                    self.error(at, refused)
                row[parts[part]] = text
            cleaned[locale] = row
        self.contents = cleaned

    def validate(self) -> None:
        campaign = self.campaign
        if campaign.create_new_profiles and campaign.category != Category.TRANSACTIONAL:
            self.error(
                "/audience/createNewProfiles",
                _("Only transactional campaigns can create profiles for unknown recipients."),
            )
        if self.tags is not None:
            for index, tag in enumerate(self.tags):
                try:
                    tag.clean_fields()
                except ValidationError as exc:
                    self.error(pointer("tags", index), " ".join(exc.message_dict.get("name", [])))
        try:
            campaign.full_clean(
                exclude=["identity_namespace"] if not campaign.identity_namespace_id else []
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                at = FIELD_POINTERS.get(name, "" if name == "__all__" else "/" + name)
                for message in messages:
                    self.error(at, message)
        if not campaign.identity_namespace_id and not any(
            e.pointer == "/audience/identityNamespace" for e in self.errors
        ):
            self.error("/audience/identityNamespace", _("Choose an identity namespace."))
        if self.errors:
            raise invalid_input(self.errors)

    def save(self) -> None:
        campaign = self.campaign
        campaign.last_edited_by = self.actor.db_user
        campaign.save()
        if self.tags is not None:
            campaign.tags.set([Tag.objects.get_or_create(name=tag.name)[0] for tag in self.tags])
        if self.labels is not None:
            campaign.access_labels.set(self.labels)
        if self.contents is not None:
            campaign.contents.exclude(locale__in=list(self.contents)).delete()
            for locale, fields in self.contents.items():
                CampaignContent.objects.update_or_create(
                    campaign=campaign, locale=locale, defaults=fields
                )


def campaign_assert_editable(*, campaign: Campaign) -> None:
    """Raise unless the campaign may be edited now."""
    if campaign.is_editable:
        return
    if campaign.status in (Status.LIVE, Status.SCHEDULED):
        raise InvalidTransition(
            code="draft_version_required",
            message=_("This campaign is %(status)s: create a draft version to edit it.")
            % {"status": campaign.get_status_display()},
        )
    raise InvalidTransition(
        code="not_editable",
        message=_("A campaign that is %(status)s cannot be edited.")
        % {"status": campaign.get_status_display()},
    )


def _default_namespace() -> IdentityNamespace | None:
    return IdentityNamespace.objects.filter(code="email").first()


@transaction.atomic
def campaign_create(*, data: Mapping[str, Any], actor: Actor) -> Campaign:
    """Create a draft campaign from a campaign document."""
    campaign = Campaign(created_by=actor.db_user, identity_namespace=_default_namespace())
    writer = _Writer(campaign, actor)
    writer.apply(data)
    writer.validate()
    writer.save()
    audit_record(campaign=campaign, action="create", actor=actor)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, data: Mapping[str, Any], actor: Actor) -> Campaign:
    """Apply the fields present in ``data`` (a partial document) to an editable campaign."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    campaign_assert_editable(campaign=campaign)
    before = campaign_to_data(campaign)
    writer = _Writer(campaign, actor)
    writer.apply(data)
    writer.validate()
    writer.save()
    after = campaign_to_data(campaign)
    changed = sorted(key for key in after if after[key] != before.get(key))
    audit_record(campaign=campaign, action="edit", actor=actor, detail={"changed": changed})
    return campaign


@transaction.atomic
def campaign_duplicate(*, campaign: Campaign, actor: Actor, name: str | None = None) -> Campaign:
    """A new draft with the same configuration and content (how a stopped campaign returns)."""
    data = campaign_to_data(campaign)
    data["name"] = name or _("%s (copy)") % campaign.name
    data["accessLabels"] = [label.name for label in campaign.access_labels.all()]
    copy = Campaign(created_by=actor.db_user, identity_namespace=campaign.identity_namespace)
    writer = _Writer(copy, Actor.system())  # the copy keeps labels the source already had
    writer.apply(data)
    writer.validate()
    writer.save()
    audit_record(
        campaign=copy, action="create", actor=actor, detail={"duplicateOf": str(campaign.pk)}
    )
    audit_record(campaign=campaign, action="duplicate", actor=actor, detail={"copy": str(copy.pk)})
    return copy


@transaction.atomic
def campaign_delete(*, campaign: Campaign, actor: Actor) -> None:
    """Delete a draft; campaigns that were ever activated are archived instead."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Status.DRAFT:
        raise InvalidTransition(
            code="not_deletable",
            message=_("Only drafts can be deleted; archive a %(status)s campaign instead.")
            % {"status": campaign.get_status_display()},
        )
    audit_record(campaign=campaign, action="delete", actor=actor)
    campaign.delete()


def campaign_restore_data(*, campaign: Campaign, data: Mapping[str, Any]) -> None:
    """Put a version's data back on the campaign row (discarding a draft version)."""
    writer = _Writer(campaign, Actor.system())
    frozen_only = ("schemaVersion", "channelSettings")
    writer.apply({key: value for key, value in data.items() if key not in frozen_only})
    writer.save()
