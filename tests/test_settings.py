"""Settings read from the environment: bad values stop start-up, naming the variable.

Each case starts a fresh Python process, since settings are read once at import.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
# Variables these tests set; removed from the inherited environment first so the
# machine's own configuration (CI's DATABASE_URL, ...) does not leak in.
CONFIG_VARIABLES = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "CLARION_PUBLIC_URL",
    "PORT",
    "CLARION_REQUIRE_APPROVAL",
    "LOG_LEVEL",
    "CLARION_PHONE_DEFAULT_REGION",
)


def _python(
    code: str, *, settings_module: str = "config.settings.base", **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    # A scratch data folder under the test one, so nothing touches var/ itself.
    environ["CLARION_DATA_DIR"] = str(Path(settings.DATA_DIR) / "settings-tests")
    environ["DJANGO_SETTINGS_MODULE"] = settings_module
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    code = f"from django.core.management import execute_from_command_line as run; run({['manage.py', *args]!r})"
    return _python(code, **env)


def _settings(*names: str, **env: str) -> dict[str, object]:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    result = _python(code, **env)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _random_secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(60))


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("DATABASE_URL", "mysql://x"),
        ("DATABASE_URL", "postgres://u@h:notaport/db"),
        ("CELERY_BROKER_URL", "ftp://x"),
        ("REDIS_URL", "http://x"),
        ("EMAIL_URL", "bogus"),
        ("EMAIL_URL", "smtp://mail.example:abc"),
        ("CLARION_REQUIRE_APPROVAL", "perhaps"),
        ("CLARION_PUBLIC_URL", "ftp://clarion.example"),
        ("CSRF_TRUSTED_ORIGINS", "https://ok.example,clarion.example"),
        ("LOG_LEVEL", "loud"),
        ("CLARION_PHONE_DEFAULT_REGION", "Atlantis"),
        ("CLARION_DATA_DIR", "/proc/clarion-cannot-be-here"),
        ("TWILIO_STATUS_CALLBACK_URL", "clarion.example/hooks/twilio"),
        ("WEBPUSH_VAPID_SUBJECT", "ops@shop.example"),
        ("CLARION_PROVIDER_TIMEOUT_SECONDS", "0"),
        ("TIME_ZONE", "Mars/Olympus"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(variable: str, value: str) -> None:
    result = _python("import django; django.setup()", **{variable: value})

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: ")
    assert variable in last_line


def test_manage_py_check_fails_on_a_bad_value() -> None:
    result = _manage("check", DEBUG="maybe")

    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_defaults_need_no_environment() -> None:
    values = _settings("DEBUG", "PORT", "CELERY_BROKER_URL", "EMAIL_BACKEND", "DATABASES")

    assert values["DEBUG"] is False
    assert values["PORT"] == 8000
    assert values["CELERY_BROKER_URL"] == "filesystem://localhost//"
    assert values["EMAIL_BACKEND"] == "delivery.channels.email_outbox.OutboxEmailBackend"
    database = values["DATABASES"]
    assert isinstance(database, dict)
    assert database["default"]["ENGINE"] == "django.db.backends.sqlite3"


def test_email_url_sets_the_smtp_settings() -> None:
    values = _settings(
        "EMAIL_BACKEND",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "EMAIL_USE_TLS",
        "EMAIL_USE_SSL",
        EMAIL_URL="smtp://user:pass@mail.example:587?tls=true",
    )

    assert values == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "user",
        "EMAIL_HOST_PASSWORD": "pass",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
    }


def test_production_passes_the_deploy_checks() -> None:
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        settings_module="config.settings.production",
        SECRET_KEY=_random_secret_key(),
        ALLOWED_HOSTS="clarion.example",
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("secret_key", [None, "", "too-short", "a" * 60])
def test_production_refuses_to_start_without_a_real_secret_key(secret_key: str | None) -> None:
    env = {"ALLOWED_HOSTS": "clarion.example"}
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key

    result = _python(
        "import django; django.setup()", settings_module="config.settings.production", **env
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr


@pytest.mark.parametrize(
    ("broker_url", "transport"),
    [
        ("redis://127.0.0.1:6379/0", "core.broker:Transport"),
        ("rediss://cache.example:6380/0", "core.broker:Transport"),
        ("filesystem://localhost//", None),
        ("amqp://guest@rabbit.example//", None),
    ],
)
def test_a_redis_broker_publishes_through_one_client_per_pool(
    broker_url: str, transport: str | None
) -> None:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(getattr(settings, 'CELERY_BROKER_TRANSPORT', None))"
    )
    result = _python(code, CELERY_BROKER_URL=broker_url)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(transport)
