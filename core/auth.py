"""Logging in to the admin: Django's model backend, loading the user's preferences with it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class PreferenceModelBackend(ModelBackend):
    """``ModelBackend`` whose session user comes with its ``UserPreference`` joined.

    ``core.middleware`` reads the preference on every request: joined here, it costs
    no query of its own (a left join on the user's row, which is read anyway).
    """

    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("clarion_preference").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
