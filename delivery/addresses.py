"""Where a message goes: the recipient's address for the campaign's channel.

``channelData`` in the call wins; then what the stored profile holds; then the
recipient's ``userId`` when its namespace is of the channel's kind (an email
namespace for email, a phone namespace for SMS). Every address is normalised
the way identities are (lower-cased email, E.164 phone numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from audiences.identities import IdentityValueError, normalize_email, normalize_phone
from audiences.models import IdentityNamespace, Profile, PushRegistration
from core.channels import Channel
from core.errors import FieldError, pointer
from delivery.calls import TriggerRecipient

# Which namespace kind holds an address of each channel.
_KIND_OF_CHANNEL = {
    Channel.EMAIL: IdentityNamespace.ValueKind.EMAIL,
    Channel.SMS: IdentityNamespace.ValueKind.PHONE,
}
_CHANNEL_DATA_FIELD = {Channel.EMAIL: "emailAddress", Channel.SMS: "mobilePhoneNumber"}


@dataclass(frozen=True)
class Address:
    """A normalised address; for push, the device (``push_info``) as well."""

    value: str
    push_info: dict[str, Any] | None = None


def normalize_address(channel: str, value: str) -> str:
    """``value`` as an address of ``channel``; raises IdentityValueError."""
    if channel == Channel.EMAIL:
        return normalize_email(value)
    if channel == Channel.SMS:
        return normalize_phone(value)
    if not value.strip():
        raise IdentityValueError(_("The push token is empty."))
    return value.strip()


def push_info(registration: PushRegistration) -> dict[str, Any]:
    info: dict[str, Any] = {
        "appID": registration.app_id,
        "platform": registration.platform,
        "token": registration.token,
    }
    if registration.subscription:
        info["subscription"] = registration.subscription
    return info


def profile_address(
    channel: str, profile: Profile, registrations: list[PushRegistration], app_id: str = ""
) -> Address | None:
    """The address a stored profile has for ``channel``, or None."""
    if channel == Channel.EMAIL:
        return Address(profile.email_address) if profile.email_address else None
    if channel == Channel.SMS:
        return Address(profile.mobile_number) if profile.mobile_number else None
    for registration in registrations:  # most recently seen first
        if not app_id or registration.app_id == app_id:
            return Address(registration.token, push_info(registration))
    return None


def recipient_address(
    *,
    channel: str,
    index: int,
    recipient: TriggerRecipient,
    namespace_kind: str,
    stored: Address | None,
) -> Address | FieldError:
    """The address for recipient number ``index`` of a call, or the error that names it."""
    if channel == Channel.PUSH:
        if recipient.push is not None:
            at = pointer("recipients", index, "channelData", "pushInfo", "token")
            try:
                token = normalize_address(channel, recipient.push.token)
            except IdentityValueError as error:
                return FieldError(at, str(error))
            info = {
                "appID": recipient.push.app_id,
                "platform": recipient.push.platform,
                "token": token,
            }
            return Address(token, info)
        if stored is not None:
            return stored
        return FieldError(
            pointer("recipients", index, "channelData", "pushInfo"),
            _("No push registration is known for this recipient; send channelData.pushInfo."),
        )
    field = _CHANNEL_DATA_FIELD[Channel(channel)]
    given = recipient.email_address if channel == Channel.EMAIL else recipient.mobile_phone_number
    if given:
        candidate, at = given, pointer("recipients", index, "channelData", field)
    elif stored is not None:
        return stored
    elif namespace_kind == _KIND_OF_CHANNEL[Channel(channel)]:
        candidate, at = recipient.user_id, pointer("recipients", index, "userId")
    else:
        return FieldError(
            pointer("recipients", index, "channelData", field),
            _("No %(channel)s address is known for this recipient; send channelData.%(field)s.")
            % {"channel": channel, "field": field},
        )
    try:
        return Address(normalize_address(channel, candidate))
    except IdentityValueError as error:
        return FieldError(at, str(error))
