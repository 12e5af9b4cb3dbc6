"""The parts of `migrate contacts` on their own: input reading, the journal, the throttle, the progress display.

Limits come from the vendors' references, written here by hand: Genesys identifiers hold 255 characters
(platform SDK 257.1.0, ContactIdentifier.md), Sunshine externalIds 1,024 (openapi.yaml, userCreateBody).
"""

from __future__ import annotations

import io
import os
import stat

import pytest
from rich.console import Console

from preflight import migrate_plan
from preflight.migrate_input import InputFileError, Refused, Row, read_map, read_rows
from preflight.migrate_journal import CONFLICT, PENDING, REFUSED, Journal, JournalError
from preflight.migrate_report import progress


def rows_of(tmp_path, text: str, mapped=lambda _id: None):
    path = tmp_path / "ids.csv"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return list(read_rows(path, mapped))


def test_rows_keep_their_physical_line_and_columns(tmp_path):
    found = rows_of(tmp_path, "\ufeffid,email,first_name\nc-1,a@example.com,Ann\r\nc-2,,\n")
    assert found == [Row(2, "c-1", "c-1", "Ann", "", "a@example.com"), Row(3, "c-2", "c-2")]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", "empty row"),
        ("   ", "empty row"),
        ("a,b", "malformed row"),
        ("x" * 1025, "1025 characters, over the 1024"),
        ("y" * 256, "256 characters, over the 255"),
        (" padded", "whitespace"),
        ("tab\there", "control character"),
    ],
)
def test_unusable_rows_are_refused_with_their_line(tmp_path, line, reason):
    found = rows_of(tmp_path, f"id\nok-1\n{line}\nok-2\n")
    assert found[0] == Row(2, "ok-1", "ok-1") and found[2] == Row(4, "ok-2", "ok-2")
    assert isinstance(found[1], Refused) and found[1].line == 3 and reason in found[1].reason, found[1]


def test_a_mapped_sub_is_checked_against_the_genesys_limit(tmp_path):
    found = rows_of(tmp_path, "id\nshort\n", mapped=lambda _id: "s" * 256)
    assert isinstance(found[0], Refused) and "sub is 256" in found[0].reason


def test_an_undecodable_or_huge_line_costs_one_row(tmp_path):
    found = rows_of(tmp_path, b"id\n\xff\xfe\n" + b"z" * 20000 + b"\nafter\n")
    assert [type(r).__name__ for r in found] == ["Refused", "Refused", "Row"]
    assert "UTF-8" in found[0].reason and "8192 bytes" in found[1].reason and found[2].line == 4


def test_a_bad_header_is_an_input_error_naming_the_file(tmp_path):
    for text in ("", "customer\nc-1\n", "id,id\n", "id,phone\n"):
        path = tmp_path / "ids.csv"
        path.write_text(text)
        with pytest.raises(InputFileError, match=r"ids\.csv"):
            list(read_rows(path))


def test_map_rows(tmp_path):
    path = tmp_path / "map.csv"
    path.write_text("id,sub\na,auth0|1\nb,\n")
    assert list(read_map(path)) == [(2, "a", "auth0|1"), Refused(3, "empty sub")]


def test_journal_file_is_owner_only_and_bound_to_its_input(tmp_path):
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.bind(stack="prod", ids_sha256="aaa")
        journal.bind(stack="prod", ids_sha256="aaa")
        with pytest.raises(JournalError, match="ids_sha256"):
            journal.bind(stack="prod", ids_sha256="bbb")
    assert stat.S_IMODE(os.stat(tmp_path / "j.sqlite").st_mode) == 0o600


def test_not_a_journal_is_refused(tmp_path):
    (tmp_path / "j.sqlite").write_text("hello, not sqlite" * 100)
    with pytest.raises(JournalError, match="not a migration journal"):
        Journal(tmp_path / "j.sqlite")


def test_duplicates_in_the_journal(tmp_path):
    with Journal(tmp_path / "j.sqlite") as journal, journal.transaction():
        journal.add_row(Row(2, "a", "s1"))
        journal.add_row(Row(3, "a", "s1"))  # the same id again
        journal.add_row(Row(4, "b", "s2"))
        journal.add_row(Row(5, "c", "s2"))  # another id, the same sub
        outcomes = {r.line: (r.outcome, r.reason) for r in journal.all_rows()}
    assert outcomes == {
        2: (PENDING, ""),
        3: (REFUSED, "duplicate of line 2"),
        4: (CONFLICT, "another id maps to the same sub (line 5)"),
        5: (CONFLICT, "another id maps to the same sub (line 4)"),
    }


def test_reading_killed_mid_file_resumes_without_a_row_twice(tmp_path, monkeypatch):
    monkeypatch.setattr(migrate_plan, "CHUNK_ROWS", 5)
    ids = tmp_path / "ids.csv"
    ids.write_text("id\n" + "".join(f"c-{n}\n" for n in range(23)))
    chunks = []

    def crash_after_two(n):
        chunks.append(n)
        if len(chunks) == 2:
            raise KeyboardInterrupt

    with Journal(tmp_path / "j.sqlite") as journal:
        with pytest.raises(KeyboardInterrupt):
            migrate_plan.read_input(journal, ids, None, crash_after_two)
        assert journal.count() == 10  # two committed chunks
        migrate_plan.read_input(journal, ids, None, chunks.append)
        lines = [r.line for r in journal.all_rows()]
    assert lines == list(range(2, 25)) and chunks[2:] == [5, 5, 3]


def test_throttle_spaces_requests_and_pauses_all_after_a_429():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 3))
        now[0] += seconds

    from preflight.migrate_http import Throttle

    throttle = Throttle(10, clock=lambda: now[0], sleep=sleep)
    throttle.wait()
    throttle.wait()
    assert slept == [0.1]  # 10 per second: the second request waits a tenth of a second
    throttle.pause(2.0)
    throttle.wait()
    assert slept[-1] == pytest.approx(2.0) and throttle.throttled == 1


def test_progress_draws_only_on_a_terminal():
    quiet = io.StringIO()
    with progress(Console(file=quiet, force_terminal=False)) as shown:
        task = shown.add_task("planning", total=10)
        shown.advance(task, 5)
    assert quiet.getvalue() == ""
    drawn = io.StringIO()
    with progress(Console(file=drawn, force_terminal=True, width=120)) as shown:
        task = shown.add_task("planning", total=10)
        shown.advance(task, 5)
    assert "planning" in drawn.getvalue() and "5/10" in drawn.getvalue() and "ETA" in drawn.getvalue()
