"""Planning `migrate contacts`: read the input into the journal, then decide each row without writing to Genesys.

A row's outcome, from what the org holds now (identifier lookups only):
- create: no contact holds the identifier ExternalId = sub under the CRM source, and the email (if any) is no
  other contact's identifier.
- unchanged: the contact holding it already has every name and email the row gives.
- enrich: it holds the identifier but lacks or differs in some of them (the fields are listed in the plan).
- conflict: never merged blindly. Another id in the input maps to the same sub; the email is an identifier of a
  contact other than the one holding the sub; or that contact also carries another id under the CRM source.
- refused: the input row itself is unusable (empty, malformed, an id over the limits; migrate_input.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from components.genesys_api import ApiError
from preflight.migrate_contacts_api import EMAIL, EXTERNAL_ID, Workers
from preflight.migrate_http import PerThread
from preflight.migrate_input import Refused, fingerprint, read_map, read_rows
from preflight.migrate_journal import CONFLICT, CREATE, ENRICH, UNCHANGED, Journal, Planned
from preflight.migrate_sunshine import SunshineApi, profile

CHUNK_ROWS = 1000
"""Rows per journal commit while reading, and per wave of lookups: the memory the run holds at once."""
FIELDS = (("first_name", "firstName"), ("last_name", "lastName"), ("email", "personalEmail"))
"""Row column -> ExternalContact field (build/docs/ExternalContact.md). A customer's own address goes in
personalEmail: workEmail is for a business contact's."""


@dataclass(frozen=True)
class Decision:
    line: int
    outcome: str
    reason: str = ""
    contact_id: str = ""
    fields: tuple[str, ...] = ()
    first_name: str = ""
    last_name: str = ""
    email: str = ""


T = TypeVar("T")


class MapFileError(ValueError):
    """The mapping file gives one id two subs, or has unusable lines: fixed before any row is planned."""


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """itertools.batched (Python 3.12) for the 3.11 this project still runs on."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- reading ---------------------------------------------------------------------------------------------


def read_input(journal: Journal, ids: Path, mapping: Path | None, advance: Callable[[int], None]) -> None:
    """Stream the mapping and the ids into the journal, resuming after the last committed chunk."""
    if mapping is not None and journal.get("map_read") != "yes":
        problems = []
        with journal.transaction():
            for entry in read_map(mapping):
                if isinstance(entry, Refused):
                    problems.append(f"line {entry.line}: {entry.reason}")
                elif (earlier := journal.add_mapping(*entry)) is not None:
                    problems.append(f"line {entry[0]}: the id is mapped to another sub at line {earlier}")
                if len(problems) >= 20:
                    break
            if problems:
                raise MapFileError(f"{mapping}: " + "; ".join(problems) + "; fix the mapping file and run again")
            journal.set(map_read="yes")
    if journal.get("read_complete") == "yes":
        return
    done = int(journal.get("read_through", "0") or 0)
    rows = read_rows(ids, journal.mapped if mapping is not None else lambda _id: None)
    for chunk in batched((item for item in rows if item.line > done), CHUNK_ROWS):
        with journal.transaction():
            for item in chunk:
                if isinstance(item, Refused):
                    journal.add_refused(item)
                else:
                    journal.add_row(item)
            journal.set(read_through=str(chunk[-1].line))
        advance(len(chunk))
    journal.set(read_complete="yes")


def input_identity(stack: str, ids: Path, mapping: Path | None, source: str, app: str) -> dict[str, str]:
    return {
        "stack": stack,
        "ids_sha256": fingerprint(ids),
        "map_sha256": fingerprint(mapping) if mapping else "",
        "source_name": source,
        "sunshine_app": app,
    }


# --- deciding ----------------------------------------------------------------------------------------------


def decide(
    row: Planned, wanted: dict[str, str], by_id: dict[str, Any] | None, by_email: dict[str, Any] | None, source_id: str
) -> Decision:
    """The outcome for a row (see the module docstring), from the contacts the two lookups found."""
    data = {"first_name": wanted["first_name"], "last_name": wanted["last_name"], "email": wanted["email"]}
    if by_id is None:
        if by_email is not None:
            return Decision(
                row.line,
                CONFLICT,
                f"the email is an identifier of contact {by_email['id']}, which does "
                "not hold this sub; merge or correct it in Genesys, then plan again",
                **data,
            )
        return Decision(row.line, CREATE, **data)
    contact_id = by_id["id"]
    others = [
        e
        for e in by_id.get("externalIds") or []
        if isinstance(e, dict) and (e.get("externalSource") or {}).get("id") == source_id and e.get("value") != row.sub
    ]
    if others:
        return Decision(
            row.line,
            CONFLICT,
            f"contact {contact_id} also holds another id under the CRM source",
            contact_id=contact_id,
            **data,
        )
    if by_email is not None and by_email.get("id") != contact_id:
        return Decision(
            row.line,
            CONFLICT,
            f"the sub is on contact {contact_id} but the email is an identifier of contact {by_email.get('id')}",
            contact_id=contact_id,
            **data,
        )
    changed = tuple(f for column, f in FIELDS if data[column] and by_id.get(f) != data[column])
    if changed:
        return Decision(row.line, ENRICH, "sets " + ", ".join(changed), contact_id=contact_id, fields=changed, **data)
    return Decision(row.line, UNCHANGED, contact_id=contact_id, **data)


class Planner:
    """Looks each pending row up (Sunshine first when asked) and records its Decision."""

    def __init__(
        self,
        journal: Journal,
        workers: Workers,
        source_id: str,
        *,
        concurrency: int,
        sunshine: PerThread[SunshineApi] | None = None,
        sunshine_app: str = "",
    ) -> None:
        self.journal, self.workers, self.source_id = journal, workers, source_id
        self.concurrency, self.sunshine, self.sunshine_app = concurrency, sunshine, sunshine_app
        self.not_in_sunshine = 0
        self.lookup_failures = 0
        self.last_error = ""

    def run(self, advance: Callable[[int], None]) -> None:
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="plan") as pool:
            after = 0
            while batch := self.journal.pending(CHUNK_ROWS, after):
                after = batch[-1].line
                decisions = []
                for decision in pool.map(self._one, batch):  # in order, as they come: the bar moves per row
                    decisions.append(decision)
                    advance(1)
                with self.journal.transaction():
                    for decision in decisions:
                        if decision is not None:
                            self.journal.plan(
                                decision.line,
                                decision.outcome,
                                decision.reason,
                                contact_id=decision.contact_id,
                                fields=decision.fields,
                                first_name=decision.first_name,
                                last_name=decision.last_name,
                                email=decision.email,
                            )

    def _wanted(self, row: Planned) -> dict[str, str]:
        wanted = {"first_name": row.first_name, "last_name": row.last_name, "email": row.email}
        if self.sunshine is not None and not all(wanted.values()):
            user = self.sunshine.here().user(self.sunshine_app, row.customer_id)
            if user is None:
                self.not_in_sunshine += 1  # counted, not an error: the CRM's data is used alone
            else:
                # The CRM is the system of record: Sunshine only fills what its export left empty.
                for column, value in zip(("first_name", "last_name", "email"), profile(user), strict=True):
                    wanted[column] = wanted[column] or value
        return wanted

    def _one(self, row: Planned) -> Decision | None:
        """The row's Decision, or None when a lookup failed (the row stays pending; a re-run plans it)."""
        try:
            wanted = self._wanted(row)
            api = self.workers.here()
            by_id = api.lookup(EXTERNAL_ID, row.sub, self.source_id)
            # The email is looked up only where the apply would give it to a contact: a new one, or one whose
            # email it is not yet (a contact already carrying it needs no second lookup on every re-run).
            email = wanted["email"]
            settled = by_id is not None and by_id.get("personalEmail") == email
            by_email = api.lookup(EMAIL, email) if email and not settled else None
        except ApiError as error:
            self.lookup_failures += 1
            self.last_error = str(error)
            return None
        return decide(row, wanted, by_id, by_email, self.source_id)
