"""Admin for profiles (search by any identity, erase, merge) and the suppression list."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audiences.identities import (
    IdentityValueError,
    identity_normalize,
    normalize_email,
    normalize_phone,
)
from audiences.models import (
    Consent,
    Identity,
    IdentityNamespace,
    Profile,
    PushRegistration,
    Suppression,
    identities_prefetch,
)
from audiences.services.profiles import profile_delete, profile_merge
from core.channels import Channel
from core.errors import ClarionError
from core.formats import datetime_html


def _normalized_address(channel: str, address: str) -> str:
    """An address in the spelling identities use; raises IdentityValueError."""
    if channel == Channel.EMAIL:
        return normalize_email(address)
    if channel == Channel.SMS:
        return normalize_phone(address)
    cleaned = address.strip()
    if not cleaned:
        raise IdentityValueError(gettext("The value is empty."))
    return cleaned


def profile_suppressions(profile: Profile) -> QuerySet[Suppression]:
    """Suppression entries for any of the profile's addresses (email, mobile, push tokens)."""
    emails = {profile.email_address} if profile.email_address else set()
    mobiles = {profile.mobile_number} if profile.mobile_number else set()
    for identity in profile.identities.select_related("namespace"):
        if identity.namespace.value_kind == IdentityNamespace.ValueKind.EMAIL:
            emails.add(identity.value)
        elif identity.namespace.value_kind == IdentityNamespace.ValueKind.PHONE:
            mobiles.add(identity.value)
    tokens = set(profile.push_registrations.values_list("token", flat=True))
    return Suppression.objects.filter(
        Q(channel=Channel.EMAIL, address__in=emails)
        | Q(channel=Channel.SMS, address__in=mobiles)
        | Q(channel=Channel.PUSH, address__in=tokens)
    ).order_by("-created_at")


# --- Inlines ---------------------------------------------------------------------------


class IdentityForm(forms.ModelForm[Identity]):
    class Meta:
        model = Identity
        fields = ["namespace", "value"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        namespace = cleaned.get("namespace")
        value = cleaned.get("value")
        if namespace is not None and value:
            try:
                cleaned["value"] = identity_normalize(namespace, value)
            except IdentityValueError as error:
                self.add_error("value", str(error))
        return cleaned


class IdentityInline(admin.TabularInline[Identity, Profile]):
    model = Identity
    form = IdentityForm
    fields = ["namespace", "value", "created_at"]
    readonly_fields = ["created_at"]
    extra = 0


class PushRegistrationInline(admin.TabularInline[PushRegistration, Profile]):
    model = PushRegistration
    fields = ["app_id", "platform", "token", "subscription", "last_seen_at"]
    extra = 0


class ConsentFormSet(BaseInlineFormSet):
    def save_new(self, form: forms.ModelForm[Any], commit: bool = True) -> Any:
        form.instance.updated_at = timezone.now()
        return super().save_new(form, commit=commit)

    def save_existing(self, form: forms.ModelForm[Any], obj: Any, commit: bool = True) -> Any:
        if form.has_changed():
            form.instance.updated_at = timezone.now()
        return super().save_existing(form, obj, commit=commit)


class ConsentInline(admin.TabularInline[Consent, Profile]):
    model = Consent
    formset = ConsentFormSet
    fields = ["channel", "status", "source", "updated_at"]
    readonly_fields = ["updated_at"]
    extra = 0


# --- Profiles ----------------------------------------------------------------------------


class ProfileForm(forms.ModelForm[Profile]):
    class Meta:
        model = Profile
        fields = ["attributes", "locale", "time_zone", "email_address", "mobile_number"]

    def clean_email_address(self) -> str:
        value: str = self.cleaned_data.get("email_address") or ""
        if not value:
            return ""
        try:
            return normalize_email(value)
        except IdentityValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_mobile_number(self) -> str:
        value: str = self.cleaned_data.get("mobile_number") or ""
        if not value:
            return ""
        try:
            return normalize_phone(value)
        except IdentityValueError as error:
            raise forms.ValidationError(str(error)) from None


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin[Profile]):
    form = ProfileForm
    # Named by the primary identity (Profile.__str__), its id beside it for API users.
    list_display = ["primary_identity", "locale", "created_at", "id"]
    list_display_links = ["primary_identity"]
    search_fields = ["identities__value", "email_address", "mobile_number"]
    search_help_text = _(
        "Any identity value, email address or mobile number; "
        "written any way (ANA@Example.com, (416) 555-0100)."
    )
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "attributes_pretty",
        "created_at",
        "updated_at",
        "suppression_entries",
    ]
    fieldsets = [
        (None, {"fields": ["id", "locale", "time_zone", "created_at", "updated_at"]}),
        (_("Attributes"), {"fields": ["attributes_pretty", "attributes"]}),
        (_("Addresses"), {"fields": ["email_address", "mobile_number"]}),
        (_("Suppression list"), {"fields": ["suppression_entries"]}),
    ]
    # The "Messages" section is added by delivery.admin.profiles (delivery may import
    # audiences, not the other way round).
    inlines = [IdentityInline, PushRegistrationInline, ConsentInline]
    actions = ["erase_profiles", "merge_profiles"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Profile]:
        return super().get_queryset(request).prefetch_related(identities_prefetch())

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Profile], search_term: str
    ) -> tuple[QuerySet[Profile], bool]:
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return found, may_have_duplicates
        # Also the normalised spelling in each namespace: "(416) 555-0100" finds +14165550100.
        exact = Q()
        for namespace in IdentityNamespace.objects.all():
            try:
                value = identity_normalize(namespace, term)
            except IdentityValueError:
                continue
            exact |= Q(identities__namespace=namespace, identities__value=value)
        if exact:
            ids = queryset.filter(exact).values("pk")
            found = found | queryset.filter(pk__in=ids)
        return found, True

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # Erasure goes through profile_delete (the action below), not a bare queryset delete.
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request: HttpRequest, obj: Profile) -> None:
        profile_delete(profile=obj)

    @admin.display(description=_("primary identity"))
    def primary_identity(self, obj: Profile) -> str:
        return str(obj)  # the primary identity, or "Profile 1a2b3c4d" for one without

    @admin.display(description=_("attributes (formatted)"))
    def attributes_pretty(self, obj: Profile) -> SafeString:
        text = json.dumps(obj.attributes or {}, indent=2, ensure_ascii=False, sort_keys=True)
        return format_html('<pre class="clarion-json">{}</pre>', text)

    @admin.display(description=_("suppression entries"))
    def suppression_entries(self, obj: Profile) -> SafeString | str:
        if obj.pk is None:
            return "—"
        entries = list(profile_suppressions(obj))
        if not entries:
            return gettext("None of this profile's addresses is suppressed.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    entry.get_channel_display(),
                    entry.address,
                    entry.get_reason_display(),
                    datetime_html(entry.created_at),
                )
                for entry in entries
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            gettext("Channel"),
            gettext("Address"),
            gettext("Reason"),
            gettext("Since"),
            rows,
        )

    @admin.action(description=_("Erase selected profiles"), permissions=["delete"])
    def erase_profiles(self, request: HttpRequest, queryset: QuerySet[Profile]) -> None:
        count = 0
        for profile in queryset:
            profile_delete(profile=profile)
            count += 1
        self.message_user(
            request,
            ngettext("Erased %(count)d profile.", "Erased %(count)d profiles.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Merge two profiles (keeps the older one)"), permissions=["change"])
    def merge_profiles(self, request: HttpRequest, queryset: QuerySet[Profile]) -> None:
        profiles = list(queryset.order_by("created_at", "pk")[:3])
        if len(profiles) != 2:
            self.message_user(
                request, gettext("Select exactly two profiles to merge."), messages.ERROR
            )
            return
        keep, absorb = profiles
        absorb_name = str(absorb)  # its identities move to the kept profile
        try:
            kept = profile_merge(keep=keep, absorb=absorb)
        except ClarionError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(
            request,
            gettext("Merged profile %(absorbed)s into %(kept)s.")
            % {"absorbed": absorb_name, "kept": kept},
            messages.SUCCESS,
        )


# --- Suppression list ----------------------------------------------------------------------


class SuppressionForm(forms.ModelForm[Suppression]):
    class Meta:
        model = Suppression
        fields = ["channel", "address", "reason", "note"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        channel = cleaned.get("channel")
        address = cleaned.get("address")
        if channel and address:
            try:
                cleaned["address"] = _normalized_address(channel, address)
            except IdentityValueError as error:
                self.add_error("address", str(error))
        return cleaned


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin[Suppression]):
    form = SuppressionForm
    list_display = ["address", "channel", "reason", "created_at"]
    list_filter = ["channel", "reason"]
    search_fields = ["address"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"
