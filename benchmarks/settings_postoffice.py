"""Settings of the django-post-office peer (benchmarks/audience_postoffice.py) only: its
own database (``DATABASE_URL``), django-post-office and nothing of Clarion's apps, so
Clarion's INSTALLED_APPS, tests and migrations never see it."""

from __future__ import annotations

import os

import dj_database_url

SECRET_KEY = "bench-only"  # noqa: S105 (a throwaway process on loopback)
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "post_office"]
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("BENCH_SMTP_PORT", "25"))
# BATCH_SIZE and THREADS_PER_PROCESS are set per run by benchmarks/audience_postoffice.py
# (its --batch-size and --threads); LOG_LEVEL stays at its default, 2 (a Log row per email
# sent, as Clarion records an attempt per email).
POST_OFFICE = {
    "BACKENDS": {"default": EMAIL_BACKEND},
    "DEFAULT_PRIORITY": "medium",
    "BATCH_SIZE": int(os.environ.get("BENCH_POSTOFFICE_BATCH_SIZE", "100")),
    "THREADS_PER_PROCESS": int(os.environ.get("BENCH_POSTOFFICE_THREADS", "5")),
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
