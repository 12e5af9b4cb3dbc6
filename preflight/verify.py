"""python -m preflight verify --stack NAME: prove one signed-in conversation end to end on the org after a deploy,
or name the failing link (config, session, flow, contact, ticket).

Plans the stack in-process first (no secrets needed) and takes every name it looks for from that estate, as the
doctor does. Then: the deployment's public configuration and the deployment itself (config); a signed-in guest
session over the Web Messaging Guest API sends one marked test message (session); read back with client
credentials, the conversation of that session and the participant data the inbound flow recorded (flow), its
External Contact (contact) and the ticket (ticket); an anonymous guest refused (prod); the test conversation
disconnected (cleanup). Read-only on configuration; it creates one test conversation and ends it.
Exit 0: every check held; 1: a check failed; 2: verify could not run. docs/verify.md has the set-up.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from components import provider_binding as binding
from components.errors import InvalidConfiguration
from components.genesys_api import ApiError, Deadline, checked_url
from components.stack_file import StackFileError, read_stack_file
from preflight import (
    EXIT_OK,
    EXIT_PROBLEM,
    EXIT_USAGE,
    estate_view,
    verify_api,
    verify_checks,
    verify_guest,
    verify_tickets,
)
from preflight.doctor import CLIENT_ID_VAR, CLIENT_SECRET_VAR, printable
from preflight.doctor_checks import OK, PROBLEM, Result, first_problem
from preflight.estate_view import EstateError
from preflight.inprocess import Run, run_program
from preflight.stacks import resolve
from preflight.verify_api import AuthCode, VerifyApi
from preflight.verify_checks import LINKS, VerifyContext
from preflight.verify_guest import GuestError

VERIFY_CLIENT_ID_VAR, VERIFY_CLIENT_SECRET_VAR = (
    "PREFLIGHT_VERIFY_OAUTHCLIENT_ID",
    "PREFLIGHT_VERIFY_OAUTHCLIENT_SECRET",
)
"""A read-only verify client's credentials; without them, the deployer's (GENESYSCLOUD_OAUTHCLIENT_ID/_SECRET)."""
AUTH_CODE_VAR = "PREFLIGHT_VERIFY_AUTH_CODE"
AUTH_CODE_COMMAND_VAR = "PREFLIGHT_VERIFY_AUTH_CODE_COMMAND"
REDIRECT_URI_VAR = "PREFLIGHT_VERIFY_REDIRECT_URI"
SUB_VAR = "PREFLIGHT_VERIFY_SUB"
MAX_COMMAND_OUTPUT = 64 * 1024
DEFAULT_DEADLINE_SECONDS = 180.0
DEFAULT_STEP_SECONDS = 60.0
_STYLE = {OK: "green", PROBLEM: "bold red", "skipped": "yellow"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="stack name; reads Pulumi.<stack>.yaml in the project root")
    source.add_argument("--config-file", type=Path, metavar="PATH", help="a stack file to read instead")
    parser.add_argument("--site", help="site key whose deployment the test session uses (default: the first by key)")
    parser.add_argument(
        "--deployment-id",
        action="append",
        default=[],
        metavar="SITE=ID",
        help="a site's deployment id instead of looking it up by the name the stack declares (repeatable)",
    )
    parser.add_argument(
        "--auth-code-command",
        metavar="COMMAND",
        help=f"command (no shell) printing the test user's authorization code, or a JSON object {{code, redirectUri, "
        f"codeVerifier, nonce, sub}}; default ${AUTH_CODE_COMMAND_VAR}; or the code itself in ${AUTH_CODE_VAR}",
    )
    parser.add_argument("--auth-code-stdin", action="store_true", help="read the code (or that JSON) from stdin")
    parser.add_argument(
        "--redirect-uri", help=f"the redirect URI the code was issued for (default ${REDIRECT_URI_VAR})"
    )
    parser.add_argument("--test-user-sub", help=f"the test user's OIDC sub (default ${SUB_VAR})")
    parser.add_argument(
        "--check-anonymous",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="check an anonymous guest is refused (default: on in prod, off elsewhere)",
    )
    parser.add_argument("--api-url", help="API base URL instead of the region's (a gateway, or a test server)")
    parser.add_argument("--login-url", help="login (OAuth) base URL instead of the region's")
    parser.add_argument("--cdn-url", help="public configuration host instead of the region's api-cdn")
    parser.add_argument("--websocket-url", help="Guest API base URL instead of the region's wss://webmessaging")
    parser.add_argument("--ticket-url", help="ticketing system base URL instead of crm.baseUrl's scheme and host")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=DEFAULT_STEP_SECONDS,
        help=f"seconds per step, waits for the flow included (default {DEFAULT_STEP_SECONDS:g})",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=DEFAULT_DEADLINE_SECONDS,
        help=f"seconds for the whole run (default {DEFAULT_DEADLINE_SECONDS:g}); calls after it are not sent",
    )
    parser.add_argument("--poll-interval", type=float, default=2.0, help="seconds between read-back polls (default 2)")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _fail(message: str) -> int:
    print(f"verify: {printable(message)}", file=sys.stderr)
    return EXIT_USAGE


def _url(name: str, value: str | None, default: str) -> str:
    return checked_url(name, value if value is not None else default)


def _headless(run: Run) -> dict[str, bool]:
    """Configuration name -> headlessModeEnabled, as the stack declares each Messenger configuration."""
    token = binding.type_token(binding.WebdeploymentsConfiguration)
    return {
        str(r.inputs.get("name")): bool(r.inputs.get("headlessModeEnabled"))
        for r in run.resources
        if r.type == token and isinstance(r.inputs.get("name"), str)
    }


def _external_source(run: Run) -> str:
    token = binding.type_token(binding.ExternalcontactsExternalSource)
    names = [r.inputs.get("name") for r in run.resources if r.type == token]
    if len(names) != 1 or not isinstance(names[0], str):
        raise EstateError(f"the estate should declare one External Contacts source, found {len(names)}")
    return names[0]


def _deployment_ids(values: list[str], sites: dict[str, estate_view.Deployment]) -> dict[str, str]:
    given = {}
    for value in values:
        site, sep, deployment_id = value.partition("=")
        if not sep or not deployment_id or site not in sites:
            raise ValueError(f"--deployment-id {value!r}: expected SITE=ID with SITE one of {', '.join(sorted(sites))}")
        given[site] = deployment_id
    return given


def parse_code(text: str, redirect_uri: str) -> tuple[AuthCode, str]:
    """The code (and the sub, if given) from what a command or stdin printed: a bare code, or a JSON object."""
    text = text.strip()
    sub = ""
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            raise ValueError("the code command printed a JSON object that does not parse") from None
        fields = {k: document.get(k) for k in ("code", "redirectUri", "codeVerifier", "nonce", "sub")}
        if not all(v is None or isinstance(v, str) for v in fields.values()):
            raise ValueError("the code command's JSON fields must be strings")
        text, redirect_uri = fields["code"] or "", fields["redirectUri"] or redirect_uri
        sub = fields["sub"] or ""
        verifier, nonce = fields["codeVerifier"] or "", fields["nonce"] or ""
    else:
        verifier = nonce = ""
    if not text or any(c.isspace() for c in text):
        raise ValueError("no authorization code (one line, no spaces) was printed")
    if not redirect_uri:
        raise ValueError(f"no redirect URI: give --redirect-uri or ${REDIRECT_URI_VAR} (or redirectUri in the JSON)")
    return AuthCode(text, redirect_uri, verifier, nonce), sub


SECRET_VARS = (CLIENT_SECRET_VAR, VERIFY_CLIENT_SECRET_VAR, AUTH_CODE_VAR, verify_tickets.TICKET_TOKEN_VAR)
"""Never handed to the code command: it needs the test user's IdP credentials, not the org's."""


def run_code_command(command: str, seconds: float) -> str:
    """What the team's code command prints on stdout (no shell; bounded in time and size; its stderr is never
    shown, it may hold what the IdP answered)."""
    environment = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    try:
        done = subprocess.run(
            shlex.split(command),
            capture_output=True,
            timeout=seconds,
            check=False,
            stdin=subprocess.DEVNULL,
            env=environment,
        )
    except (OSError, ValueError) as error:
        raise ValueError(f"the code command could not start ({type(error).__name__})") from None
    except subprocess.TimeoutExpired:
        raise ValueError(f"the code command did not finish within {seconds:g}s") from None
    if done.returncode != 0:
        raise ValueError(f"the code command exited with {done.returncode}")
    if len(done.stdout) > MAX_COMMAND_OUTPUT:
        raise ValueError("the code command printed more than 64 KiB")
    return done.stdout.decode("utf-8", "replace")


class _CodeSource:
    """Where the test user's code comes from; read when the session check asks (a code is single-use)."""

    def __init__(self, args: argparse.Namespace, seconds: float) -> None:
        self.command = args.auth_code_command or os.environ.get(AUTH_CODE_COMMAND_VAR, "")
        self.stdin = args.auth_code_stdin
        self.literal = os.environ.get(AUTH_CODE_VAR, "")
        self.redirect_uri = args.redirect_uri or os.environ.get(REDIRECT_URI_VAR, "")
        self.seconds = seconds
        self.sub = ""

    @property
    def configured(self) -> bool:
        return bool(self.command or self.stdin or self.literal)

    def __call__(self) -> AuthCode:
        if self.stdin:
            text = sys.stdin.read(MAX_COMMAND_OUTPUT + 1)
        elif self.command:
            text = run_code_command(self.command, self.seconds)
        else:
            text = self.literal
        code, self.sub = parse_code(text, self.redirect_uri)
        return code


def _check_numbers(args: argparse.Namespace) -> str | None:
    for name in ("timeout", "step_timeout", "deadline", "poll_interval"):
        if not 0 < getattr(args, name) < math.inf:
            return f"--{name.replace('_', '-')} must be a positive number of seconds"
    return None


def run(args: argparse.Namespace) -> int:
    if problem := _check_numbers(args):
        return _fail(problem)
    try:
        planned = run_program(read_stack_file(args.config_file or resolve(args.stack)))
        settings = planned.settings
        sites = estate_view.deployments(planned)
        headless, source = _headless(planned), _external_source(planned)
        # The settings' order (by site key), not the estate's: resources register in no fixed order.
        site = sites.get(args.site or settings.sites[0].key)
        if site is None:
            raise ValueError(f"--site {args.site!r}: the stack's sites are {', '.join(sorted(sites))}")
        given = _deployment_ids(args.deployment_id, sites)
        region = settings.region
        api_url = _url("--api-url", args.api_url, region.api_url)
        login_url = _url("--login-url", args.login_url, region.login_url)
        cdn_url = _url("--cdn-url", args.cdn_url, region.api_cdn_url)
        websocket_url = (args.websocket_url or region.websocket_url).rstrip("/")
        verify_guest.websocket_url(websocket_url, "check")
        ticket_url = _url("--ticket-url", args.ticket_url, verify_tickets.ticket_origin(settings.crm))
    except EstateError as error:
        return _fail(
            f"the planned stack lacks what verify looks for: {error}; fix: make preflight/verify.py follow "
            "the program's change"
        )
    except (StackFileError, InvalidConfiguration, ValueError, GuestError) as error:
        return _fail(str(error))
    client_id = os.environ.get(VERIFY_CLIENT_ID_VAR) or os.environ.get(CLIENT_ID_VAR, "")
    client_secret = os.environ.get(VERIFY_CLIENT_SECRET_VAR) or os.environ.get(CLIENT_SECRET_VAR, "")
    if not client_id or not client_secret:
        return _fail(f"set {VERIFY_CLIENT_ID_VAR}/_SECRET (a read-only verify client) or {CLIENT_ID_VAR}/_SECRET")
    codes = _CodeSource(args, args.step_timeout)
    if not codes.configured:
        return _fail(
            f"no test user code: set {AUTH_CODE_COMMAND_VAR} (or --auth-code-command), {AUTH_CODE_VAR}, or "
            "use --auth-code-stdin (docs/verify.md)"
        )
    deadline = Deadline(args.deadline)
    started = datetime.now(UTC)
    with VerifyApi(api_url, timeout=args.timeout, deadline=deadline) as api:
        token = api.exchange_token(login_url, client_id, client_secret)
        if not token.ok:
            return _fail(api.redact(f"the token exchange at {login_url} failed: {token.error}; run preflight doctor"))
        try:
            ids = {
                key: given.get(key) or verify_api.deployment_id_by_name(api, s.name) or "" for key, s in sites.items()
            }
        except ApiError as error:
            return _fail(api.redact(f"cannot list the web deployments: {error}; run preflight doctor"))
        ticket_token = os.environ.get(verify_tickets.TICKET_TOKEN_VAR, "")
        ctx = VerifyContext(
            settings=settings,
            site=site,
            configuration_headless=headless,
            external_source=source,
            api=api,
            deadline=deadline,
            step_seconds=args.step_timeout,
            cdn_url=cdn_url,
            websocket_url=websocket_url,
            deployment_ids=ids,
            auth_code=codes,
            sub=args.test_user_sub or os.environ.get(SUB_VAR, ""),
            ticket_url=ticket_url,
            ticket_token=ticket_token,
            check_anonymous=settings.environment == "prod" if args.check_anonymous is None else args.check_anonymous,
            poll_seconds=args.poll_interval,
            started=started,
        )
        results = [verify_checks.check_config(ctx, s) for _, s in sorted(sites.items())]
        results.append(verify_checks.check_session(ctx))
        ctx.sub = ctx.sub or codes.sub
        for check in (
            verify_checks.check_flow,
            verify_checks.check_contact,
            verify_checks.check_ticket,
            verify_checks.check_anonymous,
            verify_checks.check_cleanup,
        ):
            results.append(check(ctx))
        results = [r.redacted(api.redact) for r in results]
    header = {
        "stack": settings.stack,
        "region": region.code,
        "site": site.site_key,
        "marker": ctx.marker,
        "seconds": round(args.deadline - deadline.remaining(), 1),
    }
    (_print_json if args.format == "json" else _print_text)(header, results)
    return EXIT_PROBLEM if any(r.status == PROBLEM for r in results) else EXIT_OK


def link(result: Result) -> str:
    return LINKS.get(result.check.split(":", 1)[0], result.check)


def _print_json(header: dict, results: list[Result]) -> None:
    cause = first_problem(results)
    document = {
        **header,
        "result": PROBLEM if cause else OK,
        "failingLink": link(cause) if cause else None,
        "cause": {**asdict(cause), "link": link(cause)} if cause else None,
        "checks": [{**asdict(r), "link": link(r)} for r in results],
    }
    print(json.dumps(document, indent=2))


def _print_text(header: dict, results: list[Result]) -> None:
    console = Console(file=sys.stdout, highlight=False)
    p = printable
    console.print(
        Text(
            p(f"verify: stack {header['stack']} ({header['region']}), site {header['site']}, marker {header['marker']}")
        )
    )
    table = Table(show_lines=True)
    for column in ("Link", "Check", "Result", "What was seen", "Fix"):
        table.add_column(column, overflow="fold")
    for r in results:
        seen = "\n".join([p(r.summary), *(f"- {p(e)}" for e in r.evidence)])
        table.add_row(
            Text(link(r)),
            Text(p(r.title)),
            Text(p(r.status), style=_STYLE.get(r.status, "")),
            Text(seen),
            Text(p(r.fix)),
        )
    console.print(table)
    cause = first_problem(results)
    if cause is None:
        console.print(Text("Every link holds: a signed-in conversation went end to end.", style="green"))
    else:
        console.print(Text(p(f"Failing link: {link(cause)}: {cause.title}: {cause.summary}"), style="bold red"))
        console.print(Text(p(f"Fix: {cause.fix}")))
