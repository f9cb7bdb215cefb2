"""Admin for profile imports: upload a file, watch the progress, download the rejected rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.validators import FileExtensionValidator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audiences.consent_values import consent_values_text
from audiences.importing import FORMATS
from audiences.models import Audience, ProfileImport
from audiences.services.imports import (
    profile_import_delete,
    profile_import_queue,
    profile_imports_delete,
)


class ProfileImportForm(forms.ModelForm[ProfileImport]):
    class Meta:
        model = ProfileImport
        fields = ["file", "namespace", "audience"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "file" in self.fields:  # the add form; an existing import is read-only
            self.fields["file"].validators.append(
                FileExtensionValidator([suffix.lstrip(".") for suffix in FORMATS])
            )
            self.fields["file"].help_text = gettext(
                "CSV with a header row, or JSON lines (.jsonl). The identity column is named "
                "like the namespace (e.g. email); locale, timeZone, consent.email, consent.sms, "
                "consent.push and identities.<namespace> columns are understood; any other "
                "column is an attribute, dotted names nesting (loyalty.tier). Consent columns "
                "take %(consent)s."
            ) % {"consent": consent_values_text()}
        audience = self.fields.get("audience")
        if isinstance(audience, forms.ModelChoiceField):
            audience.queryset = Audience.objects.filter(kind=Audience.Kind.STATIC)


@admin.register(ProfileImport)
class ProfileImportAdmin(admin.ModelAdmin[ProfileImport]):
    form = ProfileImportForm
    list_display = [
        "created_at",
        "file_name",
        "namespace",
        "status",
        "progress",
        "created_count",
        "updated_count",
        "rejected_count",
        "rejected_rows",
    ]
    list_filter = ["status", "namespace"]
    list_select_related = ["namespace"]
    readonly_fields = [
        "file_name",
        "namespace",
        "audience",
        "status",
        "progress",
        "created_count",
        "updated_count",
        "rejected_count",
        "rejected_rows",
        "error",
        "created_by",
        "created_at",
        "heartbeat_at",
        "finished_at",
    ]

    class Media:
        js = ["audiences/import_progress.js"]

    # --- pages ------------------------------------------------------------------------------
    def get_fields(self, request: HttpRequest, obj: ProfileImport | None = None) -> Any:
        return ["file", "namespace", "audience"] if obj is None else self.readonly_fields

    def get_readonly_fields(
        self, request: HttpRequest, obj: ProfileImport | None = None
    ) -> list[str]:
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: ProfileImport | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: ProfileImport, form: Any, change: bool) -> None:
        obj.created_by = request.user  # type: ignore[assignment]
        profile_import_queue(profile_import=obj)

    def response_add(
        self, request: HttpRequest, obj: ProfileImport, post_url_continue: str | None = None
    ) -> HttpResponse:
        # Straight to the import's page, where its progress shows.
        self.message_user(request, gettext("The import is queued; this page shows its progress."))
        return redirect("admin:audiences_profileimport_change", obj.pk)

    def delete_model(self, request: HttpRequest, obj: ProfileImport) -> None:
        profile_import_delete(profile_import=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ProfileImport]) -> None:
        # The changelist's "delete selected" calls this, and a queryset delete would
        # leave the files behind.
        profile_imports_delete(imports=queryset)

    # --- columns ----------------------------------------------------------------------------
    @admin.display(description=_("file"), ordering="original_name")
    def file_name(self, obj: ProfileImport) -> str:
        return obj.display_name

    @admin.display(description=_("progress"))
    def progress(self, obj: ProfileImport) -> str:
        live = obj.status not in ProfileImport.FINISHED
        return format_html(
            '<progress max="100" value="{}" data-status="{}" data-status-url="{}">{}%</progress>'
            ' <span class="clarion-import-percent">{}%</span>',
            obj.progress_percent,
            obj.status,
            reverse("admin:audiences_profileimport_status", args=[obj.pk]) if live else "",
            obj.progress_percent,
            obj.progress_percent,
        )

    @admin.display(description=_("rejected rows"))
    def rejected_rows(self, obj: ProfileImport) -> str:
        if not obj.rejected_file:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:audiences_profileimport_rejected", args=[obj.pk]),
            gettext("Download (%d rows)") % obj.rejected_count,
        )

    # --- extra views ------------------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        # <str:>, not <uuid:>: with the uuid converter a malformed id fell through to the
        # admin's catch-all and was redirected twice instead of answering 404.
        extra = [
            path(
                "<str:import_id>/status/",
                wrap(self.status_view),
                name="audiences_profileimport_status",
            ),
            path(
                "<str:import_id>/rejected/",
                wrap(self.rejected_view),
                name="audiences_profileimport_rejected",
            ),
        ]
        return extra + super().get_urls()

    def _visible(self, request: HttpRequest, import_id: str) -> ProfileImport:
        if not self.has_view_permission(request):
            raise PermissionDenied
        found = self.get_object(request, import_id)  # None for a malformed id too
        if found is None:
            raise Http404(gettext("No such import."))
        return found

    def status_view(self, request: HttpRequest, import_id: str) -> JsonResponse:
        """What the progress bar polls every second while the import runs."""
        found = self._visible(request, import_id)
        return JsonResponse(
            {
                "status": found.status,
                "statusLabel": found.get_status_display(),
                "percent": found.progress_percent,
                "processedBytes": found.processed_bytes,
                "totalBytes": found.total_bytes,
                "created": found.created_count,
                "updated": found.updated_count,
                "rejected": found.rejected_count,
                "error": found.error,
                "finished": found.status in ProfileImport.FINISHED,
            }
        )

    def rejected_view(self, request: HttpRequest, import_id: str) -> FileResponse:
        """The rejected rows as a CSV attachment; personal data, so only for who may view imports."""
        found = self._visible(request, import_id)
        if not found.rejected_file:
            raise Http404(gettext("This import rejected no rows."))
        stem = Path(found.display_name or "import").stem
        return FileResponse(
            found.rejected_file.open("rb"),
            as_attachment=True,
            filename=f"{stem}-rejected.csv",
            content_type="text/csv",
        )
