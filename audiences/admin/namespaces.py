from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from audiences.models import IdentityNamespace
from audiences.selectors import identity_namespaces_forget


@admin.register(IdentityNamespace)
class IdentityNamespaceAdmin(admin.ModelAdmin[IdentityNamespace]):
    list_display = ["code", "name", "value_kind", "builtin"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["code", "builtin"] if obj is not None and obj.builtin else ["builtin"]

    def has_delete_permission(
        self, request: HttpRequest, obj: IdentityNamespace | None = None
    ) -> bool:
        if obj is not None and obj.builtin:
            return False
        return super().has_delete_permission(request, obj)

    # The profiles API keeps the namespaces a few seconds per process: this one forgets
    # them at once (audiences.selectors.identity_namespaces).
    def save_model(
        self, request: HttpRequest, obj: IdentityNamespace, form: ModelForm[Any], change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        identity_namespaces_forget()

    def delete_model(self, request: HttpRequest, obj: IdentityNamespace) -> None:
        super().delete_model(request, obj)
        identity_namespaces_forget()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[IdentityNamespace]) -> None:
        super().delete_queryset(request, queryset)
        identity_namespaces_forget()
