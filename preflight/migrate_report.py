"""What `migrate contacts` shows and writes: the progress bar, the plan and conflicts files, the final report.

Nothing here prints customer data: the terminal gets counts, line numbers and reasons (which name Genesys
contact ids and input lines, never an id, name or email from the input). The plan file adds the customer id
column only with --with-ids, for a team that wants to read it beside its CRM export.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from preflight.doctor import printable
from preflight.migrate_journal import CONFLICT, DONE, FAILED, OUTCOMES, PENDING, REFUSED, SENDING, Journal

PLAN_COLUMNS = ("line", "outcome", "reason", "contactId", "applied")


class _RateColumn(TextColumn):
    """Rows per second (rich's speed column speaks in bytes)."""

    def __init__(self) -> None:
        super().__init__("")

    def render(self, task) -> Text:  # type: ignore[no-untyped-def]
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} rows/s", style="progress.data.speed")


@contextmanager
def progress(console: Console, *, bytes_task: bool = False) -> Iterator[Progress]:
    """A rich progress display with rate and ETA; off (draws nothing) when the output is not a terminal."""
    rate = TransferSpeedColumn() if bytes_task else _RateColumn()
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        rate,
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=console, disable=not console.is_terminal, transient=False) as shown:
        yield shown


def owner_only(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def write_plan(journal: Journal, path: Path, *, with_ids: bool) -> None:
    """Every row: its line, outcome, reason, the contact it concerns and how far the apply went (streamed)."""
    owner_only(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(PLAN_COLUMNS + (("id", "sub") if with_ids else ()))
        for row in journal.all_rows():
            cells = [row.line, row.outcome, row.reason, row.contact_id, row.state]
            out.writerow(cells + ([row.customer_id or "", row.sub or ""] if with_ids else []))


def write_problems(journal: Journal, path: Path) -> int:
    """Conflicts, refused rows and failed writes with their line and reason; how many."""
    owner_only(path)
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(("line", "outcome", "reason"))
        for row in journal.problems():
            outcome = "failed" if row.state == FAILED else row.outcome
            out.writerow((row.line, outcome, row.reason))
            count += 1
    return count


def summary(journal: Journal) -> dict[str, int]:
    counts = journal.counts()
    return {
        **{o: counts.get(o, 0) for o in OUTCOMES},
        "not planned yet": counts.get(PENDING, 0),
        "written": counts.get(f"apply:{DONE}", 0),
        "in flight": counts.get(f"apply:{SENDING}", 0),
        "failed": counts.get(f"apply:{FAILED}", 0),
    }


def print_report(console: Console, title: str, counts: dict[str, int], lines: list[str]) -> None:
    console.print(Text(printable(title), style="bold"))
    table = Table(show_header=True)
    table.add_column("outcome")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        if n or name in OUTCOMES:
            style = "bold red" if name in (CONFLICT, REFUSED, "failed") and n else ""
            table.add_row(Text(name, style=style), f"{n:,}")
    console.print(table)
    for line in lines:
        console.print(Text(printable(line)))


def stderr_console() -> Console:
    return Console(file=sys.stderr, highlight=False)
