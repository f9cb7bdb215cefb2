"""Building the campaign change form's POST data in admin tests."""

from __future__ import annotations

from typing import Any

from audiences.models import IdentityNamespace
from campaigns.models import Campaign, ChannelConfiguration

CONTENT_FIELDS = ("subject", "preheader", "html", "text", "body", "title", "deep_link", "image_url")


def campaign_form_data(
    *,
    configuration: ChannelConfiguration | None,
    contents: list[dict[str, Any]],
    campaign: Campaign | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """The change form as a browser would post it; ``contents`` are the inline rows."""
    data: dict[str, Any] = {
        "name": "Welcome",
        "description": "",
        "category": "transactional",
        "channel": "email",
        "channel_configuration": str(configuration.pk) if configuration else "",
        "track_opens": "on",
        "track_clicks": "on",
        "throttle_rate": "",
        "default_locale": "en",
        "locale_attribute": "",
        "identity_namespace": str(IdentityNamespace.objects.get(code="email").pk),
        "audience": "",
        "start_at_0": "",
        "start_at_1": "",
        "end_at_0": "",
        "end_at_1": "",
        "contents-TOTAL_FORMS": str(len(contents)),
        "contents-INITIAL_FORMS": "0",
        "contents-MIN_NUM_FORMS": "0",
        "contents-MAX_NUM_FORMS": "50",
    }
    existing = list(campaign.contents.order_by("locale")) if campaign is not None else []
    data["contents-INITIAL_FORMS"] = str(len(existing))
    for index, row in enumerate(contents):
        prefix = f"contents-{index}-"
        if index < len(existing):
            data[prefix + "id"] = str(existing[index].pk)
            data[prefix + "campaign"] = str(campaign.pk) if campaign is not None else ""
        for name in ("locale", *CONTENT_FIELDS):
            data[prefix + name] = row.get(name, "")
    for name, value in fields.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data
