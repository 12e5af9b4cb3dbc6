"""python -m preflight doctor --stack NAME: look at the real org and name the cause of a 401/403.

Plans the stack in-process first (no secrets needed: `secure:` values stay opaque) and takes every name and
type it looks for on the org from that estate (preflight/estate_view.py), then mints a token with the org's
client credentials (GENESYSCLOUD_OAUTHCLIENT_ID / _SECRET) at the stack region's login host and runs
read-only checks, each reported as ok / problem / skipped with its evidence and fix.
Exit 0: every check passed; 1: a problem was found; 2: the doctor could not run.

Credentials go only to the stack region's login host (or --login-url); --probe-regions is the one
opt-in that sends them to the other regions' login hosts, to find where the client lives.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from components.errors import InvalidConfiguration
from components.genesys_api import Deadline, GenesysApi, checked_url
from components.stack_file import StackFileError, read_stack_file
from components.visible_text import printable  # re-exported: adopt and verify escape what they print with it
from preflight import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, doctor_checks, doctor_declared, doctor_estate, estate_view
from preflight.doctor_checks import OK, PROBLEM, Context, Result, first_problem, shielded
from preflight.estate_view import EstateError
from preflight.inprocess import Run, run_program
from preflight.stacks import resolve

CLIENT_ID_VAR = "GENESYSCLOUD_OAUTHCLIENT_ID"
CLIENT_SECRET_VAR = "GENESYSCLOUD_OAUTHCLIENT_SECRET"
DEFAULT_DEADLINE_SECONDS = 60.0
_STYLE = {OK: "green", PROBLEM: "bold red", "skipped": "yellow"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="stack name; reads Pulumi.<stack>.yaml in the project root")
    source.add_argument("--config-file", type=Path, metavar="PATH", help="a stack file to read instead")
    parser.add_argument(
        "--probe-regions",
        action="store_true",
        help="if the token exchange fails, try the credentials at every other region's login host to say where "
        "the client lives (sends them to those hosts; off by default)",
    )
    parser.add_argument(
        "--before-up",
        action="store_true",
        help="the check before a `pulumi up` (the deploy workflow's): an object the stack declares that the org does "
        "not hold yet is what up creates, not a problem; everything that exists, and the credentials, roles, "
        "OpenID Connect type and discovery document, are checked as always",
    )
    parser.add_argument(
        "--discovery-url",
        help="fetch the IdP discovery document from here instead of identityProvider.discoveryUri (the issuer is "
        "still compared with discoveryUri); for a mirror or a test server",
    )
    add_org_arguments(parser)


def add_org_arguments(parser: argparse.ArgumentParser) -> None:
    """Where and how to reach the org: the options every live command (doctor, adopt) shares."""
    parser.add_argument("--api-url", help="API base URL instead of the region's (a gateway, or a test server)")
    parser.add_argument("--login-url", help="login (OAuth) base URL instead of the region's")
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per request, whole answer included (default 10)"
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=DEFAULT_DEADLINE_SECONDS,
        help=f"seconds for the whole run, retry waits included (default {DEFAULT_DEADLINE_SECONDS:g}); calls after it "
        "are not sent",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _fail(message: str) -> int:
    print(f"doctor: {printable(message)}", file=sys.stderr)
    return EXIT_USAGE


def _plan(args: argparse.Namespace) -> Run:
    """The stack's estate: the program planned in-process under mocks (no org, no CLI), settings validated first.
    A stack file still holding the committed placeholder secrets is refused before it is planned."""
    stack = read_stack_file(args.config_file or resolve(args.stack))
    if stack.placeholders:
        fixes = "; ".join(f"pulumi config set --secret --path '{p}' <value>" for p in sorted(stack.placeholders))
        raise ValueError(f"{stack.source}: still the committed placeholder secrets, not real ones; fix: {fixes}")
    return run_program(stack)


def _url(name: str, value: str | None) -> str | None:
    """An override URL: https (plain http only to a loopback host), no user info; credentials travel to it."""
    return None if value is None else checked_url(name, value)


def check_org_options(args: argparse.Namespace) -> str | None:
    """Why --timeout or --deadline is unusable, or None."""
    if not 0 < args.timeout < math.inf:
        return "--timeout must be a positive number of seconds"
    if not 0 < args.deadline < math.inf:
        return "--deadline must be a positive number of seconds"
    return None


def run(args: argparse.Namespace) -> int:
    try:
        planned = _plan(args)
        settings, estate = planned.settings, estate_view.read(planned)
        api_url = _url("--api-url", args.api_url) or checked_url("the region's API URL", settings.region.api_url)
        login_url = _url("--login-url", args.login_url) or checked_url(
            "the region's login URL", settings.region.login_url
        )
        discovery_url = _url("--discovery-url", args.discovery_url) or ""
        checked_url("identityProvider.discoveryUri", settings.identity_provider.discovery_uri)
    except EstateError as error:
        fix = "make preflight/estate_view.py follow the program's change"
        return _fail(f"the planned stack lacks what the doctor looks for on the org: {error}; fix: {fix}")
    except (StackFileError, InvalidConfiguration, ValueError) as error:
        return _fail(str(error))
    if problem := check_org_options(args):
        return _fail(problem)
    client_id, client_secret = os.environ.get(CLIENT_ID_VAR, ""), os.environ.get(CLIENT_SECRET_VAR, "")
    if not client_id or not client_secret:
        missing = [v for v, val in ((CLIENT_ID_VAR, client_id), (CLIENT_SECRET_VAR, client_secret)) if not val]
        return _fail(f"set {' and '.join(missing)} to the org's client-credentials OAuth client (the provider's)")
    with GenesysApi(api_url, timeout=args.timeout, deadline=Deadline(args.deadline)) as api:
        ctx = Context(
            settings=settings,
            estate=estate,
            api=api,
            client_id=client_id,
            login_url=login_url,
            discovery_url=discovery_url,
            probe_regions=args.probe_regions,
            timeout=args.timeout,
            environ=os.environ,
            before_up=args.before_up,
        )
        token = functools.partial(doctor_checks.check_token, client_secret=client_secret)
        checks = [
            ("token", "Token exchange (client credentials)", token),
            ("environment", "Region and token in the environment", doctor_checks.check_environment),
            ("client", "OAuth client grant type and roles", doctor_checks.check_client),
            ("granted-roles", "Roles the stack grants, held by the client", doctor_checks.check_granted_roles),
            ("sites", "Deployments and flows", doctor_estate.check_sites),
            ("identity-resolution", "Identity resolution", doctor_declared.check_identity_resolution),
            ("flow-lock", "Locks on the stack's flows", doctor_declared.check_flow_locks),
            ("configuration", "Published configurations, as declared", doctor_declared.check_configurations),
            ("oidc-integration", "OpenID Connect integration", doctor_estate.check_oidc_integration),
            ("oidc-keys", "OpenID Connect integration keys", doctor_estate.check_oidc_keys),
            ("integration-properties", "Declared integration properties", doctor_declared.check_integration_properties),
            ("idp-discovery", "Identity provider discovery document", doctor_estate.check_discovery),
            ("crm-action", "CRM data action", doctor_estate.check_crm_action),
        ]
        # Each check shielded: an answer of an unexpected shape is that check's problem, never a traceback.
        results = [r for check, title, body in checks for r in shielded(ctx, check, title, body)]
        results = [r.redacted(api.redact) for r in results]
    header = {"stack": settings.stack, "region": settings.region.code, "apiUrl": api_url, "loginUrl": login_url}
    if args.format == "json":
        _print_json(header, results)
    else:
        _print_text(header, results)
    return EXIT_PROBLEM if any(r.status == PROBLEM for r in results) else EXIT_OK




def _print_json(header: dict[str, str], results: list[Result]) -> None:
    cause = first_problem(results)
    document = {
        **header,
        "result": PROBLEM if cause else OK,
        "cause": asdict(cause) if cause else None,
        "checks": [asdict(r) for r in results],
    }
    print(json.dumps(document, indent=2))


def _print_text(header: dict[str, str], results: list[Result]) -> None:
    console = Console(file=sys.stdout, highlight=False)
    p = printable  # every piece escaped on its own, before the report adds its own newlines
    console.print(Text(p(f"doctor: stack {header['stack']} ({header['region']}), API {header['apiUrl']}")))
    table = Table(show_lines=True)
    for column in ("Check", "Result", "What was seen", "Fix"):
        table.add_column(column, overflow="fold")
    for r in results:
        seen = "\n".join([p(r.summary), *(f"- {p(e)}" for e in r.evidence)])
        table.add_row(Text(p(r.title)), Text(p(r.status), style=_STYLE.get(r.status, "")), Text(seen), Text(p(r.fix)))
    console.print(table)
    cause = first_problem(results)
    if cause is None:
        console.print(Text("All checks passed.", style="green"))
    else:
        console.print(Text(p(f"Most likely cause: {cause.title}: {cause.summary}"), style="bold red"))
        console.print(Text(p(f"Fix: {cause.fix}")))
