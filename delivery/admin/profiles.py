"""The profile page's "Messages" section: the person's latest messages.

Apps import downwards only (core <- audiences <- campaigns <- delivery), so the
profile admin in audiences cannot know about messages. Delivery extends it
instead: ``ProfileWithMessagesAdmin`` subclasses audiences' ``ProfileAdmin``,
adds the section through its own change form template (which extends Django's
and fills ``after_related_objects``), and replaces the registration
(``unregister`` then ``register``), the documented way to extend another app's
ModelAdmin. Importing ``audiences.admin.profiles`` first makes sure the original
is registered, whatever order the admin modules are discovered in.

A section, not an inline: a person can have thousands of messages, and a
read-only list is not a form that saving the profile would have to post back.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from audiences.admin.profiles import ProfileAdmin
from audiences.models import Profile
from delivery.admin.common import visible_to
from delivery.admin.executions import messages_url
from delivery.models import Message

PROFILE_MESSAGES_SHOWN = 20  # the latest; the full list is one link away
VIEW_MESSAGES = "delivery.view_message"


def profile_messages_context(request: HttpRequest, object_id: str) -> dict[str, Any]:
    """The latest messages of the profile, as the user may see them (two queries)."""
    if not request.user.has_perm(VIEW_MESSAGES):
        return {}
    try:
        profile_id = UUID(str(object_id))
    except ValueError:
        return {}
    mine = visible_to(request, Message.objects.filter(profile_id=profile_id))
    latest = list(mine.select_related("campaign")[: PROFILE_MESSAGES_SHOWN + 1])
    return {
        "profile_messages": latest[:PROFILE_MESSAGES_SHOWN],
        "profile_messages_more": len(latest) > PROFILE_MESSAGES_SHOWN,
        "profile_messages_url": messages_url(profile=profile_id),
        "profile_messages_shown": True,
    }


class ProfileWithMessagesAdmin(ProfileAdmin):
    change_form_template = "admin/delivery/profile/change_form.html"

    class Media:
        css = {"all": ["delivery/admin/delivery.css"]}

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = {**(extra_context or {}), **profile_messages_context(request, object_id)}
        return super().change_view(request, object_id, form_url, extra)


admin.site.unregister(Profile)
admin.site.register(Profile, ProfileWithMessagesAdmin)
