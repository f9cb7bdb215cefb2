"""Admin for people: namespaces, profiles, audiences and imports (one module each)."""

from audiences.admin import namespaces  # noqa: F401
