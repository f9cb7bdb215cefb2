"""Admin forms: the campaign walk-through and its per-locale content."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from campaigns.liquid import template_check
from campaigns.models import Campaign, CampaignContent, Category
from campaigns.services.authoring import campaign_assert_editable
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

    def clean_default_locale(self) -> str:
        return _clean_locale(self.cleaned_data.get("default_locale", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
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
