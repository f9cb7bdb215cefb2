"""Admin forms: the campaign walk-through, its per-locale content, API keys."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from campaigns.admin.editing import campaign_errors, content_errors
from campaigns.models import (
    AccessLabel,
    ApiKey,
    Campaign,
    CampaignContent,
    ChannelConfiguration,
)
from campaigns.models.access import SCOPES
from config.errors import ClarionError
from config.locales import locale_normalize, locale_validator

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "default_locale" in self.fields:
            # Normalised in clean_default_locale, then checked there.
            self.fields["default_locale"].validators = []

    def clean_default_locale(self) -> str:
        return _clean_locale(self.cleaned_data.get("default_locale", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
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


class ApiKeyCreateForm(forms.Form):
    """What an administrator chooses for a new key; the secret is generated."""

    name = forms.CharField(
        label=_("name"),
        max_length=120,
        help_text=_("Who or what uses the key, e.g. “Shop backend”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=[(scope, f"{scope}: {_(text)}") for scope, text in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("What the key may do. Give only what the caller needs."),
    )
    access_labels = forms.ModelMultipleChoiceField(
        label=_("access labels"),
        queryset=AccessLabel.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The key sees only campaigns whose every label it holds."),
    )


class ApiKeyChangeForm(forms.ModelForm[ApiKey]):
    """Name, scopes, labels and the on/off switch; never the secret or its hash."""

    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=[(scope, f"{scope}: {_(text)}") for scope, text in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "access_labels", "is_active"]
        widgets = {"access_labels": forms.CheckboxSelectMultiple}
