"""Who is acting: a signed-in user, an API key, or the system (beat tasks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

if TYPE_CHECKING:
    from core.models import ApiKey


@dataclass(frozen=True)
class Actor:
    """The user or API key on whose behalf a service acts; both None for the system."""

    user: AbstractBaseUser | AnonymousUser | None = None
    api_key: ApiKey | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls()

    @property
    def db_user(self) -> User | None:
        """The user to store in foreign keys (None for API keys and the system)."""
        if isinstance(self.user, User) and self.user.is_authenticated:
            return self.user
        return None

    @property
    def is_superuser(self) -> bool:
        return bool(self.db_user is not None and getattr(self.db_user, "is_superuser", False))

    def has_perm(self, perm: str) -> bool:
        user = self.db_user
        return bool(user is not None and user.has_perm(perm))
