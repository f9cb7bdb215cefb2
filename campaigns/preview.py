"""Previewing content, and the ready-to-paste trigger request of a live campaign.

Once a campaign has a live version, previews and the curl sample show that
version: what trigger calls send, not the row's unpublished draft edits. A
draft (no version yet) previews its row.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from campaigns.liquid import template_parse, template_variables
from campaigns.models import HTML_PARTS, Campaign, Category
from campaigns.rendering import RenderedMessage, content_render
from campaigns.versions import version_render, version_snapshot
from core.channels import Channel

# What {{ unsubscribe_url }} shows in previews: the landing page's own example (delivery
# serves /u/preview without a message behind it). A sent message gets its signed link.
UNSUBSCRIBE_PREVIEW_PATH = "/u/preview"


def preview_variables() -> dict[str, str]:
    """The per-message variables (campaigns.liquid.MESSAGE_VARIABLES) a preview shows."""
    return {"unsubscribe_url": settings.CLARION_PUBLIC_URL + UNSUBSCRIBE_PREVIEW_PATH}


# Sample address per identity namespace, for the curl request.
_SAMPLE_USER_IDS = {"email": "ana@example.com", "phone": "+14165550100"}


@dataclass(frozen=True)
class PreviewSource:
    """What a preview shows: the live version's settings and content, or the draft row's."""

    channel: str
    identity_namespace: str
    default_locale: str
    content: Mapping[str, Mapping[str, str]]
    is_live_version: bool
    category: str = Category.TRANSACTIONAL
    create_new_profiles: bool = False
    channel_settings: Mapping[str, Any] = field(default_factory=dict)


def campaign_preview_source(campaign: Campaign) -> PreviewSource:
    """The live version once the campaign has one (what is sent), else the draft row."""
    version = campaign.live_version
    if version is not None:
        snapshot = version_snapshot(version)
        return PreviewSource(
            channel=snapshot.channel,
            identity_namespace=snapshot.audience.identity_namespace,
            default_locale=snapshot.default_locale,
            content=snapshot.content,
            is_live_version=True,
            category=snapshot.category,
            create_new_profiles=snapshot.audience.create_new_profiles,
            channel_settings=snapshot.channel_settings,
        )
    return PreviewSource(
        channel=campaign.channel,
        identity_namespace=campaign.identity_namespace.code,
        default_locale=campaign.default_locale,
        content={c.locale: c.parts(campaign.channel) for c in campaign.contents.all()},
        is_live_version=False,
        category=campaign.category,
        create_new_profiles=campaign.create_new_profiles,
        channel_settings=(
            campaign.channel_configuration.summary() if campaign.channel_configuration else {}
        ),
    )


def campaign_preview(
    *,
    campaign: Campaign,
    locale: str | None,
    profile: Mapping[str, Any],
    context: Mapping[str, Any],
) -> RenderedMessage:
    """Render the content a recipient with ``locale`` would get.

    A campaign with a live version renders it with ``version_render``, as
    delivery does; a draft renders its row. Raises InvalidInput with a pointer
    per part that fails (``template_error``, ``link_not_allowed``) or
    ``no_content_for_locale``.
    """
    if campaign.live_version is not None:
        return version_render(
            version=campaign.live_version,
            locale=locale,
            profile=profile,
            context=context,
            variables=preview_variables(),
        )
    draft = campaign_preview_source(campaign)
    configuration = campaign.channel_configuration
    return content_render(
        channel=draft.channel,
        contents=draft.content,
        default_locale=draft.default_locale,
        locale=locale,
        profile=profile,
        context=context,
        app_schemes=configuration.push_app_schemes if configuration is not None else (),
        variables=preview_variables(),
        template=lambda _locale, part, source: template_parse(source, html=part in HTML_PARTS),
    )


def preview_warnings(rendered: RenderedMessage) -> list[dict[str, str]]:
    """A warning per variable that rendered empty, to show beside the preview."""
    return [
        {
            "code": "empty_variable",
            "message": _(
                "{{ %(variable)s }} is missing or empty in the sample data, so it renders as "
                "nothing."
            )
            % {"variable": empty.variable},
            "field": empty.field,
            "variable": empty.variable,
        }
        for empty in rendered.empty_variables
    ]


def campaign_variables(campaign: Campaign) -> dict[str, list[str]]:
    """Every ``profile.*`` and ``context.*`` path the previewed content uses, sorted."""
    content = campaign_preview_source(campaign).content
    found = template_variables(source for parts in content.values() for source in parts.values())
    return {root: sorted(paths) for root, paths in found.items()}


def _nest(paths: list[str]) -> dict[str, Any]:
    """{"a.b": ..., "a.c": ...} -> {"a": {"b": "<a.b>", "c": "<a.c>"}}; numeric segments make lists."""
    tree: dict[str, Any] = {}
    for path in paths:
        node: Any = tree
        segments = path.split(".")
        for index, segment in enumerate(segments):
            last = index == len(segments) - 1
            nxt: Any = f"<{path}>" if last else ([] if segments[index + 1].isdigit() else {})
            if isinstance(node, list):
                position = int(segment)
                while len(node) <= position:
                    node.append(nxt if last else type(nxt)())
                if last:
                    node[position] = nxt
                node = node[position]
            else:
                if last:
                    node[segment] = nxt
                else:
                    node = node.setdefault(segment, nxt)
    return tree


def campaign_sample_data(campaign: Campaign) -> dict[str, dict[str, Any]]:
    """``{"profile": {...}, "context": {...}}`` shaped like every variable the content uses."""
    variables = campaign_variables(campaign)
    return {"profile": _nest(variables["profile"]), "context": _nest(variables["context"])}


def campaign_trigger_sample(campaign: Campaign) -> dict[str, Any]:
    """A unitary trigger body whose recipient carries every variable the content uses.

    It is accepted as printed (the issue asks for a curl sample that works): a
    campaign that does not create profiles gets an ``external`` recipient, since
    an ``aep`` one would have to name a profile that already exists; a push
    campaign gets ``channelData.pushInfo`` for its app.
    """
    source = campaign_preview_source(campaign)
    namespace = source.identity_namespace
    recipient: dict[str, Any] = {
        "type": "aep" if source.create_new_profiles else "external",
        "namespace": namespace,
        "userId": _SAMPLE_USER_IDS.get(
            namespace, _("<%(namespace)s value>") % {"namespace": namespace}
        ),
    }
    if source.channel == Channel.EMAIL and namespace != "email":
        recipient["channelData"] = {"emailAddress": "ana@example.com"}
    elif source.channel == Channel.SMS and namespace != "phone":
        recipient["channelData"] = {"mobilePhoneNumber": "+14165550100"}
    elif source.channel == Channel.PUSH:
        recipient["channelData"] = {
            "pushInfo": {
                "appID": str(source.channel_settings.get("appId") or _("<app id>")),
                "platform": str(source.channel_settings.get("platform") or "android"),
                "token": _("<device token>"),
            }
        }
    recipient.update(campaign_sample_data(campaign))
    return {
        "requestId": _("<unique id for this call>"),
        "campaignId": str(campaign.pk),
        "recipients": [recipient],
    }


def campaign_audience_sample(campaign: Campaign) -> dict[str, Any]:
    """An audience trigger body: the campaign's audience, and every context variable used.

    Profile variables come from each profile of the audience, so none is sent.
    """
    body: dict[str, Any] = {
        "requestId": _("<unique id for this call>"),
        "campaignId": str(campaign.pk),
    }
    context = campaign_sample_data(campaign)["context"]
    if context:
        body["context"] = context
    return body


def campaign_curl_sample(campaign: Campaign, *, base_url: str) -> str:
    """A ready-to-paste curl request triggering the campaign: unitary for a transactional
    campaign, audience for a marketing one (the endpoint each category is triggered at)."""
    if campaign_preview_source(campaign).category == Category.MARKETING:
        kind, sample = "audience", campaign_audience_sample(campaign)
    else:
        kind, sample = "unitary", campaign_trigger_sample(campaign)
    body = json.dumps(sample, indent=2, ensure_ascii=False)
    key = _("<your API key>")
    return (
        f"curl -X POST {shlex.quote(base_url.rstrip('/') + '/api/v1/executions/' + kind)} \\\n"
        f"  -H 'Authorization: Bearer {key}' \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  --data-binary {shlex.quote(body)}"
    )


def campaign_curl_help(campaign: Campaign) -> list[str]:
    """What the curl sample sends, in words, one paragraph per point, shown above it."""
    source = campaign_preview_source(campaign)
    if source.category == Category.MARKETING:
        return [
            _(
                "Sends to the campaign's audience; each profile's stored attributes fill "
                "{{ profile.* }}. Every context variable the content uses is in the body below: "
                'replace the sample values. Add "schedule": {"executeAt": "…"} to send later.'
            )
        ]
    paragraphs = [
        _(
            "Every profile and context variable the content uses is in the recipient below; "
            "replace the sample values."
        )
    ]
    if source.create_new_profiles:
        paragraphs.append(
            _(
                '"type": "aep" sends to a profile Clarion stores. It is looked up by its '
                "identity, and created when no profile has that identity yet."
            )
        )
    else:
        paragraphs.append(
            _(
                '"type": "external" sends to the address in the call only: no stored profile '
                "is read or created. The sample uses it because this campaign does not create "
                "profiles. To send to a profile Clarion already stores, with its stored "
                'attributes, use "type": "aep".'
            )
        )
    paragraphs.append(
        _(
            '"userId" is the recipient\'s identifier in the identity namespace named by '
            '"namespace" (here %(namespace)s), for example an email address for email. '
            'With "type": "aep", Clarion finds the profile by it.'
        )
        % {"namespace": source.identity_namespace}
    )
    return paragraphs
