"""Admin for people: namespaces, profiles, audiences and imports (one module each)."""

from audiences.admin import (
    audiences,  # noqa: F401
    imports,  # noqa: F401
    namespaces,  # noqa: F401
    profiles,  # noqa: F401
)
