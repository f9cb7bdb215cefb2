"""The audience admin: a rule builder, the size estimate, a sample, CSV members for static ones."""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audiences.models import (
    Audience,
    AudienceMember,
    Consent,
    IdentityNamespace,
    identities_prefetch,
)
from audiences.rule_parsing import (
    EMPTY_VALUE_MESSAGE,
    FIXED_FIELDS,
    OPERATOR_LABELS,
    OPERATORS_BY_KIND,
)
from audiences.rules import rules_clean
from audiences.selectors import audience_estimate, audience_sample
from audiences.services.audiences import (
    audience_create,
    audience_members_from_csv,
    audience_update,
)
from core.errors import ClarionError, FieldError, InvalidInput

MAX_CSV_ERRORS_SHOWN = 20  # the rest are counted; a long list of messages helps nobody

FIELD_LABELS: dict[str, Any] = {
    "attributes": _("Attribute"),
    "locale": _("Locale"),
    "timeZone": _("Time zone"),
    "createdAt": _("Created"),
    "updatedAt": _("Updated"),
    "consent.email": _("Email consent"),
    "consent.sms": _("SMS consent"),
    "consent.push": _("Push consent"),
    "identity": _("Identity"),
}


def rule_builder_config() -> dict[str, Any]:
    """What the builder's script needs: fields, operators per kind, labels (translated)."""
    fields = [
        {
            "value": "attributes",
            "label": str(FIELD_LABELS["attributes"]),
            "kind": "attribute",
            "free": True,
            "placeholder": gettext("path, e.g. plan.tier"),
            "missing": gettext("Give the attribute's path, e.g. plan.tier."),
        },
        *(
            {"value": name, "label": str(FIELD_LABELS[name]), "kind": kind, "free": False}
            for name, (kind, _column) in FIXED_FIELDS.items()
        ),
        {
            "value": "identity",
            "label": str(FIELD_LABELS["identity"]),
            "kind": "identity",
            "free": True,
            "placeholder": gettext("namespace"),
            "missing": gettext("Give the identity namespace, e.g. email."),
            "options": list(IdentityNamespace.objects.values_list("code", flat=True)),
        },
    ]
    return {
        "fields": fields,
        "operators": {kind: list(ops) for kind, ops in OPERATORS_BY_KIND.items()},
        "operatorLabels": {op: str(label) for op, label in OPERATOR_LABELS.items()},
        "consentStatuses": [[value, str(label)] for value, label in Consent.Status.choices],
        "text": {
            "and": gettext("All of these (AND)"),
            "or": gettext("Any of these (OR)"),
            "addCondition": gettext("+ Condition"),
            "addGroup": gettext("+ Group"),
            "remove": gettext("Remove"),
            "valueText": gettext("text"),
            "valueNumber": gettext("number"),
            "valueBoolean": gettext("yes / no"),
            "yes": gettext("yes"),
            "no": gettext("no"),
            "listPlaceholder": gettext("values, separated by commas"),
            "datePlaceholder": gettext("2024-05-01 or 2024-05-01T09:30:00Z"),
            "showJson": gettext("Show the rules as JSON"),
            "empty": gettext("No conditions yet: add one."),
            "valueMissing": str(EMPTY_VALUE_MESSAGE),
            # What a screen reader announces for each control of a condition.
            "field": gettext("Field"),
            "operator": gettext("Operator"),
            "value": gettext("Value"),
            "valueType": gettext("Type of value"),
        },
    }


def describe_rule_error(error: FieldError) -> str:
    """``/rules/conditions/2/conditions/0/value`` -> "Condition 3 › condition 1 › value: ..."."""
    tokens = error.pointer.split("/")[2:]
    words: list[str] = []
    for index, part in enumerate(tokens):
        if part == "conditions" and index + 1 < len(tokens) and tokens[index + 1].isdigit():
            continue
        if part.isdigit() and index > 0 and tokens[index - 1] == "conditions":
            words.append(gettext("condition %d") % (int(part) + 1))
        else:
            words.append(part)
    if not words:
        return error.detail
    place = " › ".join(words)
    return f"{place[0].upper()}{place[1:]}: {error.detail}"


class AudienceForm(forms.ModelForm):
    rules = forms.JSONField(
        label=_("Rules"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "audience-rules-json"}),
        help_text=_(
            "Build the conditions above; profiles matching them are in the audience. "
            "Static audiences have no rules: add members with a CSV file once saved."
        ),
    )

    class Meta:
        model = Audience
        fields = ["name", "description", "kind", "rules"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule_errors: list[dict[str, str]] = []

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        kind = cleaned.get("kind", self.instance.kind)
        rules = cleaned.get("rules") or {}
        if kind == Audience.Kind.STATIC:
            cleaned["rules"] = {}
            return cleaned
        try:
            cleaned["rules"] = rules_clean(rules)
        except InvalidInput as error:
            self.rule_errors = [{"pointer": e.pointer, "detail": e.detail} for e in error.errors]
            self.add_error("rules", [describe_rule_error(e) for e in error.errors])
        return cleaned


class MembersUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("One identity per row, first column."))
    namespace = forms.ModelChoiceField(
        label=_("Identity namespace"),
        queryset=IdentityNamespace.objects.all(),
        to_field_name="code",
        empty_label=None,
    )
    remove = forms.BooleanField(label=_("Remove these profiles instead"), required=False)


@admin.register(Audience)
class AudienceAdmin(admin.ModelAdmin[Audience]):
    form = AudienceForm
    fields = ["name", "description", "kind", "rules"]
    list_display = ["name", "kind", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name"]
    ordering = ["name"]

    class Media:
        css = {"all": ["audiences/admin/rule_builder.css"]}
        js = ["audiences/admin/rule_builder.js"]

    def get_readonly_fields(self, request: HttpRequest, obj: Audience | None = None) -> list[str]:
        return ["kind"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Audience, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            audience_update(
                audience=obj,
                name=data["name"],
                description=data["description"],
                rules=data["rules"],
            )
            return
        created = audience_create(
            name=data["name"],
            kind=data["kind"],
            description=data["description"],
            rules=data["rules"],
        )
        obj.pk = created.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<path:object_id>/members/",
                self.admin_site.admin_view(self.members_view),
                name="audiences_audience_members",
            )
        ]
        return own + super().get_urls()

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Audience | None = None,
    ) -> HttpResponse:
        context["rule_builder_config"] = {
            **rule_builder_config(),
            "kind": obj.kind if obj is not None else None,
        }
        context["rule_errors"] = getattr(context["adminform"].form, "rule_errors", [])
        if obj is not None:
            context.update(self._size_context(obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _size_context(self, audience: Audience) -> dict[str, Any]:
        try:
            size = audience_estimate(audience)
            sample = audience_sample(audience)
        except ClarionError as error:  # rules stored in a shape the language no longer takes
            return {"size_error": error.message}
        prefetch_related_objects(sample, identities_prefetch())
        rows = []
        for profile in sample:
            identities = ", ".join(str(i) for i in profile.identities.all())
            try:
                url = reverse("admin:audiences_profile_change", args=[profile.pk])
            except NoReverseMatch:
                url = ""
            rows.append({"profile": profile, "identities": identities, "url": url})
        context: dict[str, Any] = {"audience_size": size, "audience_sample": rows}
        if audience.kind == Audience.Kind.STATIC:
            context["member_count"] = AudienceMember.objects.filter(audience=audience).count()
            context["members_form"] = MembersUploadForm()
        return context

    def members_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Add (or remove) the members listed in an uploaded CSV file, then back to the audience."""
        # get_object answers None for an id that is not a UUID, where a lookup by pk
        # would raise ValidationError (a 500).
        audience = self.get_object(request, object_id)
        if audience is None:
            raise Http404(gettext("No such audience."))
        if not self.has_change_permission(request, audience):
            raise PermissionDenied
        change_url = reverse("admin:audiences_audience_change", args=[audience.pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        form = MembersUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            for field_errors in form.errors.values():
                for message in field_errors:
                    messages.error(request, str(message))
            return HttpResponseRedirect(change_url)
        upload = form.cleaned_data["file"]
        text = io.TextIOWrapper(upload.file, encoding="utf-8-sig", newline="")
        try:
            result = audience_members_from_csv(
                audience=audience,
                file=text,
                namespace=form.cleaned_data["namespace"].code,
                remove=form.cleaned_data["remove"],
            )
        except ClarionError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(change_url)
        except UnicodeDecodeError:
            messages.error(request, gettext("The file is not UTF-8 text."))
            return HttpResponseRedirect(change_url)
        if form.cleaned_data["remove"]:
            summary = ngettext(
                "%(count)d profile removed", "%(count)d profiles removed", result.changed
            )
        else:
            summary = ngettext(
                "%(count)d profile added", "%(count)d profiles added", result.changed
            )
        messages.success(
            request,
            gettext(
                "%(summary)s; %(unchanged)d unchanged, %(unknown)d unknown, %(invalid)d invalid."
            )
            % {
                "summary": summary % {"count": result.changed},
                "unchanged": result.unchanged,
                "unknown": result.unknown,
                "invalid": result.invalid,
            },
        )
        for problem in result.errors[:MAX_CSV_ERRORS_SHOWN]:
            row = int(problem.pointer.split("/")[2]) + 1
            messages.warning(
                request,
                gettext("Data row %(row)d: %(detail)s") % {"row": row, "detail": problem.detail},
            )
        return HttpResponseRedirect(change_url)
