"""python -m preflight migrate contacts|webhooks: carry Sunshine Conversations users over as Genesys External Contacts.

`migrate contacts --stack NAME --ids FILE` plans: every customer id of the team's list (docs/migration.md) is
read into a journal and looked up in the org, and each row is planned create, enrich, unchanged, conflict or
refused, without writing to Genesys. `--apply` then executes exactly the journal's plan. Both resume from
the journal after a crash. The stack is planned in-process only for its region and the name of its CRM
external source (what identity resolution matches a signed-in customer's `sub` under).

`migrate webhooks --sunshine-app APP --sunshine-url URL` lists the app's webhooks and what replaces each
trigger in this stack. Read-only.

Credentials come from the environment only: IMPORTER_CLIENT_ID / _SECRET (the importer client
bootstrap/ creates with the contact-import role: `pulumi stack output importerClientId`, and
`--show-secrets importerClientSecret`)
and SUNSHINE_KEY_ID / SUNSHINE_KEY_SECRET (an app API key). Exit 0: everything planned (or written) with no
conflict, refused row or failure; 1: some need attention (see the conflicts file); 2: the command could not run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console

from components import provider_binding as binding
from components.errors import InvalidConfiguration
from components.genesys_api import ApiError, checked_url
from components.stack_file import StackFileError, read_stack_file
from preflight import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE
from preflight.doctor import printable
from preflight.inprocess import Run, run_program
from preflight.migrate_apply import Applier
from preflight.migrate_contacts_api import Workers
from preflight.migrate_http import PerThread, Throttle
from preflight.migrate_input import InputFileError
from preflight.migrate_journal import CREATE, ENRICH, PENDING, PLANNED, SENDING, Journal, JournalError
from preflight.migrate_plan import MapFileError, Planner, input_identity, read_input
from preflight.migrate_report import print_report, progress, stderr_console, summary, write_plan, write_problems
from preflight.migrate_sunshine import KEY_ID_VAR, KEY_SECRET_VAR, SunshineApi
from preflight.migrate_webhooks import trigger_uses
from preflight.stacks import resolve

CLIENT_ID_VAR, CLIENT_SECRET_VAR = "IMPORTER_CLIENT_ID", "IMPORTER_CLIENT_SECRET"
DEFAULT_CONCURRENCY = 4
DEFAULT_RATE = 5.0
"""Requests per second across all workers. Genesys' per-client API rate limit is an org setting not readable
here (docs/migration.md says how to confirm it); 5/s stays under common limits and 429s are honoured anyway."""
MAX_CONCURRENCY = 16


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="migrate_command", required=True, metavar="WHAT")
    contacts = commands.add_parser("contacts", help="plan (then --apply) External Contacts for a list of customer ids")
    source = contacts.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="stack name; reads Pulumi.<stack>.yaml in the project root")
    source.add_argument("--config-file", type=Path, metavar="PATH", help="a stack file to read instead")
    contacts.add_argument(
        "--ids",
        type=Path,
        required=True,
        metavar="FILE",
        help="CSV with a header: id (required), first_name, last_name, email",
    )
    contacts.add_argument(
        "--map", type=Path, metavar="FILE", help="CSV id,sub: the identity provider's sub where it differs from the id"
    )
    contacts.add_argument(
        "--journal",
        type=Path,
        metavar="FILE",
        help="the plan and resumable journal (SQLite; default .migrate/<stack>-contacts.sqlite)",
    )
    contacts.add_argument("--apply", action="store_true", help="write the journal's plan to Genesys")
    contacts.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"requests in flight at once (default {DEFAULT_CONCURRENCY}, at most {MAX_CONCURRENCY})",
    )
    contacts.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help=f"requests per second to Genesys, all workers together (default {DEFAULT_RATE:g})",
    )
    contacts.add_argument(
        "--with-ids",
        action="store_true",
        help="add the id and sub columns to the plan file (customer data; off by default)",
    )
    _sunshine_arguments(contacts, required=False)
    contacts.add_argument("--api-url", help="API base URL instead of the region's (a gateway, or a test server)")
    contacts.add_argument("--login-url", help="login (OAuth) base URL instead of the region's")
    contacts.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    webhooks = commands.add_parser("webhooks", help="list a Sunshine app's webhooks and what replaces each trigger")
    _sunshine_arguments(webhooks, required=True)
    webhooks.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    webhooks.add_argument("--format", choices=("text", "json"), default="text")


def _sunshine_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--sunshine-app",
        required=required,
        metavar="APP_ID",
        help="Sunshine Conversations app id"
        + ("" if required else " (fills names and emails the id list leaves empty)"),
    )
    parser.add_argument(
        "--sunshine-url",
        required=required,
        metavar="URL",
        help="Sunshine API base URL: https://<subdomain>.zendesk.com/sc (or a legacy region's)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        return _contacts(args) if args.migrate_command == "contacts" else _webhooks(args)
    except (StackFileError, InvalidConfiguration, InputFileError, MapFileError, JournalError, ValueError) as error:
        return _fail(str(error))


def _fail(message: str) -> int:
    print(f"migrate: {printable(message)}", file=sys.stderr)
    return EXIT_USAGE


def _options_problem(args: argparse.Namespace) -> str | None:
    if not 0 < args.timeout < math.inf:
        return "--timeout must be a positive number of seconds"
    if getattr(args, "concurrency", 1) not in range(1, MAX_CONCURRENCY + 1):
        return f"--concurrency must be 1 to {MAX_CONCURRENCY}"
    if not 0 < getattr(args, "rate", 1.0) < math.inf:
        return "--rate must be a positive number of requests per second"
    if getattr(args, "sunshine_app", None) and not getattr(args, "sunshine_url", None):
        return "--sunshine-app needs --sunshine-url (https://<subdomain>.zendesk.com/sc)"
    return None


def _sunshine(args: argparse.Namespace, throttle: Throttle) -> Callable[[], SunshineApi]:
    """A maker of Sunshine clients (one per worker thread), its key and URL checked now."""
    key_id, secret = os.environ.get(KEY_ID_VAR, ""), os.environ.get(KEY_SECRET_VAR, "")
    if not key_id or not secret:
        raise ValueError(f"set {KEY_ID_VAR} and {KEY_SECRET_VAR} to a Sunshine app API key (key id and secret)")
    url = checked_url("--sunshine-url", args.sunshine_url)
    return lambda: SunshineApi(url, key_id, secret, timeout=args.timeout, throttle=throttle)


# --- contacts ----------------------------------------------------------------------------------------------


def external_source_name(planned: Run) -> str:
    """The name of the one CRM external source the stack declares (components/crm.py), read from the estate."""
    token = binding.type_token(binding.ExternalcontactsExternalSource)
    names = [r.inputs.get("name") for r in planned.resources if r.type == token]
    if len(names) != 1 or not isinstance(names[0], str) or not names[0]:
        raise ValueError(
            f"the planned stack should declare one external source with a name, found {len(names)}; "
            "fix: make preflight/migrate.py follow the program's change"
        )
    return names[0]


def _command(args: argparse.Namespace, journal: Path, *, apply: bool) -> str:
    parts = ["python", "-m", "preflight", "migrate", "contacts"]
    parts += ["--stack", args.stack] if args.stack else ["--config-file", str(args.config_file)]
    parts += ["--ids", str(args.ids)] + (["--map", str(args.map)] if args.map else [])
    if args.sunshine_app:
        parts += ["--sunshine-app", args.sunshine_app, "--sunshine-url", args.sunshine_url]
    parts += ["--journal", str(journal)] + (["--apply"] if apply else [])
    return shlex.join(parts)


def _contacts(args: argparse.Namespace) -> int:
    if problem := _options_problem(args):
        return _fail(problem)
    stack = read_stack_file(args.config_file or resolve(args.stack))
    planned = run_program(stack)
    settings = planned.settings
    source_name = external_source_name(planned)
    api_url = checked_url(
        "--api-url" if args.api_url else "the region's API URL", args.api_url or settings.region.api_url
    )
    login_url = checked_url(
        "--login-url" if args.login_url else "the region's login URL", args.login_url or settings.region.login_url
    )
    client_id, secret = os.environ.get(CLIENT_ID_VAR, ""), os.environ.get(CLIENT_SECRET_VAR, "")
    if not client_id or not secret:
        return _fail(
            f"set {CLIENT_ID_VAR} and {CLIENT_SECRET_VAR} to the importer client (bootstrap outputs "
            "importerClientId and importerClientSecret)"
        )
    throttle = Throttle(args.rate)
    sunshine = PerThread(_sunshine(args, throttle)) if args.sunshine_app else None
    journal_path = args.journal or Path(".migrate") / f"{settings.stack}-contacts.sqlite"
    workers = Workers(api_url, timeout=args.timeout, throttle=throttle)
    try:
        with Journal(journal_path) as journal:
            journal.bind(**input_identity(settings.stack, args.ids, args.map, source_name, args.sunshine_app or ""))
            session = _Session(args, journal, journal_path, workers, sunshine, stderr_console())
            return _plan_and_apply(session, login_url, (client_id, secret), source_name)
    finally:
        workers.close()
        if sunshine is not None:
            sunshine.close()


@dataclass
class _Session:
    args: argparse.Namespace
    journal: Journal
    journal_path: Path
    workers: Workers
    sunshine: PerThread[SunshineApi] | None
    console: Console
    notes: list[str] = field(default_factory=list)
    """What the report says besides the counts: never customer data."""


def _plan_and_apply(session: _Session, login_url: str, credentials: tuple[str, str], source_name: str) -> int:
    args, journal, workers = session.args, session.journal, session.workers
    with progress(session.console) as shown:
        task = shown.add_task("reading ids", total=None)
        read_input(journal, args.ids, args.map, lambda n: shown.advance(task, n))
        shown.update(task, total=shown.tasks[task].completed)
    token = workers.log_in(login_url, *credentials)
    if not token.ok:
        return _fail(f"token exchange at {login_url} failed: {token.error}")
    try:
        source_id = workers.first.find_source(source_name)
    except ApiError as error:
        return _fail(f"finding the CRM external source {source_name!r}: {workers.first.redact(str(error))}")
    journal.bind(source_id=source_id)
    # Only a plan an earlier run finished is applied: the one the team had the chance to review.
    reviewed = journal.get("planned") == "yes"
    _plan(session, source_id)
    if args.apply and not reviewed:
        session.notes.append("not applied: the plan was made by this run; review it, then run --apply again")
    elif args.apply:
        _apply(session, source_id)
    return _report(session, reviewed)


def _plan(session: _Session, source_id: str) -> None:
    journal, args = session.journal, session.args
    pending = journal.count("outcome = ?", (PENDING,))
    if pending:
        planner = Planner(
            journal,
            session.workers,
            source_id,
            concurrency=args.concurrency,
            sunshine=session.sunshine,
            sunshine_app=args.sunshine_app or "",
        )
        with progress(session.console) as shown:
            task = shown.add_task("planning", total=pending)
            planner.run(lambda n: shown.advance(task, n))
        if planner.not_in_sunshine:
            session.notes.append(f"{planner.not_in_sunshine:,} ids have no Sunshine user: planned from the list alone")
        if planner.lookup_failures:
            session.notes.append(
                f"{planner.lookup_failures:,} rows could not be looked up ({planner.last_error}); they stay unplanned"
            )
    if journal.count("outcome = ?", (PENDING,)) == 0:
        journal.set(planned="yes")


def _apply(session: _Session, source_id: str) -> None:
    journal = session.journal
    applier = Applier(journal, session.workers, source_id, concurrency=session.args.concurrency)
    to_write = journal.count("outcome IN (?, ?) AND state IN (?, ?)", (CREATE, ENRICH, PLANNED, SENDING))
    with progress(session.console) as shown:
        task = shown.add_task("writing", total=to_write)
        applier.run(lambda n: shown.advance(task, n))
    stats = applier.stats
    if stats.retried:
        session.notes.append(f"{stats.retried:,} rows an earlier apply reported failed were tried again")
    session.notes.append(
        f"{stats.sent_requests:,} bulk requests; {stats.unknown_outcomes:,} with an unknown outcome "
        f"(their {stats.found_on_lookup:,} rows found written on lookup, not resent)"
    )


def _report(session: _Session, reviewed: bool) -> int:
    args, journal, path, workers = session.args, session.journal, session.journal_path, session.workers
    plan_file, problems_file = path.with_suffix(".plan.csv"), path.with_suffix(".conflicts.csv")
    write_plan(journal, plan_file, with_ids=args.with_ids)
    problems = write_problems(journal, problems_file)
    counts = summary(journal)
    notes = session.notes
    if workers.first.throttle.throttled:
        notes.append(f"{workers.first.throttle.throttled:,} answers were 429 (rate limited); waited as asked")
    if workers.renewals:
        notes.append(f"the access token was renewed {workers.renewals:,} times")
    notes += [
        f"plan: {plan_file}",
        f"conflicts, refused and failed rows ({problems:,}): {problems_file}",
        f"journal: {path}",
    ]
    unplanned = counts["not planned yet"] > 0
    unwritten = args.apply and (not reviewed or counts["in flight"] > 0 or journal.count("state = ?", (PLANNED,)) > 0)
    if unplanned:
        notes.append(f"resume the plan: {_command(args, path, apply=False)}")
    elif not args.apply or not reviewed:
        notes.append(f"review the plan, then apply it: {_command(args, path, apply=True)}")
    elif unwritten:
        notes.append(f"resume: {_command(args, path, apply=True)}")
    else:
        check = path.with_name(path.stem + "-check.sqlite")
        notes.append(
            f"check: a fresh dry run should plan every imported row unchanged: {_command(args, check, apply=False)}"
        )
    title = f"migrate contacts ({'apply' if args.apply else 'dry run: nothing written to Genesys'})"
    print_report(session.console, title, counts, [workers.first.redact(n) for n in notes])
    return EXIT_PROBLEM if problems or unplanned or unwritten else EXIT_OK


# --- webhooks -----------------------------------------------------------------------------------------------


def _webhooks(args: argparse.Namespace) -> int:
    if problem := _options_problem(args):
        return _fail(problem)
    with _sunshine(args, Throttle(0))() as sunshine:
        try:
            found = [
                (i, sunshine.webhooks(args.sunshine_app, str(i.get("id") or "")))
                for i in sunshine.custom_integrations(args.sunshine_app)
            ]
        except ApiError as error:
            return _fail(f"listing the app's webhooks: {sunshine.redact(str(error))}")
    uses = trigger_uses(found)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "webhooks": sum(len(h) for _, h in found),
                    "triggers": [asdict(u) for u in uses],
                },
                indent=2,
            )
        )
    else:
        print(printable(f"{sum(len(h) for _, h in found)} webhooks in {len(found)} custom integrations"))
        for use in uses:
            verdict = f"replaced by {use.replaced_by}" if use.replaced_by else f"NO REPLACEMENT YET: {use.note}"
            print(printable(f"- {use.trigger}: {verdict}"))
            for hook in use.webhooks:
                print(printable(f"    {hook}"))
    return EXIT_PROBLEM if any(not u.replaced_by for u in uses) else EXIT_OK
