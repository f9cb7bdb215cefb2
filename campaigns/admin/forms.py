"""Admin forms: the campaign walk-through and its per-locale content."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from campaigns.admin.editing import campaign_errors, content_errors
from campaigns.models import (
    TRACKING_BY_CHANNEL,
    Campaign,
    CampaignContent,
    ChannelConfiguration,
)
from core.channels import Channel
from core.errors import ClarionError
from core.locales import locale_normalize, locale_validator
from core.widgets import LabelledSplitDateTime

# Content fields that hold Liquid templates (every part of every channel).
TEMPLATE_FIELDS = (
    "subject",
    "preheader",
    "html",
    "text",
    "body",
    "title",
    "deep_link",
    "image_url",
)


# What marketers need to know at the field (docs/content.md says more).
CONTENT_HELP = {
    "html": _(
        "Values from {{ profile.* }} and {{ context.* }} are HTML-escaped here, so data "
        "cannot inject markup. For markup you trust, add the safe filter: "
        "{{ context.banner | safe }}."
    ),
    "deep_link": _(
        "An https:// link, or a link of an app scheme the channel configuration allows "
        "(e.g. myapp://product/42)."
    ),
    "image_url": _(
        "An https:// link, or a link of an app scheme the channel configuration allows."
    ),
}


def _clean_locale(value: str) -> str:
    """Normalise (pt_br -> pt-BR) before checking the shape, so people may type either."""
    locale = locale_normalize(value or "")
    locale_validator(locale)
    return locale


class CampaignForm(forms.ModelForm[Campaign]):
    """The campaign's own fields; the content per locale is an inline formset.

    The form checks shapes only; the authoring service checks meaning, status
    and permissions when the admin saves (``campaigns.admin.editing``).
    """

    # Set on a copy of the class when the service refused the posted document: its
    # errors are added at their fields (CampaignAdmin.changeform_view).
    refusal: ClarionError | None = None

    class Meta:
        model = Campaign
        fields = [
            "name",
            "description",
            "category",
            "tags",
            "access_labels",
            "channel",
            "channel_configuration",
            "track_opens",
            "track_clicks",
            "throttle_rate",
            "default_locale",
            "locale_attribute",
            "identity_namespace",
            "create_new_profiles",
            "audience",
            "start_at",
            "end_at",
        ]
        widgets = {"start_at": LabelledSplitDateTime, "end_at": LabelledSplitDateTime}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "default_locale" in self.fields:
            # Normalised in clean_default_locale, then checked there.
            self.fields["default_locale"].validators = []
        for name in ("identity_namespace", "channel_configuration", "audience"):
            widget = self.fields[name].widget if name in self.fields else None
            if isinstance(widget, RelatedFieldWidgetWrapper):
                # Deleting a sender, namespace or audience is not part of writing a campaign
                # (and PROTECT refuses it while campaigns use them); adding and editing are.
                widget.can_delete_related = False
        if "channel_configuration" in self.fields:
            self._channel_configurations_limit()

    def _chosen_channel(self) -> str:
        source = self.data if self.is_bound else self.initial
        chosen = source.get(self.add_prefix("channel") if self.is_bound else "channel")
        return str(chosen or self.instance.channel or Channel.EMAIL)

    def _channel_configurations_limit(self) -> None:
        """Offer the active configurations of the chosen channel (and the current one).

        The select's ``data-options`` holds every channel's, so campaign.js can
        refill it when the channel changes; a configuration of another channel is
        refused here whatever the browser sends.
        """
        field = self.fields["channel_configuration"]
        assert isinstance(field, forms.ModelChoiceField)  # the model's foreign key
        usable = ChannelConfiguration.objects.filter(
            Q(is_active=True) | Q(pk=self.instance.channel_configuration_id)
        )
        options: dict[str, list[list[str]]] = {channel: [] for channel in Channel.values}
        for configuration in usable:
            options[configuration.channel].append([str(configuration.pk), str(configuration)])
        field.queryset = usable.filter(channel=self._chosen_channel())
        field.error_messages["invalid_choice"] = _(
            "Choose a channel configuration of the campaign's channel."
        )
        widget = field.widget
        select = widget.widget if isinstance(widget, RelatedFieldWidgetWrapper) else widget
        select.attrs["data-options"] = json.dumps(options)

    def clean_default_locale(self) -> str:
        return _clean_locale(self.cleaned_data.get("default_locale", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        channel = cleaned.get("channel")
        if channel in TRACKING_BY_CHANNEL:
            # Options the channel cannot track are hidden in the form; store them off,
            # so the campaign does not claim tracking it will never do.
            for option, name in (("opens", "track_opens"), ("clicks", "track_clicks")):
                if name in cleaned and option not in TRACKING_BY_CHANNEL[channel]:
                    cleaned[name] = False
        if self.refusal is not None:
            for field, message in campaign_errors(self.refusal, set(self.fields)):
                self.add_error(field, message)
        return cleaned


class CampaignContentFormSet(BaseInlineFormSet[CampaignContent, Campaign, Any]):
    """The content rows; shows the service's errors under /content at their row and field."""

    refusal: ClarionError | None = None

    def clean(self) -> None:
        super().clean()
        if self.refusal is None:
            return
        rows = {
            row.cleaned_data["locale"]: row
            for row in self.forms
            if getattr(row, "cleaned_data", None) and row.cleaned_data.get("locale")
        }
        placed, unplaced = content_errors(self.refusal, rows)
        for row, field, message in placed:
            row.add_error(field, message)
        if unplaced:
            raise ValidationError(unplaced)


class CampaignContentForm(forms.ModelForm[CampaignContent]):
    """One locale's content. Template syntax and links are checked by the authoring service."""

    class Meta:
        model = CampaignContent
        fields = ["locale", *TEMPLATE_FIELDS]
        widgets = {
            "subject": forms.TextInput(attrs={"class": "vLargeTextField"}),
            "preheader": forms.TextInput(attrs={"class": "vLargeTextField"}),
            "title": forms.TextInput(attrs={"class": "vLargeTextField"}),
            "deep_link": forms.TextInput(attrs={"class": "vLargeTextField"}),
            "image_url": forms.TextInput(attrs={"class": "vLargeTextField"}),
            "html": forms.Textarea(attrs={"rows": 8, "class": "vLargeTextField code"}),
            "text": forms.Textarea(attrs={"rows": 5, "class": "vLargeTextField"}),
            "body": forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["locale"].validators = []
        self.fields["locale"].help_text = _("e.g. en, fr, pt-BR, zh-Hant-TW")
        for name, help_text in CONTENT_HELP.items():
            self.fields[name].help_text = help_text

    def clean_locale(self) -> str:
        return _clean_locale(self.cleaned_data.get("locale", ""))


class AppSchemesField(forms.Field):
    """App URI schemes typed as ``myapp, shop-app``; stored as a list of lower-case names."""

    widget = forms.TextInput

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        return [scheme.lower() for scheme in re.split(r"[\s,]+", str(value or "")) if scheme]


class ChannelConfigurationForm(forms.ModelForm[ChannelConfiguration]):
    """A channel configuration; the push app schemes are typed as a comma-separated list."""

    push_app_schemes = AppSchemesField(
        label=_("allowed app link schemes"),
        required=False,
        help_text=_(
            "Push only: your app's own URI schemes, separated by commas (e.g. myapp, shop-app). "
            "Deep links and image URLs may use them besides https:."
        ),
    )

    class Meta:
        model = ChannelConfiguration
        fields = [
            "name",
            "channel",
            "is_active",
            "from_name",
            "from_email",
            "reply_to",
            "tracking_domain",
            "sms_sender",
            "sms_provider",
            "push_app_id",
            "push_platform",
            "push_provider",
            "push_app_schemes",
        ]
