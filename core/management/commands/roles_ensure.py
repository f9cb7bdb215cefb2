"""``manage.py roles_ensure``: the Marketers and Approvers groups with their permissions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core.roles import roles_ensure


class Command(BaseCommand):
    help = (
        "Create the role groups (Marketers, Approvers) where missing and give each exactly "
        "its permissions (core/roles.py). Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for name, group in roles_ensure().items():
            self.stdout.write(f"{name}: {group.permissions.count()} permissions")
