"""The admin's app config: Django's, with Clarion's site as the default site."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class ClarionAdminConfig(AdminConfig):
    """Replaces ``django.contrib.admin`` in INSTALLED_APPS: ``admin.site`` is then a
    ``ClarionAdminSite``, so every ``@admin.register`` of the apps lands on it unchanged."""

    default_site = "config.admin_site.ClarionAdminSite"
