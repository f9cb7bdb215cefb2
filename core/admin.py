"""Admins for what every app shares: API keys (secret shown once) and access labels."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.actors import Actor
from core.admin_display import DualListHelpMixin
from core.apikeys import api_key_create, api_key_grant_errors, api_key_revoke, api_key_update
from core.errors import ClarionError, FieldError
from core.models import AccessLabel, ApiKey, ApiKeyEvent
from core.scopes import SCOPES

# Service pointers -> form fields, so an error shows at the field it concerns.
_FORM_FIELDS = {"/name": "name", "/scopes": "scopes", "/accessLabels": "access_labels"}


def _scope_choices() -> list[tuple[str, SafeString]]:
    """Each scope by what it lets a key do, its code beside it (read per request, so in
    the request's language)."""
    return [
        (scope, format_html('{} <code class="clarion-scope">{}</code>', text, scope))
        for scope, text in SCOPES.items()
    ]


def _form_field(error: FieldError) -> str | None:
    for prefix, field in _FORM_FIELDS.items():
        if error.pointer == prefix or error.pointer.startswith(prefix + "/"):
            return field
    return None


def _errors_on_form(form: forms.BaseForm, error: ClarionError) -> None:
    if not error.errors:
        form.add_error(None, error.message)
    for field_error in error.errors:
        form.add_error(_form_field(field_error), field_error.detail)


class ApiKeyCreateForm(forms.Form):
    """What an administrator chooses for a new key; the secret is generated."""

    name = forms.CharField(
        label=_("Name"),
        max_length=120,
        help_text=_("Who or what uses the key, e.g. “Shop backend”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=_scope_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "What the key may do. Give only what the caller needs; "
            "you can give only scopes you hold yourself."
        ),
    )
    access_labels = forms.ModelMultipleChoiceField(
        label=_("Access labels"),
        queryset=AccessLabel.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "The key sees only campaigns whose every label it holds; "
            "you can give only labels you hold yourself."
        ),
    )


class ApiKeyChangeForm(forms.ModelForm[ApiKey]):
    """Name, scopes, labels and the on/off switch; never the secret or its hash."""

    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=_scope_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "access_labels", "is_active"]
        widgets = {"access_labels": forms.CheckboxSelectMultiple}


class ApiKeyEventInline(admin.TabularInline[ApiKeyEvent, ApiKey]):
    model = ApiKeyEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "actor", "detail_summary"]
    readonly_fields = ["created_at", "action", "actor", "detail_summary"]
    verbose_name_plural = _("History")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("detail"))
    def detail_summary(self, obj: ApiKeyEvent) -> str:
        return json.dumps(obj.detail, ensure_ascii=False) if obj.detail else ""


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    """Keys are created with a generated secret, shown once; only its hash is stored.

    Creating, changing and revoking go through ``core.apikeys``, which checks that
    the person holds what they give and writes the key's history.
    """

    form = ApiKeyChangeForm
    list_display = ["name", "prefix", "scope_list", "last_used_at", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "created_by"]
    fields = [
        "name",
        "prefix",
        "scopes",
        "access_labels",
        "is_active",
        "created_at",
        "last_used_at",
        "created_by",
    ]
    inlines = [ApiKeyEventInline]
    actions = ["revoke_selected"]

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        # Keys are revoked, not deleted: their history (and the audit log's references
        # to them) must outlive them.
        return False

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> SafeString | str:
        if not obj.scopes:
            return "—"
        # One per line: a comma-joined list wraps mid-scope in a narrow column.
        return format_html(
            '<ul class="clarion-scope-list">{}</ul>',
            format_html_join("", "<li><code>{}</code></li>", ((scope,) for scope in obj.scopes)),
        )

    def get_form(
        self, request: HttpRequest, obj: ApiKey | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[ApiKey]]:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        actor = Actor(user=request.user)

        class GrantCheckedForm(form_class):  # type: ignore[valid-type,misc]
            # Refuse, at the field, a scope or label the person does not hold.
            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                if obj is not None and not self.errors:
                    errors = api_key_grant_errors(
                        key=obj,
                        scopes=cleaned.get("scopes") or [],
                        access_labels=[lb.name for lb in cleaned.get("access_labels") or []],
                        actor=actor,
                        is_active=bool(cleaned.get("is_active")),
                    )
                    for error in errors:
                        self.add_error(_form_field(error), error.detail)
                return cleaned

        return GrantCheckedForm

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        """Through ``api_key_update``: the same checks, and the key's history is written."""
        api_key_update(
            key=obj,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data.get("scopes") or [],
            access_labels=[lb.name for lb in form.cleaned_data["access_labels"]],
            is_active=form.cleaned_data["is_active"],
            actor=Actor(user=request.user),
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Labels were set by ``api_key_update``; only the (read-only) history formset is left."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Ask for name, scopes and labels; answer with the secret, once, on this response."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiKeyCreateForm(request.POST or None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Add API key"),
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            try:
                key, secret = api_key_create(
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    access_labels=[label.name for label in form.cleaned_data["access_labels"]],
                    actor=Actor(user=request.user),
                )
            except ClarionError as error:
                _errors_on_form(form, error)
            else:
                self.log_addition(request, key, [{"added": {}}])
                context.update(
                    {
                        "title": gettext("API key created"),
                        "key": key,
                        "secret": secret,
                        "changelist_url": reverse("admin:core_apikey_changelist"),
                    }
                )
                response = TemplateResponse(request, "admin/core/apikey/created.html", context)
                # The secret is on this page only: keep it out of every cache.
                response["Cache-Control"] = "no-store"
                return response
        return TemplateResponse(request, "admin/core/apikey/add.html", context)

    @admin.action(description=_("Revoke the selected API keys"), permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        actor = Actor(user=request.user)
        revoked = [api_key_revoke(key=key, actor=actor) for key in queryset.filter(is_active=True)]
        self.message_user(
            request,
            ngettext("Revoked %d API key.", "Revoked %d API keys.", len(revoked)) % len(revoked),
            messages.SUCCESS,
        )


@admin.register(ApiKeyEvent)
class ApiKeyEventAdmin(admin.ModelAdmin[ApiKeyEvent]):
    """The keys' history, written by ``core.apikeys`` only: read here, never edited."""

    list_display = ["created_at", "action", "key_link", "actor", "detail_summary"]
    list_filter = ["action", "created_at"]
    search_fields = ["key_name"]
    fields = ["created_at", "action", "api_key", "key_name", "actor", "detail"]
    readonly_fields = ["created_at", "action", "api_key", "key_name", "actor", "detail"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("API key"), ordering="key_name")
    def key_link(self, obj: ApiKeyEvent) -> str:
        if obj.api_key_id is None:
            return obj.key_name
        url = reverse("admin:core_apikey_change", args=[obj.api_key_id])
        return format_html('<a href="{}">{}</a>', url, obj.key_name)

    @admin.display(description=_("detail"))
    def detail_summary(self, obj: ApiKeyEvent) -> str:
        return json.dumps(obj.detail, ensure_ascii=False) if obj.detail else ""


@admin.register(AccessLabel)
class AccessLabelAdmin(DualListHelpMixin, admin.ModelAdmin[AccessLabel]):
    list_display = ["name", "description", "group_names"]
    search_fields = ["name"]
    filter_horizontal = ["groups"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessLabel]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("groups holding this label"))
    def group_names(self, obj: AccessLabel) -> str:
        return ", ".join(group.name for group in obj.groups.all())
