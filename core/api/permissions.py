"""Who may call an endpoint: API key scopes, or a staff user's model permissions.

Each view declares, per HTTP method, the scope an API key needs and the Django
permission a signed-in staff user needs (the admin's session works in the
browsable docs). Access labels are applied by the selectors, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from core.actors import Actor
from core.models import ApiKey


@dataclass(frozen=True)
class Access:
    """What one operation needs: an API key scope (or one of ``also_scopes``), or a
    user permission."""

    scope: str
    permission: str
    also_scopes: tuple[str, ...] = ()

    def held_by(self, key: ApiKey) -> bool:
        return any(key.has_scope(scope) for scope in (self.scope, *self.also_scopes))


class MissingScope(exceptions.PermissionDenied):
    problem_code = "missing_scope"


class MissingPermission(exceptions.PermissionDenied):
    problem_code = "missing_permission"


class NoAccessRule(exceptions.PermissionDenied):
    problem_code = "no_access_rule"


class HasAccess(BasePermission):
    """Checks ``view.access[request.method]`` against the key or the user.

    The project's default permission (settings ``REST_FRAMEWORK``): it fails
    closed, so a view that declares no ``access`` refuses every request, to
    everyone, superusers included. A view open to all says so itself
    (``permission_classes = [AllowAny]``, as the health check does).
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        rules: dict[str, Access] | None = getattr(view, "access", None)
        if not rules:
            raise NoAccessRule(_("This endpoint declares no access rule, so it refuses everyone."))
        access = rules.get(request.method or "")
        if access is None:  # OPTIONS/HEAD fall back to the read rule, if any
            access = rules.get("GET")
        if access is None:
            raise exceptions.MethodNotAllowed(request.method or "")
        key = request.auth if isinstance(request.auth, ApiKey) else None
        if key is not None:
            if not access.held_by(key):
                raise MissingScope(
                    _("This API key lacks the scope “%s”.")
                    % " or ".join((access.scope, *access.also_scopes)),
                )
            return True
        user = request.user
        if not isinstance(user, User) or not user.is_authenticated:
            raise exceptions.NotAuthenticated()
        if not (user.is_active and user.is_staff):
            raise MissingPermission(_("Only staff users may use the API with a session."))
        if not user.has_perm(access.permission):
            raise MissingPermission(
                _("You lack the permission “%s”.") % access.permission,
            )
        return True


def request_actor(request: Request) -> Actor:
    """The actor a service call is made on behalf of."""
    if isinstance(request.auth, ApiKey):
        return Actor(api_key=request.auth)
    user = request.user
    return Actor(user=user if isinstance(user, User) else None)
