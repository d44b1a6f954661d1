"""`reviewshield import orders FILE.csv` / `reviewshield import reviews FILE.csv`.

Prints a summary and every rejected row as a table (row, column, reason); `--report FILE.csv`
also writes the rejected rows to a CSV file. The columns and time formats are documented in
`reviewshield.marketplace.importing`.

Exit code: 0 when every row was accepted, 1 when some rows were rejected (the others are imported),
2 when the file could not be read at all (missing file, wrong encoding, missing columns).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from reviewshield.errors import ImportRejected
from reviewshield.marketplace.importing import ImportReport, orders_import, reviews_import

IMPORTERS = {"orders": orders_import, "reviews": reviews_import}


class Command(BaseCommand):
    help = "Import orders or reviews from a CSV file. Exit code 0: all rows accepted; 1: some rejected; 2: unreadable file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(IMPORTERS), help="what the file holds")
        parser.add_argument("file", type=Path, help="the CSV file (UTF-8, or GB18030)")
        parser.add_argument("--report", type=Path, help="write the rejected rows to this CSV file")

    def handle(self, *args: Any, kind: str, file: Path, report: Path | None, **options: Any) -> None:
        try:
            size = os.path.getsize(file)
            fh = open(file, "rb")  # noqa: SIM115 — closed below, after the progress bar
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(problem)s") % {"file": file, "problem": exc.strerror}, returncode=2
            ) from None
        # The bar goes to the real stderr and switches itself off when that is not a terminal.
        bar = tqdm(
            total=size, unit="B", unit_scale=True, desc=str(file.name), file=self.stderr._out, disable=None
        )
        try:
            with fh:
                result = IMPORTERS[kind](stream=fh, now=timezone.now(), progress=bar.update)
        except ImportRejected as exc:
            raise CommandError(str(exc.message), returncode=2) from None
        finally:
            bar.close()

        self._print_summary(result, file)
        if report is not None:
            self._write_report(result, report)
        if not result.all_accepted:
            raise CommandError(
                _("Rows rejected: %(count)d.") % {"count": result.rejected},
                returncode=1,
            )

    def _print_summary(self, result: ImportReport, file: Path) -> None:
        if result.encoding != "utf-8":
            self.stdout.write(
                _("Read %(file)s as %(encoding)s.") % {"file": file, "encoding": result.encoding.upper()}
            )
        self.stdout.write(
            _(
                "%(rows)d rows: %(created)d created, %(updated)d updated, %(unchanged)d unchanged, %(rejected)d rejected."
            )
            % {
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "rejected": result.rejected,
            }
        )
        if not result.rejections:
            return
        headings = (_("row"), _("column"), _("reason"))
        cells = [(str(r.row), r.column or "—", r.reason) for r in result.rejections]
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headings[:2])]
        self.stdout.write("")
        self.stdout.write(f"{headings[0]:>{widths[0]}}  {headings[1]:<{widths[1]}}  {headings[2]}")
        for row, column, reason in cells:
            self.stdout.write(f"{row:>{widths[0]}}  {column:<{widths[1]}}  {reason}")

    def _write_report(self, result: ImportReport, path: Path) -> None:
        # utf-8-sig so that Excel opens the Chinese reasons correctly.
        with open(path, "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["row", "column", "reason"])
            for r in result.rejections:
                writer.writerow([r.row, r.column, r.reason])
        self.stdout.write(_("Rejected rows written to %(file)s.") % {"file": path})
