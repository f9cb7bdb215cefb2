"""Admin forms: the campaign walk-through and its per-locale content."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from campaigns.liquid import template_check
from campaigns.models import (
    TRACKING_BY_CHANNEL,
    Campaign,
    CampaignContent,
    Category,
    ChannelConfiguration,
)
from campaigns.services.authoring import campaign_assert_editable
from core.channels import Channel
from core.errors import ClarionError
from core.locales import locale_normalize, locale_validator

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


def _clean_locale(value: str) -> str:
    """Normalise (pt_br -> pt-BR) before checking the shape, so people may type either."""
    locale = locale_normalize(value or "")
    locale_validator(locale)
    return locale


class CampaignForm(forms.ModelForm[Campaign]):
    """The campaign's own fields; the content per locale is an inline formset."""

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
        if not self.instance._state.adding:
            # The admin shows a campaign that cannot be edited read-only; this catches
            # a status change between opening the form and saving it.
            stored = Campaign.objects.get(pk=self.instance.pk)
            try:
                campaign_assert_editable(campaign=stored)
            except ClarionError as error:
                raise ValidationError(error.message) from None
        if cleaned.get("create_new_profiles") and cleaned.get("category") != Category.TRANSACTIONAL:
            self.add_error(
                "create_new_profiles",
                gettext("Only transactional campaigns can create profiles for unknown recipients."),
            )
        return cleaned


class CampaignContentForm(forms.ModelForm[CampaignContent]):
    """One locale's content; a template that does not parse is an error at its field."""

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

    def clean_locale(self) -> str:
        return _clean_locale(self.cleaned_data.get("locale", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in TEMPLATE_FIELDS:
            problem = template_check(cleaned.get(name) or "")
            if problem is not None:
                self.add_error(name, gettext("Template error: %s") % problem)
        return cleaned
