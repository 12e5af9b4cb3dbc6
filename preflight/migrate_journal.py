"""The resumable journal of `migrate contacts`: one SQLite file (the standard library's sqlite3) that is the plan.

Every input row is written here once with its line, what the plan decided for it (create, enrich, unchanged,
conflict, refused) and, for the rows the apply writes, how far that went (planned, sending, done, failed).
A dry run fills it; `--apply` executes exactly the rows it holds; a run killed at row N starts again from
what was committed: rows already read are not read again, rows already done are not sent again, and rows
caught `sending` (the call may or may not have reached Genesys) are looked up before anything is resent.

Rows are committed in chunks: a crash loses at most one uncommitted chunk, which is redone. The file holds
customer data (ids, names, emails) because the apply needs them: it is created readable by its owner only.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from preflight.migrate_input import Refused, Row

PENDING, CREATE, ENRICH, UNCHANGED, CONFLICT, REFUSED = (
    "pending",
    "create",
    "enrich",
    "unchanged",
    "conflict",
    "refused",
)
OUTCOMES = (CREATE, ENRICH, UNCHANGED, CONFLICT, REFUSED)
PLANNED, SENDING, DONE, FAILED = "planned", "sending", "done", "failed"
SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mapping (id TEXT PRIMARY KEY, sub TEXT NOT NULL, line INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    line INTEGER PRIMARY KEY,
    customer_id TEXT,
    sub TEXT,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    fields TEXT NOT NULL DEFAULT '',
    contact_id TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS rows_sub ON rows (sub);
CREATE INDEX IF NOT EXISTS rows_outcome ON rows (outcome, state, line);
"""


class JournalError(ValueError):
    """The journal belongs to another stack, input or source, or is not a journal at all."""


@dataclass(frozen=True)
class Planned:
    """A row as the journal holds it."""

    line: int
    customer_id: str
    sub: str
    first_name: str
    last_name: str
    email: str
    outcome: str
    reason: str
    fields: tuple[str, ...]
    """For an enrich: the contact fields the plan sets (firstName, lastName, personalEmail)."""
    contact_id: str
    state: str
    attempts: int


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                # Owner-only before the first byte of customer data is written.
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as error:
            problem = error.strerror or error
            raise JournalError(f"{path}: cannot create the journal ({problem}); fix: name another --journal") from None
        try:
            self._db = sqlite3.connect(path, isolation_level=None)
            # WAL: a killed process leaves every committed chunk intact, and a commit costs no full-file sync.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as error:
            raise JournalError(f"{path}: not a migration journal ({error}); fix: name a new --journal file") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- meta ---------------------------------------------------------------------------------------------

    def get(self, key: str, default: str | None = "") -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set(self, **values: str) -> None:
        """Write meta keys (inside the caller's transaction when there is one: with the rows they describe)."""
        statement = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        pairs = [(k, str(v)) for k, v in values.items()]
        if self._db.in_transaction:
            self._db.executemany(statement, pairs)
            return
        with self.transaction():
            self._db.executemany(statement, pairs)

    def bind(self, **identity: str) -> None:
        """Tie the journal to one stack, input file, mapping file and source; refuse it for any other."""
        if not self.get("schema"):
            self.set(schema=SCHEMA_VERSION)
        for key, value in identity.items():
            held = self.get(key, None)  # type: ignore[arg-type]
            if held is None:
                self.set(**{key: value})
            elif held != value:
                raise JournalError(
                    f"{self.path} was made for another {key} ({held or 'none'}, not {value or 'none'}); fix: use a new "
                    "--journal for a new input, or the same input to resume"
                )

    # --- writing ------------------------------------------------------------------------------------------

    def transaction(self):
        return _Transaction(self._db)

    def add_mapping(self, line: int, customer_id: str, sub: str) -> int | None:
        """Record id -> sub; the line of an earlier different mapping of the same id, if there is one."""
        held = self._db.execute("SELECT sub, line FROM mapping WHERE id = ?", (customer_id,)).fetchone()
        if held is None:
            self._db.execute("INSERT INTO mapping (id, sub, line) VALUES (?, ?, ?)", (customer_id, sub, line))
            return None
        return None if held[0] == sub else held[1]

    def mapped(self, customer_id: str) -> str | None:
        row = self._db.execute("SELECT sub FROM mapping WHERE id = ?", (customer_id,)).fetchone()
        return row[0] if row else None

    def add_refused(self, refused: Refused) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO rows (line, outcome, reason) VALUES (?, ?, ?)",
            (refused.line, REFUSED, refused.reason),
        )

    def add_row(self, row: Row) -> None:
        """Record a read row; a second row for the same sub is refused (same id) or a conflict (another id)."""
        earlier = self._db.execute(
            "SELECT line, customer_id FROM rows WHERE sub = ? AND line < ? ORDER BY line LIMIT 1", (row.sub, row.line)
        ).fetchone()
        outcome, reason = PENDING, ""
        if earlier is not None and earlier[1] == row.customer_id:
            outcome, reason = REFUSED, f"duplicate of line {earlier[0]}"
        elif earlier is not None:
            outcome, reason = CONFLICT, f"another id maps to the same sub (line {earlier[0]})"
            # Neither is imported: which one the sub belongs to is the team's decision, not the importer's.
            self._db.execute(
                "UPDATE rows SET outcome = ?, reason = ? WHERE line = ? AND outcome != ?",
                (CONFLICT, f"another id maps to the same sub (line {row.line})", earlier[0], REFUSED),
            )
        self._db.execute(
            "INSERT OR REPLACE INTO rows (line, customer_id, sub, first_name, last_name, email, outcome, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (row.line, row.customer_id, row.sub, row.first_name, row.last_name, row.email, outcome, reason),
        )

    def plan(
        self,
        line: int,
        outcome: str,
        reason: str = "",
        *,
        contact_id: str = "",
        fields: Iterable[str] = (),
        first_name: str = "",
        last_name: str = "",
        email: str = "",
    ) -> None:
        """The plan's decision for a pending row (with the contact data it will send, Sunshine's included)."""
        state = PLANNED if outcome in (CREATE, ENRICH) else ""
        self._db.execute(
            "UPDATE rows SET outcome = ?, reason = ?, contact_id = ?, fields = ?, state = ?, "
            "first_name = ?, last_name = ?, email = ? WHERE line = ? AND outcome = ?",
            (outcome, reason, contact_id, ",".join(fields), state, first_name, last_name, email, line, PENDING),
        )

    def mark(
        self,
        lines: Iterable[int],
        state: str,
        *,
        reason: str | None = None,
        contact_id: str | None = None,
        attempt: bool = False,
    ) -> None:
        for line in lines:
            self._db.execute(
                "UPDATE rows SET state = ?, reason = COALESCE(?, reason), contact_id = COALESCE(?, contact_id), "
                "attempts = attempts + ? WHERE line = ?",
                (state, reason, contact_id, 1 if attempt else 0, line),
            )

    def retry_failed(self) -> int:
        """Put the writes an earlier apply reported failed back in the plan (its cause may be fixed); how many."""
        with self.transaction():
            return self._db.execute(
                "UPDATE rows SET state = ?, attempts = 0 WHERE outcome IN (?, ?) AND state = ?",
                (PLANNED, CREATE, ENRICH, FAILED),
            ).rowcount

    # --- reading ------------------------------------------------------------------------------------------

    def _select(self, where: str, params: tuple, limit: int, after: int = 0) -> list[Planned]:
        rows = self._db.execute(
            "SELECT line, customer_id, sub, first_name, last_name, email, outcome, reason, fields, contact_id, state, "
            f"attempts FROM rows WHERE ({where}) AND line > ? ORDER BY line LIMIT ?",
            (*params, after, limit),
        ).fetchall()
        return [Planned(*r[:8], tuple(f for f in r[8].split(",") if f), *r[9:]) for r in rows]

    def pending(self, limit: int, after: int = 0) -> list[Planned]:
        return self._select("outcome = ?", (PENDING,), limit, after)

    def to_send(self, limit: int, after: int = 0, max_attempts: int = 1 << 30) -> list[Planned]:
        return self._select(
            "outcome IN (?, ?) AND state = ? AND attempts < ?", (CREATE, ENRICH, PLANNED, max_attempts), limit, after
        )

    def in_flight(self, limit: int, after: int = 0) -> list[Planned]:
        return self._select("outcome IN (?, ?) AND state = ?", (CREATE, ENRICH, SENDING), limit, after)

    def problems(self) -> Iterator[Planned]:
        """Conflicts, refused rows and failed writes, in line order, streamed."""
        after = 0
        while batch := self._select("outcome IN (?, ?) OR state = ?", (CONFLICT, REFUSED, FAILED), 1000, after):
            yield from batch
            after = batch[-1].line

    def all_rows(self) -> Iterator[Planned]:
        after = 0
        while batch := self._select("1", (), 1000, after):
            yield from batch
            after = batch[-1].line

    def count(self, where: str = "1", params: tuple = ()) -> int:
        return self._db.execute(f"SELECT COUNT(*) FROM rows WHERE {where}", params).fetchone()[0]

    def counts(self) -> dict[str, int]:
        """Rows per plan outcome, and per apply state of the rows the apply writes."""
        found = dict.fromkeys((*OUTCOMES, PENDING), 0)
        found.update(self._db.execute("SELECT outcome, COUNT(*) FROM rows GROUP BY outcome").fetchall())
        for state, n in self._db.execute(
            "SELECT state, COUNT(*) FROM rows WHERE outcome IN (?, ?) GROUP BY state", (CREATE, ENRICH)
        ).fetchall():
            found[f"apply:{state}"] = n
        return found


class _Transaction:
    """BEGIN ... COMMIT (ROLLBACK on an exception): one chunk of rows is in the file whole or not at all."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
