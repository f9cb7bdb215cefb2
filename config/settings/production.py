"""Production settings: the base settings with every deploy check satisfied.

``SECRET_KEY`` must be set; TLS is assumed to end at a proxy that sets
``X-Forwarded-Proto``.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from core.env import env_bool, env_int

SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
# The same bar as Django's security.W009 check: long and not a repeated pattern.
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY must be set in production (50+ random characters).")
DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# /api/v1/health is probed over plain HTTP by load balancers.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$"]
