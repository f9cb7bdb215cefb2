"""The campaign change form and the authoring service: one document in, errors back at fields.

The admin saves a campaign with the same services as the API
(``campaign_create``, ``campaign_update``): the forms only check shapes, then
``campaign_document`` turns them into the API's campaign document. When the
service refuses it, Django's transaction is rolled back and the page is
validated again with the refusal attached (``refusal_remember``), so each
error shows at its field, in the service's words.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest

from campaigns.models import CONTENT_PARTS, Campaign
from campaigns.snapshot import POINTER_FIELDS
from core.errors import ClarionError

# API part name -> model field, for every channel (deepLink -> deep_link).
_PART_FIELDS: dict[str, str] = {
    api: attr for parts in CONTENT_PARTS.values() for api, attr in parts.items()
}
_REFUSAL_ATTRIBUTE = "_clarion_campaign_refusal"


class CampaignRefused(Exception):
    """The authoring service refused the admin's save; carries its error."""

    def __init__(self, error: ClarionError) -> None:
        super().__init__(error.message)
        self.error = error


def refusal_remember(request: HttpRequest, error: ClarionError) -> None:
    setattr(request, _REFUSAL_ATTRIBUTE, error)


def refusal_of(request: HttpRequest) -> ClarionError | None:
    """The refusal to show on this request's forms, if the service refused its save."""
    found = getattr(request, _REFUSAL_ATTRIBUTE, None)
    return found if isinstance(found, ClarionError) else None


def _segments(pointer: str) -> list[str]:
    return [s.replace("~1", "/").replace("~0", "~") for s in pointer.split("/")[1:]]


def campaign_errors(error: ClarionError, fields: set[str]) -> list[tuple[str | None, str]]:
    """(form field or None, message) for every error outside ``/content``."""
    if not error.errors:
        return [(None, error.message)]
    found: list[tuple[str | None, str]] = []
    for problem in error.errors:
        segments = _segments(problem.pointer)
        if segments and segments[0] == "content":
            continue  # the content formset shows these
        # "/tags/2" and "/accessLabels/0" are at their list's field.
        name = POINTER_FIELDS.get(problem.pointer) or POINTER_FIELDS.get(
            "/" + segments[0] if segments else ""
        )
        found.append((name if name in fields else None, problem.detail))
    return found


def content_errors(
    error: ClarionError, forms_by_locale: dict[str, forms.BaseForm]
) -> tuple[list[tuple[forms.BaseForm, str, str]], list[str]]:
    """Errors under ``/content``: (inline form, field, message), and those with no row."""
    placed: list[tuple[forms.BaseForm, str, str]] = []
    unplaced: list[str] = []
    for problem in error.errors:
        segments = _segments(problem.pointer)
        if not segments or segments[0] != "content":
            continue
        form = forms_by_locale.get(segments[1]) if len(segments) >= 2 else None
        field = _PART_FIELDS.get(segments[2], "") if len(segments) >= 3 else "locale"
        if form is not None and field in form.fields:
            placed.append((form, field, problem.detail))
        else:
            unplaced.append(problem.detail)
    return placed, unplaced


def _labels_kept(form: forms.ModelForm[Campaign]) -> list[str]:
    """The campaign's labels the form did not offer (the person does not hold them):
    they stay, since nobody can remove a label they do not hold."""
    campaign = form.instance
    if campaign.pk is None:
        return []
    field = form.fields["access_labels"]
    offered = field.queryset if isinstance(field, forms.ModelMultipleChoiceField) else None
    kept = campaign.access_labels.all()
    if offered is not None:
        kept = kept.exclude(pk__in=offered.values("pk"))
    return [label.name for label in kept]


def campaign_document_from_form(
    form: forms.ModelForm[Campaign], formsets: list[Any]
) -> dict[str, Any]:
    """The campaign document (the API's shape) that the change form and its inlines describe."""
    data = form.cleaned_data
    channel = data["channel"]
    document: dict[str, Any] = {
        "name": data["name"],
        "description": data["description"],
        "tags": [tag.name for tag in data["tags"]],
        "accessLabels": [label.name for label in data["access_labels"]] + _labels_kept(form),
        "category": data["category"],
        "channel": channel,
        "channelConfiguration": (
            str(data["channel_configuration"].pk) if data["channel_configuration"] else None
        ),
        "tracking": {"opens": data["track_opens"], "clicks": data["track_clicks"]},
        "throttle": {"ratePerSecond": data["throttle_rate"]},
        "audience": {
            "identityNamespace": data["identity_namespace"].code,
            "createNewProfiles": data["create_new_profiles"],
            "audienceId": str(data["audience"].pk) if data["audience"] else None,
        },
        "schedule": {"startAt": data["start_at"], "endAt": data["end_at"]},
        "defaultLocale": data["default_locale"],
        "localeAttribute": data["locale_attribute"],
    }
    content: dict[str, dict[str, str]] = {}
    for formset in formsets:
        for row in formset.forms:
            values = getattr(row, "cleaned_data", None)
            if not values or values.get("DELETE") or not values.get("locale"):
                continue  # an empty extra row, or one marked for deletion
            content[values["locale"]] = {
                api: values.get(attr) or "" for api, attr in CONTENT_PARTS[channel].items()
            }
    document["content"] = content
    return document
