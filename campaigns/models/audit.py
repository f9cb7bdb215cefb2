"""The audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# What each audit action is called where a person reads the log (the campaign page's
# recent activity, the audit log); the row stores the code, which the API returns.
# A context of their own: "Created" as an action is not "Created" as a column (a time).
AUDIT_ACTION_LABELS: dict[str, Promise] = {
    "create": pgettext_lazy("audit action", "Created"),
    "edit": pgettext_lazy("audit action", "Edited"),
    "delete": pgettext_lazy("audit action", "Deleted"),
    "duplicate": pgettext_lazy("audit action", "Duplicated"),
    "submit_for_review": pgettext_lazy("audit action", "Submitted for approval"),
    "approve": pgettext_lazy("audit action", "Approved"),
    "activate": pgettext_lazy("audit action", "Activated"),
    "reject": pgettext_lazy("audit action", "Sent back to draft"),
    "go_live": pgettext_lazy("audit action", "Went live"),
    "open_draft_version": pgettext_lazy("audit action", "Draft version opened"),
    "publish": pgettext_lazy("audit action", "Draft version published"),
    "discard_draft_version": pgettext_lazy("audit action", "Draft version discarded"),
    "send_test": pgettext_lazy("audit action", "Test sent"),
    "stop": pgettext_lazy("audit action", "Stopped"),
    "complete": pgettext_lazy("audit action", "Completed"),
    "archive": pgettext_lazy("audit action", "Archived"),
}


class AuditEvent(models.Model):
    """Who did what to which campaign, and when. Rows are never edited."""

    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
        verbose_name=_("campaign"),
    )
    campaign_name = models.CharField(_("campaign name"), max_length=200)
    action = models.CharField(_("action"), max_length=40, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    api_key = models.ForeignKey(
        "core.ApiKey",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("API key"),
    )
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.action_display} {self.campaign_name}"

    @property
    def action_display(self) -> str:
        """The action in the reader's language; its code when it has no label."""
        label = AUDIT_ACTION_LABELS.get(self.action)
        return str(label) if label is not None else self.action

    @property
    def actor_display(self) -> str:
        if self.actor is not None:
            return self.actor.get_username()
        if self.api_key is not None:
            return str(_("API key %(name)s") % {"name": self.api_key.name})
        return str(_("system"))
