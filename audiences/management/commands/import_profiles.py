"""``manage.py import_profiles FILE --namespace email``: import a CSV or JSON-lines file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from audiences.importing import (
    DEFAULT_BATCH_SIZE,
    ImportProgress,
    RejectedRows,
    import_format_guess,
    profiles_import,
)
from audiences.models import Audience, IdentityNamespace
from core.errors import ClarionError


class Command(BaseCommand):
    help = (
        "Import profiles from a CSV (header row) or JSON-lines file, in batches, with a "
        "progress bar; rejected rows go to a CSV with the reason for each."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV or JSON-lines file.")
        parser.add_argument(
            "--namespace", required=True, help="Identity namespace of the identity column (email)."
        )
        parser.add_argument(
            "--format", choices=["csv", "jsonl"], help="Default: from the file's extension."
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument("--audience", help="Id of a static audience to add every profile to.")
        parser.add_argument(
            "--rejected", help="Where to write rejected rows (default: FILE.rejected.csv)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        namespace = IdentityNamespace.objects.filter(code=options["namespace"]).first()
        if namespace is None:
            codes = ", ".join(IdentityNamespace.objects.values_list("code", flat=True))
            raise CommandError(
                f"Unknown identity namespace “{options['namespace']}” (known: {codes})."
            )
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        audience = None
        if options["audience"]:
            try:
                audience = Audience.objects.filter(pk=options["audience"]).first()
            except ValidationError:
                audience = None
            if audience is None:
                raise CommandError(f"No audience with id {options['audience']}.")
        try:
            file_format = options["format"] or import_format_guess(path.name)
        except ClarionError as error:
            raise CommandError(error.message) from None
        rejected_path = Path(options["rejected"] or path.with_suffix(".rejected.csv"))
        rejected_path.unlink(missing_ok=True)  # a stale file from an earlier run would mislead
        rejected = RejectedRows(rejected_path)
        total = path.stat().st_size

        # disable=None: a bar on a terminal, nothing when the output is a file or pipe.
        with tqdm(total=total, unit="B", unit_scale=True, desc=path.name, disable=None) as bar:

            def advance(progress: ImportProgress) -> None:
                bar.update(progress.processed_bytes - bar.n)
                bar.set_postfix(
                    created=progress.created, updated=progress.updated, rejected=progress.rejected
                )

            try:
                with path.open("rb") as stream:
                    progress = profiles_import(
                        stream=stream,
                        file_format=file_format,
                        namespace=namespace,
                        rejected=rejected,
                        batch_size=options["batch_size"],
                        audience=audience,
                        total_bytes=total,
                        on_progress=advance,
                    )
            except ClarionError as error:
                raise CommandError(error.message) from None
            finally:
                rejected.close()

        if rejected.count:
            self.stdout.write(f"Rejected rows: {rejected_path}")
        self.stdout.write(
            f"created {progress.created}, updated {progress.updated}, rejected {progress.rejected}"
        )
