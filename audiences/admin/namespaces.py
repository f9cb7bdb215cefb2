from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audiences.models import IdentityNamespace


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
