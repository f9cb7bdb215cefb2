"""Clarion settings, read from environment variables with working defaults.

With nothing set, Clarion runs on a SQLite file, an embedded Celery broker
(kombu's filesystem transport), a local-memory cache and a file outbox for
email. ``DATABASE_URL``, ``CELERY_BROKER_URL``, ``REDIS_URL`` and ``EMAIL_URL``
move it to PostgreSQL, Redis and a real mail server. See docs/configuration.md.
"""

from __future__ import annotations

import os
import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
import django_stubs_ext
import phonenumbers
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from core.env import env_bool, env_choice, env_float, env_int, env_list, env_str, env_url

django_stubs_ext.monkeypatch()  # lets admin.ModelAdmin[Model] etc. be subscripted at run time

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env_str("CLARION_DATA_DIR", str(BASE_DIR / "var"))).resolve()
try:
    for _folder in ("broker", "broker-control", "outbox"):
        (DATA_DIR / _folder).mkdir(parents=True, exist_ok=True)
except OSError as _exc:
    raise ImproperlyConfigured(
        f"CLARION_DATA_DIR={str(DATA_DIR)!r} is not writable: {_exc}"
    ) from None

# An insecure key is only acceptable for the embedded, local set-up;
# config.settings.production refuses to start without SECRET_KEY.
SECRET_KEY = env_str("SECRET_KEY", "insecure-local-only-key-change-me-in-production-0123456789")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
for _origin in CSRF_TRUSTED_ORIGINS:
    if urlsplit(_origin).scheme not in ("http", "https"):  # Django compares scheme and host
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS: {_origin!r} needs its scheme, e.g. https://clarion.example."
        )
PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
CLARION_PUBLIC_URL = env_url(
    "CLARION_PUBLIC_URL", f"http://localhost:{PORT}", schemes={"http", "https"}
).rstrip("/")

INSTALLED_APPS = [
    # Django's admin with Clarion's site (config/admin_site.py) as admin.site.
    "config.apps.ClarionAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "anymail",
    "core",
    "audiences",
    "campaigns",
    "delivery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The user's own language and time zone (after LocaleMiddleware, whose choice it
    # overrides, and after AuthenticationMiddleware, which it reads).
    "core.middleware.UserPreferenceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: /api/ speaks the language of Accept-Language only (core/api/language.py).
    "core.api.language.ApiLanguageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
_DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'clarion.sqlite3'}"
_database_url = env_url(
    "DATABASE_URL", _DEFAULT_DATABASE_URL, schemes={"sqlite", "postgres", "postgresql", "pgsql"}
)
try:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
except ValueError as exc:  # dj-database-url raises ValueError on a malformed URL
    raise ImproperlyConfigured(f"DATABASE_URL is not valid: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web process read while the worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (Redis when REDIS_URL is set) ------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    env_url("REDIS_URL", REDIS_URL, schemes={"redis", "rediss", "unix"})
    CACHES = {
        "default": {
            # Django's Redis cache, reusing its Redis client (core/cache.py says why).
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "clarion",
        }
    }
else:
    # Files under CLARION_DATA_DIR, shared by every process of the machine: revoking a
    # key or stopping a campaign reaches all of make run's web workers at once, which
    # a cache in each process's memory would not (they would answer from it for a minute).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# --- Celery -------------------------------------------------------------------
# Default: kombu's filesystem transport, one folder as both in and out, so that
# `make run` needs no broker server.
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL",
    "filesystem://localhost//",  # the host is ignored; naming it silences a kombu warning
    schemes={"filesystem", "redis", "rediss", "amqp", "amqps", "sqla", "memory"},
)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(DATA_DIR / "broker-control"),
    }
elif CELERY_BROKER_URL.startswith(("redis", "rediss")):
    # Raised below the sending settings to outlast the longest retry countdown.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 7200}
    # kombu's Redis transport with one Redis client per pool, not one per publish.
    CELERY_BROKER_TRANSPORT = "core.broker:Transport"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A send task still running when the broker connection drops finishes its batch (the
# default, pinned: Celery 6 will cancel such acks_late tasks, which could stop one between
# the provider's acceptance and the commit). Its message may come back; claims make that
# harmless.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# One periodic dispatcher moves campaigns whose start or end has come
# (ecosystem.md: prefer one dispatcher over a beat entry per campaign); one sweep
# fails profile imports whose worker died (audiences/services/imports.py).
CELERY_BEAT_SCHEDULE = {
    "campaign-dispatch-due": {
        "task": "campaigns.tasks.campaign_dispatch_due_task",
        "schedule": crontab(minute="*"),
    },
    "profile-import-fail-stalled": {
        "task": "audiences.tasks.profile_import_fail_stalled_task",
        "schedule": crontab(minute="*"),
    },
}
# The delivery sweeper (delivery/services/sweeping.py): lost publishes, dead workers'
# claims, stalled fan-outs and due schedules. A message waits at most about the grace
# period plus the interval after a lost publish.
CLARION_SWEEP_INTERVAL_SECONDS = env_int("CLARION_SWEEP_INTERVAL_SECONDS", 15, minimum=1)
CLARION_SWEEP_GRACE_SECONDS = env_int("CLARION_SWEEP_GRACE_SECONDS", 120, minimum=1)
# A message held in "sending" longer than this was claimed by a worker that died.
CLARION_CLAIM_LEASE_SECONDS = env_int("CLARION_CLAIM_LEASE_SECONDS", 600, minimum=10)
CELERY_BEAT_SCHEDULE |= {
    "delivery-sweep": {
        "task": "delivery.tasks.delivery_sweep_task",
        "schedule": float(CLARION_SWEEP_INTERVAL_SECONDS),
    },
    "idempotency-prune": {
        "task": "delivery.tasks.idempotency_prune_task",
        "schedule": crontab(minute="17"),
    },
    # Outbound webhooks: retries and lost first tries (delivery/webhooks/sending.py).
    "webhook-deliveries-due": {
        "task": "delivery.tasks.webhook_deliveries_due_task",
        "schedule": 10.0,
    },
}
# Retention (delivery/retention/): final messages, with their attempts and events, are
# purged once older than this; report counts stay. The minimum leaves time for late
# provider feedback (bounces and complaints come days later) and for investigations.
CLARION_MESSAGE_RETENTION_DAYS = env_int("CLARION_MESSAGE_RETENTION_DAYS", 90, minimum=7)
CELERY_BEAT_SCHEDULE |= {
    # Daily, at a quiet hour; a run finds its work whether or not the last one ran.
    "messages-purge": {
        "task": "delivery.tasks.messages_purge_task",
        "schedule": crontab(hour="3", minute="41"),
    },
    # PostgreSQL: the coming weeks' partitions (weeks ahead: a missed run is harmless).
    "message-partitions-ensure": {
        "task": "delivery.tasks.message_partitions_ensure_task",
        "schedule": crontab(hour="3", minute="11"),
    },
}

# --- Sending ----------------------------------------------------------------------
# Attempts per message for transient errors (timeouts, 4xx SMTP replies, 429, 5xx), with
# exponential backoff from the base delay: 6 attempts from 30 s span about an hour.
CLARION_SEND_MAX_ATTEMPTS = env_int("CLARION_SEND_MAX_ATTEMPTS", 6, minimum=1, maximum=20)
CLARION_SEND_RETRY_BASE_SECONDS = env_int("CLARION_SEND_RETRY_BASE_SECONDS", 30, minimum=1)
# Redis delivers an unacknowledged task again after its visibility timeout, retries
# waiting on a countdown included: keep it above the longest countdown (the last retry,
# with +20 % jitter; 49 minutes with the defaults), so no retry is delivered twice.
_LONGEST_RETRY_SECONDS = CLARION_SEND_RETRY_BASE_SECONDS * 3 ** max(
    0, CLARION_SEND_MAX_ATTEMPTS - 2
)
if "visibility_timeout" in CELERY_BROKER_TRANSPORT_OPTIONS:
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = max(
        7200, int(_LONGEST_RETRY_SECONDS * 1.2 * 1.5)
    )
# Publish send tasks from a background thread of the web process, so a trigger response
# never waits on the broker (delivery/enqueue.py). Tests publish inline.
CLARION_ENQUEUE_IN_BACKGROUND = env_bool("CLARION_ENQUEUE_IN_BACKGROUND", True)
# Where the local SMS and push transports write their messages.
CLARION_OUTBOX_DIR = DATA_DIR / "outbox"
# Trigger calls per second per API key (a token bucket: Redis when REDIS_URL is set,
# else per process), and how many may come at once after a quiet spell.
CLARION_TRIGGER_RATE_LIMIT = env_int("CLARION_TRIGGER_RATE_LIMIT", 1000, minimum=1)
CLARION_TRIGGER_RATE_BURST = env_int("CLARION_TRIGGER_RATE_BURST", 2000, minimum=1)

# --- Outbound webhooks (docs/webhooks.md) -------------------------------------------
# Webhook endpoints may be http:// and private, loopback or link-local addresses: for
# development and tests only. Off, only https to public addresses is allowed (SSRF).
CLARION_WEBHOOKS_ALLOW_PRIVATE = env_bool("CLARION_WEBHOOKS_ALLOW_PRIVATE", False)

# --- SMS and push providers -------------------------------------------------------
# Credentials of the providers a channel configuration can name (docs/configuration.md).
# A configuration naming a provider whose credentials are missing does not lose its
# messages: each fails transiently, with a detail naming the missing variable, and is
# retried until an operator sets it (delivery/channels/registry.py).
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
# Where Twilio posts delivery status updates for each SMS. Unset: Clarion's own
# callback (/hooks/twilio/status) when CLARION_PUBLIC_URL is https (a public address
# Twilio can reach), else none is requested.
TWILIO_STATUS_CALLBACK_URL = env_str("TWILIO_STATUS_CALLBACK_URL", "")
if TWILIO_STATUS_CALLBACK_URL:
    env_url("TWILIO_STATUS_CALLBACK_URL", "", schemes={"http", "https"})
elif CLARION_PUBLIC_URL.startswith("https://"):
    TWILIO_STATUS_CALLBACK_URL = f"{CLARION_PUBLIC_URL}/hooks/twilio/status"
# The Firebase service account JSON file (its project id names the FCM project).
FCM_CREDENTIALS_FILE = env_str("FCM_CREDENTIALS_FILE", "")
# The VAPID private key (raw base64url, DER base64 or PEM, or a file holding it), and the
# contact the push services may use (RFC 8292 2.1: a mailto: or https: URL).
WEBPUSH_VAPID_PRIVATE_KEY = env_str("WEBPUSH_VAPID_PRIVATE_KEY", "")
WEBPUSH_VAPID_SUBJECT = env_str("WEBPUSH_VAPID_SUBJECT", "")
if WEBPUSH_VAPID_SUBJECT and not WEBPUSH_VAPID_SUBJECT.startswith(("mailto:", "https://")):
    raise ImproperlyConfigured(
        f"WEBPUSH_VAPID_SUBJECT={WEBPUSH_VAPID_SUBJECT!r} is not a mailto: or https: URL."
    )
# How long one call to an SMS or push provider may take before it counts as a timeout
# (a transient error, retried later).
CLARION_PROVIDER_TIMEOUT_SECONDS = env_int(
    "CLARION_PROVIDER_TIMEOUT_SECONDS", 10, minimum=1, maximum=120
)

# --- Email ----------------------------------------------------------------------
EMAIL_URL = env_url(
    "EMAIL_URL",
    f"file://{DATA_DIR / 'outbox'}",
    schemes={"smtp", "smtps", "file", "console", "locmem"},
)


def _email_settings(url: str) -> dict[str, object]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return {
            # Django's file backend, plus each message's HTML part as <message id>.html.
            "EMAIL_BACKEND": "delivery.channels.email_outbox.OutboxEmailBackend",
            "EMAIL_FILE_PATH": unquote(parts.path) or str(DATA_DIR / "outbox"),
        }
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    query = parse_qs(parts.query)
    try:
        port = parts.port or (465 if scheme == "smtps" else 25)
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL has an invalid port.") from None
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL needs a host, e.g. smtp://user:pass@mail.example:587")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": scheme == "smtps",
        "EMAIL_USE_TLS": query.get("tls", ["false"])[0].lower() in {"1", "true", "yes"},
        "EMAIL_TIMEOUT": 10,
    }


globals().update(_email_settings(EMAIL_URL))

# Provider feedback from email service providers (django-anymail's tracking webhooks,
# /hooks/anymail/<esp>/tracking/): the "user:password" each provider must send as HTTP
# basic auth. Unset: every such webhook is refused (nothing unauthenticated changes a
# status). Several, comma-separated, while rotating.
ANYMAIL: dict[str, Any] = {"WEBHOOK_SECRET": env_list("ANYMAIL_WEBHOOK_SECRET", [])}
# Every other ANYMAIL_<NAME> variable is anymail's own setting <NAME>, as its docs name
# them: the keys some providers sign their webhooks with (ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY,
# ANYMAIL_POSTAL_WEBHOOK_KEY, ANYMAIL_RESEND_SIGNING_SECRET...) and API keys.
ANYMAIL.update(
    {
        name.removeprefix("ANYMAIL_"): value
        for name, value in os.environ.items()
        if name.startswith("ANYMAIL_") and name != "ANYMAIL_WEBHOOK_SECRET" and value
    }
)

# --- Auth, i18n, static -------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The session's user comes with its language and time zone joined (core/auth.py).
AUTHENTICATION_BACKENDS = ["core.auth.PreferenceModelBackend"]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hant", _("Traditional Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The zone the admin shows times in for whoever chose none (core/preferences.py).
TIME_ZONE = env_str("TIME_ZONE", "UTC")
if TIME_ZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(
        f"TIME_ZONE={TIME_ZONE!r} is not an IANA time zone name, e.g. UTC or Asia/Taipei."
    )
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Project-wide static files (Clarion's icon, the admin header's style); apps keep theirs.
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (profile imports and their rejected rows). Not served under
# MEDIA_URL: downloads go through admin views that check permissions.
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Fail closed: a view that names no access rule refuses every request.
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.HasAccess"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.LimitedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clarion API",
    "DESCRIPTION": "API-triggered campaigns: management, trigger and profile endpoints.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",  # tags operations by resource, not by "v1"
    # One name for the consent statuses, used by several fields (email, sms, push, status).
    "ENUM_NAME_OVERRIDES": {
        "ConsentStatusEnum": "audiences.models.Consent.Status",
        "ExecutionStatusEnum": "delivery.models.ExecutionStatus",
        "MessageStatusEnum": "delivery.models.MessageStatus",
        "ExecutionKindEnum": "delivery.models.ExecutionKind",
        "ScheduleStatusEnum": "delivery.models.ExecutionSchedule.Status",
        "AudienceKindEnum": "audiences.models.Audience.Kind",
    },
}

# --- Clarion --------------------------------------------------------------------
# When on, activating a campaign needs a second person with the approve
# permission (four eyes); the campaign waits in `in_review` meanwhile.
CLARION_REQUIRE_APPROVAL = env_bool("CLARION_REQUIRE_APPROVAL", False)
# Region assumed for phone numbers written without a country code (ISO 3166 alpha-2).
CLARION_PHONE_DEFAULT_REGION = env_str("CLARION_PHONE_DEFAULT_REGION", "US").upper()
if CLARION_PHONE_DEFAULT_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured(
        f"CLARION_PHONE_DEFAULT_REGION={CLARION_PHONE_DEFAULT_REGION!r} is not a region code "
        "such as US, GB or FR."
    )

# --- Dashboard (the admin's home page, docs/admin.md) ----------------------------------
# Failed messages among those sent or failed in the last 24 hours above which the
# dashboard says the failure rate needs attention (0.05: more than 5 %).
CLARION_DASHBOARD_FAILURE_RATE = env_float(
    "CLARION_DASHBOARD_FAILURE_RATE", 0.05, minimum=0.0, maximum=1.0
)

# --- Tracking (delivery/tracking/, docs/tracking.md) ---------------------------------
# A click this soon after the message was sent is a link scanner's, not a person's.
CLARION_MACHINE_CLICK_SECONDS = env_int("CLARION_MACHINE_CLICK_SECONDS", 2, minimum=0, maximum=60)
# The client address of opens and clicks is REMOTE_ADDR, unless a proxy you run sets this
# header (e.g. X-Forwarded-For; its last address is taken). Never set it without such a
# proxy: clients could then claim any address.
CLARION_CLIENT_IP_HEADER = env_str("CLARION_CLIENT_IP_HEADER", "")

LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", choices=LOG_LEVELS)},
}
