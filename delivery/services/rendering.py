"""Rendering one message from what it recorded: its version, its recipient's data.

The rendered content is never stored: sending renders it, and the admin's "view
rendered message" renders it again the same way, through ``message_render``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audiences.services.profiles import deep_merge
from campaigns.rendering import RenderedMessage
from campaigns.versions import VersionSnapshot, version_render, version_snapshot_by_id
from delivery.models import Message
from delivery.tracking.content import message_unsubscribe_url


def message_locale(
    snapshot: VersionSnapshot, message: Message, profile: Mapping[str, Any]
) -> str | None:
    """The locale the recipient asks for; ``version_render`` falls back from it
    (``pt-BR -> pt -> default``).

    The campaign's locale attribute (a path in the merged profile, such as
    ``preferences.language``) wins when it holds a value; then the stored
    profile's locale; then a ``locale`` the call's profile data carries.
    """
    if snapshot.locale_attribute:
        value: Any = profile
        for step in snapshot.locale_attribute.split("."):
            value = value.get(step) if isinstance(value, Mapping) else None
        if isinstance(value, str) and value.strip():
            return value
    if message.profile is not None and message.profile.locale:
        return message.profile.locale
    locale = profile.get("locale")
    return locale if isinstance(locale, str) and locale.strip() else None


def message_render(message: Message, snapshot: VersionSnapshot | None = None) -> RenderedMessage:
    """Render ``message`` as it was (or will be) sent, from its version and recorded data.

    ``profile`` is the stored attributes deep-merged with the call's ``profile``;
    ``context`` is the call-level context deep-merged with the recipient's (the
    recipient's wins). ``{{ unsubscribe_url }}`` is the message's signed unsubscribe
    link, signed only for a version whose content mentions it. Raises InvalidInput when the
    content does not render.
    """
    snapshot = snapshot or version_snapshot_by_id(message.version_id)
    stored: Mapping[str, Any] = message.profile.attributes if message.profile is not None else {}
    profile = deep_merge(stored or {}, message.recipient_profile or {})
    context = deep_merge(message.execution.context or {}, message.recipient_context or {})
    variables = (
        {"unsubscribe_url": message_unsubscribe_url(message.pk, snapshot.channel_settings)}
        if snapshot.mentions_unsubscribe_url
        else None
    )
    return version_render(
        version=message.version_id,
        locale=message_locale(snapshot, message, profile),
        profile=profile,
        context=context,
        variables=variables,
    )
