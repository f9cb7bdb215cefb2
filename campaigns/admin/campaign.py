"""The campaign admin: the brief's walk-through, step by step, on one change page."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Prefetch, QuerySet
from django.db.models.fields.related import ManyToManyField
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audiences.models import IdentityNamespace
from campaigns.admin import views
from campaigns.admin.actions import ACTIONS, campaign_object_tools
from campaigns.admin.editing import (
    CampaignRefused,
    campaign_document_from_form,
    refusal_of,
    refusal_remember,
)
from campaigns.admin.forms import CampaignContentForm, CampaignContentFormSet, CampaignForm
from campaigns.limits import MAX_LOCALES_PER_CAMPAIGN
from campaigns.models import TRACKING_BY_CHANNEL, Campaign, CampaignContent, Status, Tag
from campaigns.preview import (
    campaign_curl_help,
    campaign_curl_sample,
    campaign_preview_source,
    campaign_sample_data,
)
from campaigns.selectors import campaign_list_visible
from campaigns.services.authoring import (
    campaign_create,
    campaign_delete,
    campaign_update,
)
from core.actors import Actor
from core.admin_display import DualListHelpMixin
from core.errors import ClarionError
from core.selectors import access_labels_held

STEP_FIELDSETS: Any = [
    (
        _("1. Properties"),
        {
            "fields": ["name", "description", "category", "tags", "access_labels"],
            "description": _(
                "What the campaign is, and who may see it. Transactional campaigns go to the "
                "recipients named in each call; marketing campaigns go to an audience."
            ),
        },
    ),
    (
        _("2. Action"),
        {
            "fields": [
                "channel",
                "channel_configuration",
                ("track_opens", "track_clicks"),
                "throttle_rate",
            ],
            "description": _(
                "The one channel the campaign sends on, the sender an administrator set up for "
                "it, and how fast it may send."
            ),
        },
    ),
    (
        _("3. Content"),
        {
            "fields": ["default_locale", "locale_attribute"],
            "description": _(
                "One message per locale, written with {{ profile.* }} and {{ context.* }} "
                "(the data sent in the trigger call). A recipient whose locale has no content "
                "gets its language (pt-BR falls back to pt), then the default locale. In the "
                "HTML body these values are HTML-escaped; write {{ context.banner | safe }} "
                "only for markup you trust."
            ),
            "classes": ["step-content"],
        },
    ),
    (
        _("4. Audience"),
        {
            "fields": ["identity_namespace", "create_new_profiles", "audience"],
            "description": _("How trigger calls name recipients, and who receives the campaign."),
        },
    ),
    (
        _("5. Schedule"),
        {
            "fields": [("start_at", "end_at")],
            "description": _(
                "Optional. Outside this window trigger calls are refused with a clear error. "
                "Times are in your time zone (Preferences in the header); Clarion stores "
                "them in UTC."
            ),
        },
    ),
]


class CampaignContentInline(admin.StackedInline[CampaignContent, Campaign]):
    """The content per locale; the change page's script shows the fields of the chosen channel."""

    model = CampaignContent
    form = CampaignContentForm
    formset = CampaignContentFormSet
    extra = 0
    min_num = 0
    max_num = MAX_LOCALES_PER_CAMPAIGN
    validate_max = True
    classes = ["campaign-contents"]
    verbose_name = _("locale")
    verbose_name_plural = _("Content per locale")
    fields = [
        "locale",
        "subject",
        "preheader",
        "html",
        "text",
        "title",
        "body",
        "deep_link",
        "image_url",
    ]

    def get_extra(self, request: HttpRequest, obj: Campaign | None = None, **kwargs: Any) -> int:
        return 1 if obj is None else 0

    def get_formset(self, request: HttpRequest, obj: Campaign | None = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        refusal = refusal_of(request)
        if refusal is None:
            return formset
        return type(formset.__name__, (formset,), {"refusal": refusal})

    def has_add_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        if obj is not None and not obj.is_editable:
            return False
        return super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        if obj is not None and not obj.is_editable:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Campaign)
class CampaignAdmin(DualListHelpMixin, admin.ModelAdmin[Campaign]):
    form = CampaignForm
    fieldsets = STEP_FIELDSETS
    inlines = [CampaignContentInline]
    list_display = ["name", "status_badge", "channel", "category", "tag_list", "updated_at"]
    list_filter = ["status", "channel", "category", "tags"]
    search_fields = ["name"]
    filter_horizontal = ["tags", "access_labels"]
    actions = ["stop_selected", "archive_selected", "duplicate_selected", "delete_drafts"]
    change_form_template = "admin/campaigns/campaign/change_form.html"

    class Media:
        css = {"all": ["campaigns/admin/campaign.css"]}
        js = ["campaigns/admin/campaign.js"]

    # --- visibility -------------------------------------------------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        """Only campaigns whose every access label the user holds."""
        return campaign_list_visible(actor=Actor(user=request.user)).prefetch_related(
            Prefetch("tags", queryset=Tag.objects.order_by("name"))
        )

    def formfield_for_manytomany(
        self, db_field: ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField | None:
        if db_field.name == "access_labels":
            # Nobody can give a label they do not hold (the API refuses it too).
            held = access_labels_held(Actor(user=request.user))
            queryset = db_field.related_model._default_manager.all()
            kwargs["queryset"] = queryset if held is None else queryset.filter(id__in=held)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        namespace = IdentityNamespace.objects.filter(code="email").first()
        if namespace is not None:
            initial.setdefault("identity_namespace", str(namespace.pk))
        return initial

    # --- read-only rules ----------------------------------------------------------
    def has_change_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        """A campaign that is not editable opens read-only (Django's view mode)."""
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        """Only drafts are deleted; the others are archived."""
        if obj is not None and obj.status != Status.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def can_act(self, request: HttpRequest) -> bool:
        """May the user press lifecycle buttons (change permission on campaigns)?"""
        return super().has_change_permission(request)

    # --- saving through the authoring service ---------------------------------------
    def get_form(
        self, request: HttpRequest, obj: Campaign | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        refusal = refusal_of(request)
        if refusal is None:
            return form
        return type(form.__name__, (form,), {"refusal": refusal})

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except CampaignRefused as refused:
            # The service refused the save inside Django's transaction, which has rolled
            # back. Validate the same POST again with its errors attached, so the page
            # shows each one at its field and nothing is written.
            refusal_remember(request, refused.error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(
        self, request: HttpRequest, obj: Campaign, form: ModelForm[Any], change: bool
    ) -> None:
        """Nothing here: ``save_related`` has the content too and saves both in one service call."""

    def save_related(
        self, request: HttpRequest, form: ModelForm[Any], formsets: Any, change: bool
    ) -> None:
        """Save through the API's services: same lock, validation and audit event."""
        actor = Actor(user=request.user)
        document = campaign_document_from_form(form, formsets)
        try:
            if change:
                saved = campaign_update(campaign=form.instance, data=document, actor=actor)
            else:
                saved = campaign_create(data=document, actor=actor)
        except ClarionError as error:
            raise CampaignRefused(error) from error
        # Django's history entry and redirect use the form's object: give it the saved id.
        form.instance.pk = saved.pk
        for formset in formsets:
            formset.save(commit=False)  # lists added/changed/deleted rows for the history

    def delete_model(self, request: HttpRequest, obj: Campaign) -> None:
        campaign_delete(campaign=obj, actor=Actor(user=request.user))

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        found = super().get_actions(request)
        found.pop("delete_selected", None)  # replaced by delete_drafts (the service's rule)
        return found

    # --- changelist ----------------------------------------------------------------
    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: Campaign) -> str:
        label = obj.get_status_display()
        if obj.has_draft_version:
            label = gettext("%s, draft version open") % label
        return format_html('<span class="clarion-status status-{}">{}</span>', obj.status, label)

    @admin.display(description=_("tags"))
    def tag_list(self, obj: Campaign) -> str:
        return ", ".join(tag.name for tag in obj.tags.all())

    def _each(
        self, request: HttpRequest, queryset: QuerySet[Campaign], action: str
    ) -> list[Campaign]:
        done: list[Campaign] = []
        chosen = ACTIONS[action]
        for campaign in queryset:
            try:
                done.append(chosen.run(campaign, Actor(user=request.user)))
            except ClarionError as error:
                messages.error(request, f"{campaign.name}: {error.message}")
        if done:
            messages.success(
                request,
                gettext("%(action)s: %(names)s")
                % {"action": chosen.label, "names": ", ".join(c.name for c in done)},
            )
        return done

    @admin.action(description=_("Stop selected campaigns"), permissions=["change"])
    def stop_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._each(request, queryset, "stop")

    @admin.action(description=_("Archive selected campaigns"), permissions=["change"])
    def archive_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._each(request, queryset, "archive")

    @admin.action(description=_("Duplicate selected campaigns"), permissions=["add"])
    def duplicate_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._each(request, queryset, "duplicate")

    @admin.action(description=_("Delete selected drafts"), permissions=["delete"])
    def delete_drafts(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        deleted: list[str] = []
        for campaign in queryset:
            try:
                campaign_delete(campaign=campaign, actor=Actor(user=request.user))
            except ClarionError as error:
                messages.error(request, f"{campaign.name}: {error.message}")
            else:
                deleted.append(campaign.name)
        if deleted:
            messages.success(request, gettext("Deleted: %s") % ", ".join(deleted))

    # --- extra pages -------------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        extra = [
            path(
                "<path:object_id>/review/",
                wrap(lambda request, object_id: views.review_view(self, request, object_id)),
                name="campaigns_campaign_review",
            ),
            path(
                "<path:object_id>/preview/",
                wrap(lambda request, object_id: views.preview_view(self, request, object_id)),
                name="campaigns_campaign_preview",
            ),
            path(
                "<path:object_id>/action/<slug:action>/",
                wrap(
                    lambda request, object_id, action: views.action_view(
                        self, request, object_id, action
                    )
                ),
                name="campaigns_campaign_action",
            ),
        ]
        return extra + super().get_urls()

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Campaign | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context.update(self._campaign_context(request, obj))
        context["channel_tracking"] = TRACKING_BY_CHANNEL  # campaign.js hides what is not
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _campaign_context(self, request: HttpRequest, obj: Campaign) -> dict[str, Any]:
        live = obj.status in (Status.LIVE, Status.SCHEDULED)
        base_url = settings.CLARION_PUBLIC_URL or request.build_absolute_uri("/")
        preview = campaign_preview_source(obj)
        sample = campaign_sample_data(obj)
        return {
            "campaign_tools": campaign_object_tools(obj) if self.can_act(request) else [],
            "campaign_locales": sorted(preview.content),
            "preview_default_locale": preview.default_locale,
            "preview_of_live_version": preview.is_live_version,
            # Pre-filled with every variable the content uses, so the shape to send shows.
            "preview_sample_profile": json.dumps(sample["profile"], indent=2, ensure_ascii=False),
            "preview_sample_context": json.dumps(sample["context"], indent=2, ensure_ascii=False),
            "curl_sample": campaign_curl_sample(obj, base_url=base_url) if live else "",
            "curl_help": campaign_curl_help(obj) if live else [],
            "versions": list(obj.versions.select_related("created_by").order_by("-number")),
            "audit_events": list(
                obj.audit_events.select_related("actor", "api_key").order_by("-created_at", "-id")[
                    :10
                ]
            ),
            "audit_url": reverse("admin:campaigns_auditevent_changelist")
            + f"?campaign__id__exact={obj.pk}",
            "editable": obj.is_editable,
        }
