"""Review checks: errors block activation and publishing, warnings do not.

Each finding has a stable ``code``, a ``message`` in words and the ``field`` it
concerns, as a JSON pointer into the campaign document (``/content/en/subject``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _

from audiences.selectors import audience_is_empty
from campaigns import limits
from campaigns.links import link_template_problem
from campaigns.liquid import template_check
from campaigns.models import (
    CONTENT_PARTS,
    LINK_PARTS,
    TRACKING_BY_CHANNEL,
    Campaign,
    CampaignContent,
    Category,
)
from campaigns.sms import sms_segments
from core.channels import Channel
from core.errors import ClarionError, pointer

Severity = Literal["error", "warning"]
_LINK = re.compile(r"""<a\s[^>]*href\s*=\s*["']?\s*(https?:|\{\{)""", re.IGNORECASE)
_URL = re.compile(r"https?://", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    field: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class ReviewResult:
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, severity: Severity, code: str, message: str, at: str) -> None:
        (self.errors if severity == "error" else self.warnings).append(Finding(code, message, at))

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        return {
            "errors": [f.as_dict() for f in self.errors],
            "warnings": [f.as_dict() for f in self.warnings],
        }


def campaign_review(*, campaign: Campaign) -> ReviewResult:
    """Run every check on the campaign's current configuration and content."""
    result = ReviewResult()
    contents = list(campaign.contents.all())
    _check_channel_configuration(campaign, result)
    _check_content(campaign, contents, result)
    _check_schedule(campaign, result)
    _check_audience(campaign, result)
    _check_tracking(campaign, contents, result)
    return result


def _check_channel_configuration(campaign: Campaign, result: ReviewResult) -> None:
    configuration = campaign.channel_configuration
    if configuration is None:
        result.add(
            "error",
            "channel_configuration_missing",
            _("Choose a channel configuration: it says who the message comes from."),
            "/channelConfiguration",
        )
    elif configuration.channel != campaign.channel:
        result.add(
            "error",
            "channel_configuration_mismatch",
            _(
                "The channel configuration “%(name)s” is for %(other)s, but this campaign sends %(channel)s."
            )
            % {
                "name": configuration.name,
                "other": configuration.channel,
                "channel": campaign.channel,
            },
            "/channelConfiguration",
        )
    elif not configuration.is_active:
        result.add(
            "error",
            "channel_configuration_inactive",
            _("The channel configuration “%s” is switched off.") % configuration.name,
            "/channelConfiguration",
        )


def _check_content(
    campaign: Campaign, contents: list[CampaignContent], result: ReviewResult
) -> None:
    parts = CONTENT_PARTS[campaign.channel]
    by_locale = {content.locale: content for content in contents}
    default = by_locale.get(campaign.default_locale)
    if default is None:
        result.add(
            "error",
            "default_locale_content_missing",
            _("There is no content for the default locale %s.") % campaign.default_locale,
            pointer("content", campaign.default_locale),
        )
    elif not any(value.strip() for value in default.parts(campaign.channel).values()):
        result.add(
            "error",
            "default_locale_content_empty",
            _("The content for the default locale %s is empty.") % campaign.default_locale,
            pointer("content", campaign.default_locale),
        )
    if len(contents) > limits.MAX_LOCALES_PER_CAMPAIGN:
        result.add(
            "error",
            "too_many_locales",
            _("At most %d locales per campaign.") % limits.MAX_LOCALES_PER_CAMPAIGN,
            "/content",
        )
    for content in contents:
        values = content.parts(campaign.channel)
        for part in parts:
            problem = template_check(values[part])
            if problem is not None:
                result.add(
                    "error",
                    "template_syntax",
                    _("Template error in %(locale)s %(part)s: %(problem)s")
                    % {"locale": content.locale, "part": part, "problem": problem},
                    pointer("content", content.locale, part),
                )
        _check_channel_parts(campaign, content, values, result)


def _check_channel_parts(
    campaign: Campaign, content: CampaignContent, values: dict[str, str], result: ReviewResult
) -> None:
    locale = content.locale
    if campaign.channel == Channel.EMAIL:
        if not values["subject"].strip():
            result.add(
                "error",
                "email_subject_missing",
                _("The %s email has no subject.") % locale,
                pointer("content", locale, "subject"),
            )
        if not values["html"].strip() and not values["text"].strip():
            result.add(
                "error",
                "email_body_missing",
                _("The %s email has neither an HTML nor a text body.") % locale,
                pointer("content", locale, "html"),
            )
    elif campaign.channel == Channel.SMS:
        segments = sms_segments(values["body"])
        if segments == 0:
            result.add(
                "error",
                "sms_body_missing",
                _("The %s SMS is empty.") % locale,
                pointer("content", locale, "body"),
            )
        elif segments > limits.SMS_MAX_SEGMENTS:
            result.add(
                "error",
                "sms_too_long",
                _("The %(locale)s SMS needs %(n)d segments; at most %(max)d are allowed.")
                % {"locale": locale, "n": segments, "max": limits.SMS_MAX_SEGMENTS},
                pointer("content", locale, "body"),
            )
        elif segments > 1:
            result.add(
                "warning",
                "sms_multiple_segments",
                _(
                    "The %(locale)s SMS needs %(n)d segments (before personalisation); each is billed."
                )
                % {"locale": locale, "n": segments},
                pointer("content", locale, "body"),
            )
    elif campaign.channel == Channel.PUSH:
        if not values["title"].strip() and not values["body"].strip():
            result.add(
                "error",
                "push_content_missing",
                _("The %s notification has neither a title nor a body.") % locale,
                pointer("content", locale, "body"),
            )
        if len(values["title"]) > limits.PUSH_TITLE_WARN_LENGTH:
            result.add(
                "warning",
                "push_title_long",
                _(
                    "The %(locale)s title has %(n)d characters; over %(max)d are cut on many devices."
                )
                % {
                    "locale": locale,
                    "n": len(values["title"]),
                    "max": limits.PUSH_TITLE_WARN_LENGTH,
                },
                pointer("content", locale, "title"),
            )
        _check_push_links(campaign, locale, values, result)


def _check_push_links(
    campaign: Campaign, locale: str, values: dict[str, str], result: ReviewResult
) -> None:
    # Saving checks links against the configuration of the day; it may have changed since.
    configuration = campaign.channel_configuration
    app_schemes = configuration.push_app_schemes if configuration is not None else []
    for part in CONTENT_PARTS[Channel.PUSH]:
        if part not in LINK_PARTS:
            continue
        problem = link_template_problem(values[part], app_schemes)
        if problem is not None:
            result.add(
                "error",
                "push_link_not_allowed",
                _("The %(locale)s %(part)s is not an allowed link: %(problem)s")
                % {"locale": locale, "part": part, "problem": problem},
                pointer("content", locale, part),
            )


def _check_schedule(campaign: Campaign, result: ReviewResult) -> None:
    now = timezone.now()
    if campaign.start_at and campaign.end_at and campaign.end_at <= campaign.start_at:
        result.add(
            "error",
            "schedule_end_before_start",
            _("The end must come after the start."),
            "/schedule/endAt",
        )
    elif campaign.end_at and campaign.end_at <= now:
        result.add(
            "error",
            "schedule_end_in_past",
            _("The end is in the past; nothing could be sent."),
            "/schedule/endAt",
        )


def _check_audience(campaign: Campaign, result: ReviewResult) -> None:
    if campaign.category != Category.MARKETING:
        return
    if campaign.audience is None:
        result.add(
            "error",
            "audience_missing",
            _("A marketing campaign needs an audience: choose who it goes to."),
            "/audience/audienceId",
        )
        return
    try:
        empty = audience_is_empty(campaign.audience)  # EXISTS, not COUNT: activation holds a lock
    except ClarionError as error:
        # Rules stored before the language refused them (an empty value, say) cannot be
        # read: an error to fix in the audience, not a crash of the review.
        result.add(
            "error",
            "audience_rules_invalid",
            _("The audience “%(name)s” has rules to fix before it can be used: %(problem)s")
            % {
                "name": campaign.audience.name,
                "problem": "; ".join(e.detail for e in error.errors) or error.message,
            },
            "/audience/audienceId",
        )
        return
    if empty:
        result.add(
            "warning",
            "audience_empty",
            _("The audience “%s” matches no profile today.") % campaign.audience.name,
            "/audience/audienceId",
        )


def _check_tracking(
    campaign: Campaign, contents: list[CampaignContent], result: ReviewResult
) -> None:
    supported = TRACKING_BY_CHANNEL[campaign.channel]
    has_html = any(c.html.strip() for c in contents)
    if "opens" in supported and campaign.track_opens and not has_html:
        result.add(
            "warning",
            "tracking_opens_without_html",
            _("Open tracking needs an HTML body; text-only emails cannot be counted as opened."),
            "/tracking/opens",
        )
    if not campaign.track_clicks or "clicks" not in supported:
        return
    if campaign.channel == Channel.EMAIL:
        has_link = any(_LINK.search(c.html) or _URL.search(c.text) for c in contents)
    else:
        has_link = any(_URL.search(c.body) for c in contents)
    if not has_link:
        result.add(
            "warning",
            "tracking_without_links",
            _("Click tracking is on but the content has no link to track."),
            "/tracking/clicks",
        )
