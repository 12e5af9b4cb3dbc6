"""`python -m preflight migrate contacts|webhooks` against loopback fakes of External Contacts and Sunshine.

Expected outcomes are written by hand per scenario (which line is a create, which a conflict), never read from
the journal or the code's own tables. The fakes follow the vendors' public references (cited in each fake).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import pytest

from components.settings_model import PROJECT_ROOT
from components.stack_file import read_stack_file
from preflight import migrate, migrate_http
from preflight.__main__ import main
from preflight.inprocess import run_program
from preflight.stacks import resolve
from tests import fake_external_contacts as fec
from tests import fake_sunshine as fsc

STACK = "prod"


@cache
def _planned():
    return run_program(read_stack_file(resolve(STACK)))


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv(migrate.CLIENT_ID_VAR, fec.CLIENT_ID)
    monkeypatch.setenv(migrate.CLIENT_SECRET_VAR, fec.CLIENT_SECRET)
    monkeypatch.setenv("SUNSHINE_KEY_ID", fsc.KEY_ID)
    monkeypatch.setenv("SUNSHINE_KEY_SECRET", fsc.KEY_SECRET)
    # The stack is planned once per session: each test only needs its region and external source.
    monkeypatch.setattr(migrate, "run_program", lambda _stack: _planned())


@pytest.fixture
def org():
    fake = fec.FakeContacts()
    # components/crm.py declares the CRM external source as "CRM" after the stack's namePrefix (README, Crm row).
    fake.source_id = fake.add_source(f"{_planned().settings.name_prefix}CRM")
    fake.add_source(f"{_planned().settings.name_prefix}CRM archive")  # a prefix match the importer must not take
    with fec.serve(fake) as url:
        fake.url = url
        yield fake


def write_csv(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def run_migrate(org, tmp_path: Path, ids: Path, *extra: str, journal: str = "j.sqlite") -> int:
    return main(
        [
            "migrate",
            "contacts",
            "--stack",
            STACK,
            "--ids",
            str(ids),
            "--api-url",
            org.url,
            "--login-url",
            org.url,
            "--journal",
            str(tmp_path / journal),
            "--timeout",
            "5",
            "--rate",
            "1000",
            *extra,
        ]
    )


def plan_rows(tmp_path: Path, journal: str = "j.sqlite") -> dict[int, tuple[str, str]]:
    path = (tmp_path / journal).with_suffix(".plan.csv")
    with path.open(encoding="utf-8") as handle:
        return {int(r["line"]): (r["outcome"], r["applied"]) for r in csv.DictReader(handle)}


def problems(tmp_path: Path, journal: str = "j.sqlite") -> dict[int, tuple[str, str]]:
    with (tmp_path / journal).with_suffix(".conflicts.csv").open(encoding="utf-8") as handle:
        return {int(r["line"]): (r["outcome"], r["reason"]) for r in csv.DictReader(handle)}


SCENARIO = [
    "cust-new,Ann,Lee,ann@example.com",  # line 2: nobody holds it -> create
    "cust-stale,Bob,Stone,",  # line 3: held, last name differs -> enrich
    "cust-same,Cy,Young,cy@example.com",  # line 4: held with these values -> unchanged
    "cust-mail,,,shared@example.com",  # line 5: the email is another contact's identifier -> conflict
    "",  # line 6: empty -> refused
    "cust-new,Ann,Lee,",  # line 7: same id again -> refused (duplicate of line 2)
    "x" * 256 + ",,,",  # line 8: over 255 -> refused
    'cust-bad,"unterminated',  # line 9: malformed -> refused
    "cust-email,Di,,not-an-address",  # line 10: malformed email -> refused
    " cust-space,,,",  # line 11: Genesys would strip it -> refused
]


def seed(org) -> None:
    org.add_contact(org.source_id, "cust-stale", firstName="Bob", lastName="Stein")
    org.add_contact(org.source_id, "cust-same", firstName="Cy", lastName="Young", personalEmail="cy@example.com")
    org.add_contact(org.source_id, None, firstName="Someone", personalEmail="shared@example.com")


def test_dry_run_plans_every_outcome_with_its_line_and_writes_nothing(org, tmp_path, capsys):
    seed(org)
    ids = write_csv(tmp_path / "ids.csv", "id,first_name,last_name,email", SCENARIO)
    before = {k: dict(v) for k, v in org.contacts.items()}
    assert run_migrate(org, tmp_path, ids) == 1  # conflicts and refused rows need the team's attention
    assert org.enrich_requests == 0 and org.contacts == before
    outcomes = {line: outcome for line, (outcome, _) in plan_rows(tmp_path).items()}
    assert outcomes == {
        2: "create",
        3: "enrich",
        4: "unchanged",
        5: "conflict",
        6: "refused",
        7: "refused",
        8: "refused",
        9: "refused",
        10: "refused",
        11: "refused",
    }
    found = problems(tmp_path)
    assert set(found) == {5, 6, 7, 8, 9, 10, 11}
    assert "line 2" in found[7][1] and "255" in found[8][1] and "email" in found[10][1], found
    output = capsys.readouterr()
    # No customer data beyond counts: no id, name or email of the input reaches the terminal; no secret either.
    for private in ("cust-", "Ann", "ann@example.com", "shared@example.com", fec.CLIENT_SECRET, fec.ACCESS_TOKEN):
        assert private not in output.out + output.err, private


def test_apply_executes_exactly_the_plan_and_a_second_run_changes_nothing(org, tmp_path):
    seed(org)
    ids = write_csv(tmp_path / "ids.csv", "id,first_name,last_name,email", SCENARIO)
    run_migrate(org, tmp_path, ids)
    planned = {line: outcome for line, (outcome, _) in plan_rows(tmp_path).items()}
    assert run_migrate(org, tmp_path, ids, "--apply") == 1  # the conflicts are still there, reported
    applied = plan_rows(tmp_path)
    assert {line: outcome for line, (outcome, _) in applied.items()} == planned, "the apply re-planned"
    assert {line for line, (_, state) in applied.items() if state == "done"} == {2, 3}
    assert org.enrich_operations == 2 and org.largest_batch <= fec.BULK_MAX
    new = org.contacts[org.holder("ExternalId", org.source_id, "cust-new")]
    assert (new["firstName"], new["lastName"], new["personalEmail"]) == ("Ann", "Lee", "ann@example.com")
    assert org.contacts[org.holder("ExternalId", org.source_id, "cust-stale")]["lastName"] == "Stone"
    assert org.holder("ExternalId", org.source_id, "cust-mail") is None, "a conflict was written"
    # Idempotent: applying again sends nothing; a fresh plan finds every written row unchanged.
    requests = org.enrich_requests
    run_migrate(org, tmp_path, ids, "--apply")
    assert org.enrich_requests == requests
    run_migrate(org, tmp_path, ids, journal="check.sqlite")
    again = {line: outcome for line, (outcome, _) in plan_rows(tmp_path, "check.sqlite").items()}
    assert [again[line] for line in (2, 3, 4)] == ["unchanged"] * 3, again
    assert org.subs(org.source_id) == ["cust-new", "cust-same", "cust-stale"]


def test_two_ids_with_one_sub_are_both_conflicts_and_neither_is_written(org, tmp_path):
    ids = write_csv(tmp_path / "ids.csv", "id", ["crm-1", "crm-2", "crm-3"])
    mapping = write_csv(tmp_path / "map.csv", "id,sub", ["crm-1,auth0|abc", "crm-2,auth0|abc"])
    assert run_migrate(org, tmp_path, ids, "--map", str(mapping), "--apply") == 1
    found = problems(tmp_path)
    assert found[2][0] == found[3][0] == "conflict"
    assert "line 3" in found[2][1] and "line 2" in found[3][1]
    assert org.subs(org.source_id) == []  # --apply on an unplanned journal plans first, writes nothing yet
    assert run_migrate(org, tmp_path, ids, "--map", str(mapping), "--apply") == 1
    assert org.subs(org.source_id) == ["crm-3"], "only the id without a conflict is imported, as itself"


def test_a_mapping_file_giving_one_id_two_subs_is_refused_before_anything(org, tmp_path, capsys):
    ids = write_csv(tmp_path / "ids.csv", "id", ["crm-1"])
    mapping = write_csv(tmp_path / "map.csv", "id,sub", ["crm-1,a", "crm-1,b"])
    assert run_migrate(org, tmp_path, ids, "--map", str(mapping)) == 2
    assert "line 3" in capsys.readouterr().err and org.lookups == 0


def test_a_journal_is_refused_for_another_input(org, tmp_path, capsys):
    run_migrate(org, tmp_path, write_csv(tmp_path / "a.csv", "id", ["one"]))
    assert run_migrate(org, tmp_path, write_csv(tmp_path / "b.csv", "id", ["two"])) == 2
    assert "ids_sha256" in capsys.readouterr().err


def test_contact_holding_another_id_under_the_source_is_a_conflict(org, tmp_path):
    contact = org.add_contact(org.source_id, "cust-a")
    org.contacts[contact]["externalIds"].append({"externalSource": {"id": org.source_id}, "value": "cust-b"})
    run_migrate(org, tmp_path, write_csv(tmp_path / "ids.csv", "id", ["cust-a"]))
    assert problems(tmp_path)[2][0] == "conflict"


def test_a_429_storm_is_waited_out_as_retry_after_asks(org, tmp_path):
    ids = write_csv(tmp_path / "ids.csv", "id", [f"c-{n}" for n in range(25)])
    org.storm, org.retry_after = 12, "0.1"
    started = time.monotonic()
    assert run_migrate(org, tmp_path, ids) == 0
    assert run_migrate(org, tmp_path, ids, "--apply") == 0
    assert org.throttled == 12 and time.monotonic() - started >= 12 * 0.1
    # Bulk at the documented size: "up to 10 Enrich operations per request" (ExternalContactsApi.md).
    assert (org.enrich_requests, org.largest_batch) == (3, 10)
    assert org.subs(org.source_id) == sorted(f"c-{n}" for n in range(25))


def test_a_5xx_after_the_write_is_looked_up_not_resent(org, tmp_path, monkeypatch):
    monkeypatch.setattr(migrate_http, "BACKOFF_SECONDS", 0.01)
    ids = write_csv(tmp_path / "ids.csv", "id", [f"c-{n}" for n in range(15)])
    run_migrate(org, tmp_path, ids)
    org.server_errors = 1  # the first bulk request is written, then answered 500
    assert run_migrate(org, tmp_path, ids, "--apply", "--concurrency", "1") == 0
    assert org.subs(org.source_id) == sorted(f"c-{n}" for n in range(15)), "a row was duplicated or lost"
    assert org.enrich_operations == 15


def test_a_slow_answer_leaves_rows_unplanned_and_a_rerun_finishes(org, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(migrate_http, "BACKOFF_SECONDS", 0.01)  # the retries' pattern, not their real waits
    ids = write_csv(tmp_path / "ids.csv", "id", ["c-1", "c-2"])
    org.slow_seconds = 0.6
    assert (
        main(
            [
                "migrate",
                "contacts",
                "--stack",
                STACK,
                "--ids",
                str(ids),
                "--api-url",
                org.url,
                "--login-url",
                org.url,
                "--journal",
                str(tmp_path / "j.sqlite"),
                "--timeout",
                "0.2",
            ]
        )
        == 1
    )
    assert "resume the plan" in capsys.readouterr().err
    org.slow_seconds = 0
    assert run_migrate(org, tmp_path, ids) == 0
    assert {o for o, _ in plan_rows(tmp_path).values()} == {"create"}


def test_concurrency_is_bounded(org, tmp_path):
    ids = write_csv(tmp_path / "ids.csv", "id", [f"c-{n}" for n in range(60)])
    org.slow_seconds = 0.02
    run_migrate(org, tmp_path, ids, "--concurrency", "3")
    assert run_migrate(org, tmp_path, ids, "--apply", "--concurrency", "3") == 0
    assert 1 <= org.most_in_flight <= 3


def test_sunshine_fills_what_the_id_list_leaves_empty(org, tmp_path):
    sunshine = fsc.FakeSunshine()
    sunshine.add_user("cust-1", "Eve", "Moss", "eve@example.com")
    ids = write_csv(tmp_path / "ids.csv", "id,first_name", ["cust-1,Evelyn", "cust-2,"])
    with fsc.serve(sunshine) as sunshine_url:
        extra = ("--sunshine-app", fsc.APP_ID, "--sunshine-url", sunshine_url)
        run_migrate(org, tmp_path, ids, *extra)
        assert run_migrate(org, tmp_path, ids, *extra, "--apply") == 0
    contact = org.contacts[org.holder("ExternalId", org.source_id, "cust-1")]
    # The CRM export wins where it has a value; Sunshine fills the rest.
    assert (contact["firstName"], contact["lastName"], contact["personalEmail"]) == (
        "Evelyn",
        "Moss",
        "eve@example.com",
    )
    assert org.holder("ExternalId", org.source_id, "cust-2") is not None  # not in Sunshine: imported from the list


@pytest.mark.parametrize("written", [False, True], ids=["killed-before-the-write", "killed-after-the-write"])
def test_a_killed_apply_resumes_without_a_duplicate(org, tmp_path, written):
    rows = [f"c-{n:03d}" for n in range(80)]
    ids = write_csv(tmp_path / "ids.csv", "id", rows)
    assert run_migrate(org, tmp_path, ids) == 0
    # The 4th bulk request and later ones hang (written first, or not): the run is killed with them in flight.
    org.stall_after, org.stall_after_writing = 3, written
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    command = [
        sys.executable,
        "-m",
        "preflight",
        "migrate",
        "contacts",
        "--stack",
        STACK,
        "--ids",
        str(ids),
        "--api-url",
        org.url,
        "--login-url",
        org.url,
        "--journal",
        str(tmp_path / "j.sqlite"),
        "--rate",
        "1000",
        "--concurrency",
        "2",
        "--apply",
    ]
    child = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while org.enrich_requests < 5 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert org.enrich_requests >= 5, child.stderr.read().decode() if child.poll() is not None else "no progress"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    written_before = len(org.subs(org.source_id))
    assert 0 < written_before < len(rows)
    org.stall_after = None
    assert run_migrate(org, tmp_path, ids, "--apply") == 0
    assert org.subs(org.source_id) == rows, "a row was written twice or not at all"
    assert {state for _, state in plan_rows(tmp_path).values()} == {"done"}
    assert org.enrich_operations == len(rows), "a row already written was sent again"


# --- webhooks ----------------------------------------------------------------------------------------------


def test_webhooks_lists_each_trigger_with_its_replacement_and_no_secret(capsys):
    sunshine = fsc.FakeSunshine(page_size=1)
    sunshine.add_webhook("Ticketing", "https://hooks.example.com/zendesk?token=s3cr3t-query", ["conversation:create"])
    sunshine.add_webhook("Bot", "https://bot.example.com/in", ["conversation:message", "conversation:postback"])
    sunshine.add_webhook("Android", "https://unused.example.com", ["conversation:read"], integration_type="android")
    with fsc.serve(sunshine) as url:
        code = main(["migrate", "webhooks", "--sunshine-app", fsc.APP_ID, "--sunshine-url", url])
    out = capsys.readouterr().out
    assert code == 1  # some triggers have no replacement yet: the team decides before cut-over
    create = next(line for line in out.splitlines() if line.startswith("- conversation:create:"))
    assert "ticket" in create and "crm_create_ticket" in create
    message = next(line for line in out.splitlines() if line.startswith("- conversation:message:"))
    assert "NO REPLACEMENT" in message
    assert "conversation:read" not in out, "a non-custom integration's webhook was listed"
    assert "hooks.example.com/zendesk" in out and "s3cr3t-query" not in out and fsc.WEBHOOK_SECRET not in out
    assert fsc.KEY_SECRET not in out


def test_trigger_table_covers_the_sunshine_reference():
    # Hand-copied from the "Webhook Triggers" table of the Sunshine v2 OpenAPI file (openapi.yaml 17.12.1).
    reference = {
        "client:add",
        "client:remove",
        "client:update",
        "conversation:create",
        "conversation:join",
        "conversation:leave",
        "conversation:remove",
        "conversation:message",
        "conversation:message:delivery:channel",
        "conversation:message:delivery:failure",
        "conversation:message:delivery:user",
        "conversation:postback",
        "conversation:read",
        "conversation:referral",
        "passthrough:messaging",
        "conversation:typing",
        "switchboard:acceptControl",
        "switchboard:acceptControl:failure",
        "switchboard:offerControl",
        "switchboard:offerControl:failure",
        "switchboard:passControl",
        "switchboard:passControl:failure",
        "switchboard:releaseControl",
        "user:merge",
        "user:update",
        "user:remove",
    }
    from preflight.migrate_webhooks import replacements

    table = replacements()
    assert set(table) == reference
    for trigger, entry in table.items():
        assert bool(entry.get("replacedBy")) != bool(entry.get("note")), trigger
        for path in [w.strip("(),;") for w in entry.get("replacedBy", "").split() if "/" in w and "." in w]:
            # `<kind>` stands for each ticketing preset's folder.
            assert list(PROJECT_ROOT.glob(path.replace("<kind>", "*"))), f"{trigger}: {path} does not exist"


def test_a_contact_made_between_plan_and_apply_is_reported_not_duplicated(org, tmp_path):
    ids = write_csv(tmp_path / "ids.csv", "id", ["c-1", "c-2"])
    run_migrate(org, tmp_path, ids)
    org.add_contact(org.source_id, "c-2", firstName="Made meanwhile")
    assert run_migrate(org, tmp_path, ids, "--apply") == 1
    assert problems(tmp_path) == {3: ("failed", "Genesys refused it: identifier.conflict (409)")}
    assert org.subs(org.source_id) == ["c-1", "c-2"]
    # A later apply tries the failed row again: refused again, nothing changes, still reported.
    assert run_migrate(org, tmp_path, ids, "--apply") == 1
    assert problems(tmp_path) == {3: ("failed", "Genesys refused it: identifier.conflict (409)")}
    assert org.subs(org.source_id) == ["c-1", "c-2"] and org.enrich_operations == 3


def test_the_plan_file_holds_ids_only_when_asked_and_only_for_its_owner(org, tmp_path):
    ids = write_csv(tmp_path / "ids.csv", "id", ["cust-private"])
    run_migrate(org, tmp_path, ids)
    plan = tmp_path / "j.plan.csv"
    assert "cust-private" not in plan.read_text()
    assert os.stat(plan).st_mode & 0o077 == 0 and os.stat(tmp_path / "j.sqlite").st_mode & 0o077 == 0
    run_migrate(org, tmp_path, ids, "--with-ids")
    assert "cust-private" in plan.read_text()


def test_webhooks_as_json(capsys):
    sunshine = fsc.FakeSunshine()
    sunshine.add_webhook("Ticketing", "https://hooks.example.com/z", ["conversation:create", "user:merge"])
    with fsc.serve(sunshine) as url:
        code = main(["migrate", "webhooks", "--sunshine-app", fsc.APP_ID, "--sunshine-url", url, "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0  # both triggers have a replacement in this stack
    assert [t["trigger"] for t in document["triggers"]] == ["conversation:create", "user:merge"]
    assert all(t["replaced_by"] for t in document["triggers"]) and document["webhooks"] == 1


def test_bad_options_and_missing_credentials_are_usage_errors(org, tmp_path, capsys, monkeypatch):
    ids = write_csv(tmp_path / "ids.csv", "id", ["c-1"])
    assert run_migrate(org, tmp_path, ids, "--concurrency", "0") == 2
    assert run_migrate(org, tmp_path, ids, "--sunshine-app", "x") == 2
    assert run_migrate(org, tmp_path, tmp_path / "missing.csv") == 2
    monkeypatch.delenv(migrate.CLIENT_SECRET_VAR)
    assert run_migrate(org, tmp_path, ids) == 2
    err = capsys.readouterr().err
    assert "--concurrency" in err and "--sunshine-url" in err and "missing.csv" in err and "IMPORTER_CLIENT" in err
    assert "Traceback" not in err


def test_an_expired_token_is_renewed_and_the_run_goes_on(org, tmp_path):
    ids = write_csv(tmp_path / "ids.csv", "id", [f"c-{n}" for n in range(30)])
    org.expire_after = 10  # mid-plan
    assert run_migrate(org, tmp_path, ids) == 0
    org.expire_after = org.api_requests + 2  # mid-apply
    assert run_migrate(org, tmp_path, ids, "--apply") == 0
    assert org.token_generation == 3 and org.subs(org.source_id) == sorted(f"c-{n}" for n in range(30))


def test_sunshine_faults_a_429_storm_a_refused_key_and_an_echoed_secret(org, tmp_path, capsys, monkeypatch):
    sunshine = fsc.FakeSunshine(storm=4, echo_credentials=True)
    sunshine.add_user("cust-1", "Eve")
    ids = write_csv(tmp_path / "ids.csv", "id", ["cust-1", "cust-2"])  # cust-2: a 404 quoting the credentials
    with fsc.serve(sunshine) as url:
        extra = ("--sunshine-app", fsc.APP_ID, "--sunshine-url", url)
        assert run_migrate(org, tmp_path, ids, *extra) == 0
        monkeypatch.setenv("SUNSHINE_KEY_SECRET", "not-the-key-secret-1234")
        assert run_migrate(org, tmp_path, ids, *extra, journal="refused.sqlite") == 1
    output = capsys.readouterr()
    assert "-> 401" in output.err, "the refused key is named in the report"
    assert fsc.KEY_SECRET not in output.out + output.err and "not-the-key-secret-1234" not in output.err
    assert "cust-" not in output.err, "an error message named a customer id (it is in the Sunshine path)"
    assert {o for o, _ in plan_rows(tmp_path).values()} == {"create"}
    assert {o for o, _ in plan_rows(tmp_path, "refused.sqlite").values()} == {"pending"}, "planned without Sunshine"


def test_a_re_run_looks_up_only_the_sub_of_a_contact_already_carrying_the_email(org, tmp_path):
    ids = write_csv(tmp_path / "ids.csv", "id,email", [f"c-{n},c{n}@example.com" for n in range(5)])
    run_migrate(org, tmp_path, ids)
    assert org.lookups == 10  # new rows: the sub and the email each
    run_migrate(org, tmp_path, ids, "--apply")
    before = org.lookups
    assert run_migrate(org, tmp_path, ids, journal="check.sqlite") == 0
    assert org.lookups - before == 5
    assert {o for o, _ in plan_rows(tmp_path, "check.sqlite").values()} == {"unchanged"}
