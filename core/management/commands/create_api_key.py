"""``manage.py create_api_key``: a new API key; the secret is printed once, last."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.apikeys import api_key_create
from core.errors import InvalidInput


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


class Command(BaseCommand):
    help = (
        "Create an API key. Prints a summary, then the secret alone on the last line "
        "(it is stored hashed and cannot be shown again)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="What the key is for.")
        parser.add_argument(
            "--scopes",
            required=True,
            help="Comma-separated, e.g. campaigns:read,executions:trigger.",
        )
        parser.add_argument(
            "--labels",
            default="",
            help="Comma-separated access labels the key holds (campaigns carrying them).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scopes = _names(options["scopes"])
        if not scopes:
            raise CommandError("Give at least one scope with --scopes.")
        try:
            key, secret = api_key_create(
                name=options["name"],
                scopes=scopes,
                access_labels=_names(options["labels"]),
            )
        except InvalidInput as exc:
            raise CommandError(" ".join(error.detail for error in exc.errors)) from None
        labels = ", ".join(label.name for label in key.access_labels.all()) or "none"
        self.stdout.write(f"Created API key “{key.name}” (prefix {key.prefix}).")
        self.stdout.write(f"Scopes: {', '.join(key.scopes)}")
        self.stdout.write(f"Access labels: {labels}")
        self.stdout.write("The secret below is shown only this once:")
        self.stdout.write(secret)
