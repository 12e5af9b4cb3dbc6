"""Reading the team's customer list (and the id -> sub mapping) for `migrate contacts`, one line at a time.

The list is the CRM's, not Sunshine's: the Sunshine v2 API lists users only by email identity
(`GET /v2/apps/{appId}/users` requires `filter[identities.email]`, zendesk/sunshine-conversations-api-spec
openapi.yaml, ListUsers), so no tool can enumerate an app's users; the team exports its own ids.

Each line is read with a byte limit and decoded on its own, so a huge or undecodable line costs one refused
row, never the run's memory or the whole file. A refused row carries its line number and a reason that names
no customer data (the reason goes to the conflicts file and the terminal).
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAX_LINE_BYTES = 8192
"""A row is an id, two names and an email: 8 KiB is far past any real one and bounds what a line costs."""
SUNSHINE_EXTERNAL_ID_MAX = 1024
"""Sunshine `externalId`: minLength 1, maxLength 1024 (openapi.yaml, components.schemas.userCreateBody)."""
GENESYS_IDENTIFIER_MAX = 255
"""Genesys ContactIdentifier.value and ExternalId.value: "Max: 255 characters. Leading and trailing whitespace
stripped." (platform SDK 257.1.0, build/docs/ContactIdentifier.md, ExternalId.md)."""
NAME_MAX = 1000
"""ExternalContact firstName/lastName: "Max: 1000 characters" (build/docs/ExternalContact.md)."""
EMAIL_MAX = 256
"""ExternalContact personalEmail: "Max: 256 characters ... Valid email format" (build/docs/ExternalContact.md)."""
ID_COLUMN = "id"
OPTIONAL_COLUMNS = ("first_name", "last_name", "email")
MAP_COLUMNS = ("id", "sub")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
# Deliberately loose: Genesys validates the format itself; this refuses what is plainly not one address.
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class InputFileError(ValueError):
    """The file cannot be read as a customer list at all (missing, no header, unknown columns)."""


@dataclass(frozen=True)
class Row:
    line: int
    customer_id: str
    """The id as Sunshine knows it (its `externalId`) and the CRM exports it."""
    sub: str
    """What the identity provider sends as `sub` at sign-in: the Genesys identifier's value."""
    first_name: str = ""
    last_name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Refused:
    line: int
    reason: str


def fingerprint(path: Path) -> str:
    """SHA-256 of a file, streamed: a plan belongs to exactly the input it was made from."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise InputFileError(f"{path}: cannot read it ({error.strerror or error})") from None
    return digest.hexdigest()


def _lines(handle: BinaryIO) -> Iterator[tuple[int, str | None, bool]]:
    """(line number, decoded text without its newline or None when undecodable, whether it was too long)."""
    number = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        too_long = len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n")
        if too_long:
            while raw and not raw.endswith(b"\n"):  # skip the rest of the line without keeping it
                raw = handle.readline(MAX_LINE_BYTES + 1)
            yield number, None, True
            continue
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            yield number, None, False
            continue
        yield number, text.rstrip("\r\n"), False


def _fields(text: str) -> list[str] | None:
    try:
        return next(csv.reader([text]), [])
    except csv.Error:
        return None


def _header(path: Path, text: str | None, allowed: tuple[str, ...], required: tuple[str, ...]) -> list[str]:
    fields = _fields(text) if text is not None else None
    if not fields:
        raise InputFileError(f"{path}: line 1 must be a CSV header naming the columns ({', '.join(allowed)})")
    header = [f.strip().lower() for f in fields]
    unknown = [f for f in header if f not in allowed]
    missing = [f for f in required if f not in header]
    if unknown or missing or len(set(header)) != len(header):
        problem = f"unknown columns {unknown}" if unknown else f"missing {missing}" if missing else "a column twice"
        raise InputFileError(
            f"{path}: the header has {problem}; fix: columns are {', '.join(allowed)} ({required[0]} required)"
        )
    return header


def _records(path: Path, allowed: tuple[str, ...], required: tuple[str, ...]) -> Iterator[dict[str, str] | Refused]:
    """Each data line as {column: value}, or Refused for a line that is not one CSV record of the header's width."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise InputFileError(f"{path}: cannot read it ({error.strerror or error})") from None
    with handle:
        lines = _lines(handle)
        first = next(lines, None)
        header = _header(path, first[1] if first else None, allowed, required)
        for number, text, too_long in lines:
            if too_long:
                yield Refused(number, f"longer than {MAX_LINE_BYTES} bytes")
            elif text is None:
                yield Refused(number, "not UTF-8 text")
            elif not text.strip():
                yield Refused(number, "empty row")
            else:
                fields = _fields(text)
                if fields is None or len(fields) != len(header):
                    width = (
                        "unreadable CSV" if fields is None else f"{len(fields)} fields, the header has {len(header)}"
                    )
                    yield Refused(number, f"malformed row ({width})")
                else:
                    yield {"__line__": str(number), **dict(zip(header, fields, strict=True))}


def _id_problem(value: str, what: str, limit: int) -> str | None:
    if not value:
        return f"empty {what}"
    if value != value.strip():
        # Genesys strips it, so the stored identifier would not equal what the identity provider sends.
        return f"{what} has leading or trailing whitespace"
    if _CONTROL.search(value):
        return f"{what} contains a control character"
    if len(value) > limit:
        return f"{what} is {len(value)} characters, over the {limit} allowed"
    return None


def read_map(path: Path) -> Iterator[tuple[int, str, str] | Refused]:
    """The mapping file (`id,sub`): where the identity provider's `sub` differs from the Sunshine externalId."""
    for record in _records(path, MAP_COLUMNS, MAP_COLUMNS):
        if isinstance(record, Refused):
            yield record
            continue
        line = int(record["__line__"])
        problem = _id_problem(record["id"], "id", SUNSHINE_EXTERNAL_ID_MAX) or _id_problem(
            record["sub"], "sub", GENESYS_IDENTIFIER_MAX
        )
        yield Refused(line, problem) if problem else (line, record["id"], record["sub"])


def read_rows(path: Path, mapped: Callable[[str], str | None] = lambda _id: None) -> Iterator[Row | Refused]:
    """The customer list (`id[,first_name,last_name,email]`), one Row or Refused per data line.

    `mapped(id)` returns the sub the mapping file gives the id, or None (the sub is then the id itself)."""
    for record in _records(path, (ID_COLUMN, *OPTIONAL_COLUMNS), (ID_COLUMN,)):
        if isinstance(record, Refused):
            yield record
            continue
        line, customer_id = int(record["__line__"]), record[ID_COLUMN]
        problem = _id_problem(customer_id, "id", SUNSHINE_EXTERNAL_ID_MAX)
        if problem:
            yield Refused(line, problem)
            continue
        sub = mapped(customer_id) or customer_id
        problem = _id_problem(sub, "sub" if sub != customer_id else "id (used as the sub)", GENESYS_IDENTIFIER_MAX)
        if problem:
            yield Refused(line, problem)
            continue
        first, last, email = (record.get(c, "").strip() for c in OPTIONAL_COLUMNS)
        problem = next(
            (
                f"{name} is over {NAME_MAX} characters"
                for name, v in (("first_name", first), ("last_name", last))
                if len(v) > NAME_MAX
            ),
            None,
        ) or (_email_problem(email) if email else None)
        if problem:
            yield Refused(line, problem)
            continue
        yield Row(line, customer_id, sub, first, last, email)


def _email_problem(email: str) -> str | None:
    if len(email) > EMAIL_MAX:
        return f"email is over {EMAIL_MAX} characters"
    if _CONTROL.search(email) or not _EMAIL.match(email):
        return "malformed email"
    return None
