"""Test settings: the base settings, made fast and deterministic.

``DATABASE_URL`` and ``CELERY_BROKER_URL``/``REDIS_URL`` still apply, so the
same suite runs on SQLite locally and on PostgreSQL and Redis in CI.
"""

from __future__ import annotations

import os

os.environ.setdefault(
    "CLARION_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "var", "test")
)

from config.settings.base import *  # noqa: F403
from config.settings.base import DATA_DIR, DATABASES, REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so a Celery worker process can open the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-clarion.sqlite3")}

# Static files come from the finders in tests; an empty root keeps WhiteNoise quiet.
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Publish send tasks inline, so a test sees them published before the response returns.
CLARION_ENQUEUE_IN_BACKGROUND = False

if not REDIS_URL:
    # One test process: its memory is enough, and nothing outlives the run. (The processes
    # integration tests start use the base settings' file cache, shared between them.)
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
