"""Applying a `migrate contacts` plan: exactly the create and enrich rows the journal holds, nothing else.

Rows go ten to a bulk enrich (the documented maximum, migrate_contacts_api.BULK_ENRICH_MAX), several requests
at once (--concurrency), each operation with one matching identifier (ExternalId = sub under the CRM source)
and the action the plan chose: Insert for a create, Update for an enrich. With a single identifier there is
nothing for the platform to merge, and neither action is Merge or Upsert.

Before a request, its rows are committed as `sending`; after it, each is `done` (with the contact's id) or
back to `planned` (429, a retryable error) or `failed` (an error the platform says not to retry). A request
whose outcome is unknown (a timeout, a 5xx, a killed process) leaves its rows `sending`: they are looked up
by identifier before anything is sent again, so a resumed run never creates a second contact for a sub.
A later `--apply` tries `failed` rows again (the cause may be fixed; an Insert the platform refused because a
contact holds the identifier is refused again, and changes nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from components.genesys_api import ApiError
from preflight.migrate_contacts_api import BULK_ENRICH_MAX, EXTERNAL_ID, INSERT, UPDATE, Workers
from preflight.migrate_journal import CREATE, DONE, FAILED, PLANNED, SENDING, Journal, Planned
from preflight.migrate_plan import FIELDS, batched

MAX_ATTEMPTS = 5
"""Sends of one row before it is reported failed (each after a 429 storm outlasted, or a retryable error)."""
ROWS_PER_WAVE = 400
"""Rows committed `sending` at once: what a killed run leaves to look up again."""


@dataclass
class ApplyStats:
    sent_requests: int = 0
    unknown_outcomes: int = 0
    """Requests that timed out or failed with a 5xx: their rows were looked up before any resend."""
    found_on_lookup: int = 0
    """Rows caught `sending` that the lookup found already written (not sent again)."""
    retried: int = 0
    """Rows an earlier apply reported failed, tried again."""
    last_error: str = ""
    errors: dict[str, int] = field(default_factory=dict)


def operation(row: Planned, source_id: str) -> dict[str, Any]:
    """The ContactEnrichRequest for a planned row (build/docs/ContactEnrichRequest.md)."""
    identifier = {"type": EXTERNAL_ID, "value": row.sub, "externalSource": {"id": source_id}}
    values = {"first_name": row.first_name, "last_name": row.last_name, "email": row.email}
    if row.outcome == CREATE:
        contact: dict[str, Any] = {f: values[c] for c, f in FIELDS if values[c]}
        # The new contact carries the id as its ExternalId under the source (ExternalId.md), the field identity
        # resolution matches a signed-in customer's sub against.
        contact["externalIds"] = [{"externalSource": {"id": source_id}, "value": row.sub}]
        action = INSERT
    else:
        contact = {f: values[c] for c, f in FIELDS if f in row.fields}
        action = UPDATE
    return {"id": str(row.line), "action": action, "matchingIdentifiers": [identifier], "contact": contact}


class Applier:
    def __init__(self, journal: Journal, workers: Workers, source_id: str, *, concurrency: int) -> None:
        self.journal, self.workers, self.source_id, self.concurrency = journal, workers, source_id, concurrency
        self.stats = ApplyStats()

    def run(self, advance: Callable[[int], None]) -> None:
        self.stats.retried = self.journal.retry_failed()
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="apply") as pool:
            self._settle(pool, advance)
            while True:
                wave = self.journal.to_send(ROWS_PER_WAVE, max_attempts=MAX_ATTEMPTS)
                if not wave:
                    break
                with self.journal.transaction():
                    self.journal.mark([r.line for r in wave], SENDING, attempt=True)
                batches = list(batched(wave, BULK_ENRICH_MAX))
                # Each request's outcome is committed as soon as it is in: a killed run loses none it learned.
                for batch, outcome in zip(batches, pool.map(self._send, batches), strict=True):
                    with self.journal.transaction():
                        advance(self._record(batch, outcome))
                self._settle(pool, advance)
            with self.journal.transaction():
                self.journal.mark(
                    [r.line for r in self.journal.to_send(1 << 30)],
                    FAILED,
                    reason=f"not written after {MAX_ATTEMPTS} attempts ({self.stats.last_error or 'see the log'})",
                )

    # --- one request ---------------------------------------------------------------------------------------

    def _send(self, batch: list[Planned]) -> dict[str, dict[str, Any]] | ApiError:
        try:
            return self.workers.here().bulk_enrich([operation(r, self.source_id) for r in batch])
        except ApiError as error:
            return error

    def _record(self, batch: list[Planned], outcome: dict[str, dict[str, Any]] | ApiError) -> int:
        """Journal what one request did; the number of rows it settled."""
        self.stats.sent_requests += 1
        if isinstance(outcome, ApiError):
            self.stats.last_error = outcome.kind if outcome.status is None else f"HTTP {outcome.status}"
            if outcome.status == 429 or outcome.kind in ("invalid", "out-of-time"):
                self.journal.mark([r.line for r in batch], PLANNED)  # never reached the platform's writes
            elif outcome.status is not None and 400 <= outcome.status < 500:
                self.journal.mark([r.line for r in batch], FAILED, reason=f"the bulk request was refused: {outcome}")
                return len(batch)
            else:
                self.stats.unknown_outcomes += 1  # stays `sending`: looked up before any resend
            return 0
        settled = 0
        for row in batch:
            result = outcome.get(str(row.line))
            if result is None:
                continue  # no result for it: stays `sending`, looked up next
            entity = result.get("entity") if isinstance(result.get("entity"), dict) else {}
            if result.get("success") is True and isinstance(entity.get("id"), str):
                self.journal.mark([row.line], DONE, contact_id=entity["id"])
                settled += 1
                continue
            error = result.get("error") if isinstance(result.get("error"), dict) else {}
            code = str(error.get("code") or "error")
            self.stats.errors[code] = self.stats.errors.get(code, 0) + 1
            if error.get("retryable") is True or error.get("status") == 429:
                self.journal.mark([row.line], PLANNED)
            else:
                status = error.get("status") or result.get("status")
                self.journal.mark([row.line], FAILED, reason=f"Genesys refused it: {code} ({status})")
                settled += 1
        return settled

    # --- rows whose outcome is unknown -----------------------------------------------------------------------

    def _settle(self, pool: ThreadPoolExecutor, advance: Callable[[int], None]) -> None:
        """Look up every row left `sending`: done if the contact now has what the plan sets, else planned again."""
        while rows := self.journal.in_flight(ROWS_PER_WAVE):
            found = list(pool.map(self._written, rows))
            with self.journal.transaction():
                for row, contact_id in zip(rows, found, strict=True):
                    if contact_id is None:
                        self.journal.mark([row.line], PLANNED)
                    elif contact_id == "":
                        return  # the lookup itself failed: leave them `sending` for the next run
                    else:
                        self.stats.found_on_lookup += 1
                        self.journal.mark([row.line], DONE, contact_id=contact_id)
                        advance(1)

    def _written(self, row: Planned) -> str | None:
        """The contact id if the row's write is in Genesys, None if not, "" if the lookup failed."""
        try:
            contact = self.workers.here().lookup(EXTERNAL_ID, row.sub, self.source_id)
        except ApiError as error:
            self.stats.last_error = str(error)
            return ""
        if contact is None:
            return None
        values = {"first_name": row.first_name, "last_name": row.last_name, "email": row.email}
        wanted = [(f, values[c]) for c, f in FIELDS if values[c] and (row.outcome == CREATE or f in row.fields)]
        return contact["id"] if all(contact.get(f) == v for f, v in wanted) else None
