"""python -m preflight adopt --stack NAME: find the objects the program declares that already exist in the org
(clicked together by hand, or left by a failed attempt) and write the file `pulumi import --file` reads.

Runs the program offline under mocks for the stack, then, read-only against the org with the doctor's
credentials (GENESYSCLOUD_OAUTHCLIENT_ID / _SECRET), looks up every importable resource by the exact name
the program gives it. Reports what will be imported, what `pulumi up` will create, what is ambiguous (the
same name more than once: left out of the file) and where an existing object differs from the program.
Exit 0: every resource matched once or is absent; 1: something is ambiguous, differs or could not be
looked up; 2: the command could not run (usage, stack file, credentials).

Listings and their permissions per MyPureCloud/platform-client-sdk-python `build/docs/` (OAuthApi.md,
RoutingApi.md, ArchitectApi.md, WebDeploymentsApi.md, IntegrationsApi.md, ExternalContactsApi.md) as
recorded in components/api_permissions.json. Credentials are listed with GET
/api/v2/integrations/credentials/listing: the paged GET /api/v2/integrations/credentials is deprecated.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from components import provider_binding as binding
from components.access_data import api_permissions
from components.genesys_api import MAX_PAGES, ApiError, Deadline, GenesysApi, checked_url
from components.provider_binding import type_token
from preflight import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE
from preflight.doctor import CLIENT_ID_VAR, CLIENT_SECRET_VAR, _url, add_org_arguments, check_org_options, printable
from preflight.doctor_checks import error_fix
from preflight.doctor_estate import FLOW_TYPE
from preflight.inprocess import Declared, Run, is_secret_value, offline_id
from preflight.stacks import Plan, load_for_command

# The import file: `{"nameTable": {name: urn}, "resources": [{"type", "name", "id", "parent", "provider"}]}`.
# Schema: https://www.pulumi.com/docs/iac/guides/migration/import/#bulk-import-operations and the CLI's
# reader, pulumi/pulumi pkg/cmd/pulumi/operations/import.go (importFile, importSpec, parseImportFile):
# `parent` and `provider` name a nameTable entry (a URN); a provider entry must name a provider already in
# the stack, and a parent URN a resource already in the stack, or the import fails ("unknown parent").
IMPORT_FILE_DOCS = "https://www.pulumi.com/docs/iac/guides/migration/import/#bulk-import-operations"
DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
PROVIDER_ENTRY = "genesyscloud"
STACK_TYPE = "pulumi:pulumi:Stack"
IMPORT, CREATE, AMBIGUOUS, NOT_IMPORTED, SKIPPED, FAILED = (
    "import",
    "create",
    "ambiguous",
    "not-imported",
    "skipped",
    "failed",
)
_STYLE = {IMPORT: "green", CREATE: "cyan", AMBIGUOUS: "bold red", FAILED: "bold red", NOT_IMPORTED: "yellow"}

# The credential type that carries a Genesys OAuth client's id and secret (the Genesys Cloud Data Actions).
OAUTH_CREDENTIAL_TYPE = "pureCloudOAuthClient"
SECRET_BOUND_REASON = (
    "Genesys shows an OAuth client's secret only when the client is created, so an imported client has no "
    "secret for the credential the data actions use; pulumi up creates a new client and credential"
)


@dataclass(frozen=True)
class Difference:
    field: str
    org: Any
    program: Any

    def __str__(self) -> str:
        return f"{self.field}: {self.org!r} in the org, {self.program!r} in the program"


@dataclass
class Outcome:
    """What adopt decided for one declared resource."""

    name: str
    type: str
    outcome: str
    genesys_name: str = ""
    id: str = ""
    ids: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    reason: str = ""
    fix: str = ""


@dataclass(frozen=True)
class Lookup:
    """How to find one provider type's existing objects, and which of their fields to compare."""

    path: str
    by_name: bool = False
    """Pass ?name= (a search or prefix filter: the results are filtered for the exact name here)."""
    params: dict[str, Any] = field(default_factory=dict)
    cursor: bool = False
    """A cursor listing (nextUri) rather than pageNumber/pageCount."""


def lookups() -> dict[str, Lookup]:
    """Type token -> its listing; tokens come from the binding, the one place that names them."""
    return {
        type_token(binding.OauthClient): Lookup("/api/v2/oauth/clients"),
        type_token(binding.RoutingQueue): Lookup("/api/v2/routing/queues", by_name=True),
        type_token(binding.Flow): Lookup("/api/v2/flows", by_name=True, params={"type": FLOW_TYPE}),
        type_token(binding.WebdeploymentsDeployment): Lookup("/api/v2/webdeployments/deployments", cursor=True),
        type_token(binding.WebdeploymentsConfiguration): Lookup("/api/v2/webdeployments/configurations", cursor=True),
        type_token(binding.Integration): Lookup("/api/v2/integrations"),
        type_token(binding.IntegrationAction): Lookup("/api/v2/integrations/actions", by_name=True),
        type_token(binding.IntegrationCredential): Lookup("/api/v2/integrations/credentials/listing", cursor=True),
        type_token(binding.ExternalcontactsExternalSource): Lookup(
            "/api/v2/externalcontacts/externalsources", by_name=True, params={"limit": 200}, cursor=True
        ),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="stack name; reads Pulumi.<stack>.yaml in the project root")
    source.add_argument("--config-file", type=Path, metavar="PATH", help="a stack file to read instead")
    parser.add_argument(
        "--output", type=Path, default=Path("adopt.json"), metavar="FILE", help="import file (default adopt.json)"
    )
    add_org_arguments(parser)


def _fail(message: str) -> int:
    print(f"adopt: {printable(message)}", file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    if problem := check_org_options(args):
        return _fail(problem)
    plans = load_for_command([str(args.config_file) if args.config_file else args.stack])
    if isinstance(plans, int):
        return plans
    plan: Plan = plans[0]
    settings = plan.run.settings
    try:
        api_url = _url("--api-url", args.api_url) or checked_url("the region's API URL", settings.region.api_url)
        login_url = _url("--login-url", args.login_url) or checked_url(
            "the region's login URL", settings.region.login_url
        )
    except ValueError as error:
        return _fail(str(error))
    client_id, client_secret = os.environ.get(CLIENT_ID_VAR, ""), os.environ.get(CLIENT_SECRET_VAR, "")
    if not client_id or not client_secret:
        missing = [v for v, val in ((CLIENT_ID_VAR, client_id), (CLIENT_SECRET_VAR, client_secret)) if not val]
        return _fail(f"set {' and '.join(missing)} to the org's client-credentials OAuth client (the provider's)")
    with GenesysApi(api_url, timeout=args.timeout, deadline=Deadline(args.deadline)) as api:
        token = api.exchange_token(login_url, client_id, client_secret)
        if not token.ok:
            return _fail(api.redact(f"token exchange at {login_url} failed: {token.error}; run preflight doctor"))
        outcomes = adopt(plan.run, api)
        outcomes = [_redacted(o, api.redact) for o in outcomes]
    document = report(plan, outcomes, api_url, args.output)
    if not any(o.outcome == FAILED for o in outcomes):
        args.output.write_text(json.dumps(import_file(plan.run, outcomes), indent=2) + "\n")
    else:
        document["output"] = None
    if args.format == "json":
        print(json.dumps(document, indent=2))
    else:
        _print_text(document)
    return EXIT_OK if document["result"] == "ok" else EXIT_PROBLEM


# --- matching ---------------------------------------------------------------------------------------


def genesys_name(resource: Declared) -> str:
    """The Genesys object name the program gives a resource (an integration keeps it in config.name)."""
    inputs = resource.inputs
    if resource.type == type_token(binding.Integration):
        return str((inputs.get("config") or {}).get("name", ""))
    return str(inputs.get("name", ""))


def _skip_reason(resource: Declared) -> str | None:
    """Why a declared resource is not looked up at all, or None when it is."""
    if resource.type == binding.PROVIDER_TOKEN:
        return "the explicit provider is not a Genesys object; the targeted pulumi up below creates it"
    if not resource.custom:
        return "a component holds no Genesys object; the targeted pulumi up below creates it, empty"
    if resource.type == DYNAMIC_TYPE:
        return (
            "identity resolution is a setting of the deployment (PUT .../identityresolution), not an object "
            "with an id: pulumi up re-applies it to the imported deployment"
        )
    return None


def secret_bound(resource: Declared) -> bool:
    """Whether importing would lose a secret the program needs (see SECRET_BOUND_REASON)."""
    if resource.type == type_token(binding.OauthClient):
        return bool(resource.inputs.get("exposeClientSecret"))
    if resource.type == type_token(binding.IntegrationCredential):
        return resource.inputs.get("credentialTypeName") == OAUTH_CREDENTIAL_TYPE
    return False


class Listings:
    """Each listing fetched once per (path, name)."""

    def __init__(self, api: GenesysApi) -> None:
        self.api = api
        self._cache: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def named(self, lookup: Lookup, name: str) -> list[dict[str, Any]]:
        key = (lookup.path, name if lookup.by_name else "")
        if key not in self._cache:
            params = {**lookup.params, **({"name": name} if lookup.by_name else {})}
            pages = self._cursor(lookup.path, params) if lookup.cursor else self.api.get_all(lookup.path, params)
            self._cache[key] = list(pages)
        return [e for e in self._cache[key] if e.get("name") == name]

    def _cursor(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every entity of a cursor listing, following nextUri (bounded like get_all)."""
        body, total = self.api.get(path, params), 0
        for _ in range(MAX_PAGES):
            total = self.api.charge(path, total)
            yield from (body.get("entities") or []) if isinstance(body, dict) else []
            next_uri = body.get("nextUri") if isinstance(body, dict) else None
            if not next_uri or not str(next_uri).startswith("/api/v2/"):
                return
            body = self.api.get(str(next_uri))


def adopt(run: Run, api: GenesysApi) -> list[Outcome]:
    known, listings = lookups(), Listings(api)
    outcomes: list[Outcome] = []
    found: dict[str, dict[str, Any]] = {}
    for resource in run.resources:
        reason = _skip_reason(resource)
        if reason:
            outcomes.append(Outcome(resource.name, resource.type, SKIPPED, reason=reason))
            continue
        outcomes.append(_match(resource, known, listings, found))
    # Differences need every match: a deployment's flow is compared with the flow found for the program's.
    matched_ids = {offline_id(r.name): found[r.name].get("id") for r in run.resources if r.name in found}
    for outcome, resource in zip(outcomes, run.resources, strict=True):
        if outcome.outcome == IMPORT:
            outcome.differences = [str(d) for d in differences(resource, found[resource.name], run, matched_ids)]
    return outcomes


def _match(resource: Declared, known: dict[str, Lookup], listings: Listings, found: dict) -> Outcome:
    name = genesys_name(resource)
    outcome = Outcome(resource.name, resource.type, CREATE, genesys_name=name)
    lookup = known.get(resource.type)
    if lookup is None:
        outcome.outcome, outcome.reason = FAILED, "adopt has no lookup for this resource type"
        outcome.fix = "add its listing to preflight/adopt.py lookups(), or check the org by hand"
        return outcome
    try:
        candidates = listings.named(lookup, name)
    except ApiError as error:
        permissions = api_permissions().get(f"GET {lookup.path}", {})
        needs = " or ".join(permissions.get("any") or permissions.get("all") or [])
        outcome.outcome, outcome.reason, outcome.fix = FAILED, str(error), error_fix(error, needs)
        return outcome
    if resource.type == type_token(binding.IntegrationAction):
        # Action names carry no stack prefix: the category (the integration's name) tells the stacks apart.
        candidates = [c for c in candidates if c.get("category") == resource.inputs.get("category")]
    outcome.ids = [str(c.get("id")) for c in candidates]
    if secret_bound(resource):
        outcome.outcome, outcome.reason = NOT_IMPORTED, SECRET_BOUND_REASON
        if candidates:
            outcome.fix = "after pulumi up, delete the existing one(s) listed here (Admin > Integrations)"
    elif len(candidates) > 1:
        outcome.outcome = AMBIGUOUS
        outcome.fix = "rename or delete all but one in Genesys, then rerun adopt"
    elif candidates:
        outcome.outcome, outcome.id = IMPORT, outcome.ids[0]
        found[resource.name] = candidates[0]
    return outcome


def _ref(value: Any, matched_ids: dict[str, Any]) -> Any:
    """A declared reference to another resource as the id of the object matched for it (None if unmatched).

    Under the mocks a resource's id is `<logical name>-id` (preflight/inprocess.py _Mocks.new_resource).
    """
    return matched_ids.get(value) if isinstance(value, str) else None


def _compare(pairs: list[tuple[str, Any, Any]]) -> list[Difference]:
    return [
        Difference(name, org, program)
        for name, org, program in pairs
        if program is not None and not is_secret_value(program) and org != program
    ]


def differences(resource: Declared, existing: dict[str, Any], run: Run, matched_ids: dict) -> list[Difference]:
    """A few key fields per type where the existing object differs from what the program declares."""
    inputs, token = resource.inputs, resource.type
    if token == type_token(binding.OauthClient):
        grant = existing.get("authorizedGrantType")
        return _compare([("authorizedGrantType", grant, inputs.get("authorizedGrantType"))])
    if token == type_token(binding.RoutingQueue):
        return _compare([("division", (existing.get("division") or {}).get("name"), run.settings.division)])
    if token == type_token(binding.Flow):
        division = (inputs.get("substitutions") or {}).get("division")
        return _compare(
            [
                ("type", str(existing.get("type", "")).lower(), FLOW_TYPE),
                ("division", (existing.get("division") or {}).get("name"), division),
            ]
        )
    if token == type_token(binding.WebdeploymentsDeployment):
        allowed = inputs.get("allowedDomains")
        configuration = (inputs.get("configuration") or {}).get("id")
        return _compare(
            [
                ("allowAllDomains", bool(existing.get("allowAllDomains")), inputs.get("allowAllDomains")),
                ("allowedDomains", sorted(existing.get("allowedDomains") or []), sorted(allowed or []) or None),
                ("flow", (existing.get("flow") or {}).get("id"), _ref(inputs.get("flowId"), matched_ids)),
                ("configuration", (existing.get("configuration") or {}).get("id"), _ref(configuration, matched_ids)),
            ]
        )
    if token == type_token(binding.WebdeploymentsConfiguration):
        return _compare(
            [
                ("defaultLanguage", existing.get("defaultLanguage"), inputs.get("defaultLanguage")),
                ("languages", sorted(existing.get("languages") or []), sorted(inputs.get("languages") or []) or None),
            ]
        )
    if token == type_token(binding.Integration):
        kind = (existing.get("integrationType") or {}).get("id")
        return _compare([("integrationType", kind, inputs.get("integrationType"))])
    if token == type_token(binding.IntegrationAction):
        integration = _ref(inputs.get("integrationId"), matched_ids)
        return _compare([("integration", existing.get("integrationId"), integration)])
    if token == type_token(binding.IntegrationCredential):
        kind = (existing.get("type") or {}).get("name")
        return _compare([("credentialTypeName", kind, inputs.get("credentialTypeName"))])
    if token == type_token(binding.ExternalcontactsExternalSource):
        template = (existing.get("linkConfiguration") or {}).get("uriTemplate")
        wanted = (inputs.get("linkConfiguration") or {}).get("uriTemplate")
        return _compare([("active", existing.get("active"), inputs.get("active")), ("uriTemplate", template, wanted)])
    return []


def _redacted(outcome: Outcome, redact: Callable[[str], str]) -> Outcome:
    """Belt and braces: no secret the client saw reaches a report, whatever a server echoed."""
    return Outcome(
        outcome.name,
        outcome.type,
        outcome.outcome,
        outcome.genesys_name,
        outcome.id,
        outcome.ids,
        [redact(d) for d in outcome.differences],
        redact(outcome.reason),
        redact(outcome.fix),
    )


# --- the import file and the report ----------------------------------------------------------------


def _urn(reference: str) -> str:
    """A provider reference is `<urn>::<id>`; the import file's nameTable wants the URN."""
    return reference.rsplit("::", 1)[0]


def _parents(run: Run, outcomes: list[Outcome]) -> tuple[dict[str, str], dict[str, str]]:
    """Parent URN -> its nameTable name, for every imported resource's parent; and name -> URN."""
    by_urn = {r.urn: r for r in run.resources}
    taken = {o.name for o in outcomes if o.outcome == IMPORT} | {PROVIDER_ENTRY}
    names: dict[str, str] = {}
    for resource, outcome in zip(run.resources, outcomes, strict=True):
        parent = resource.parent
        if outcome.outcome != IMPORT or parent in names or f"::{STACK_TYPE}::" in parent:
            continue
        base = by_urn[parent].name if parent in by_urn else parent.rsplit("::", 1)[-1]
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        names[parent] = name
        taken.add(name)
    return names, {name: urn for urn, name in names.items()}


def import_file(run: Run, outcomes: list[Outcome]) -> dict[str, Any]:
    """The `pulumi import --file` document for every uniquely matched resource (schema: IMPORT_FILE_DOCS)."""
    parent_names, table = _parents(run, outcomes)
    resources = []
    for resource, outcome in zip(run.resources, outcomes, strict=True):
        if outcome.outcome != IMPORT:
            continue
        spec: dict[str, Any] = {"type": resource.type, "name": resource.name, "id": outcome.id}
        if resource.parent in parent_names:
            spec["parent"] = parent_names[resource.parent]
        if resource.provider:
            table[PROVIDER_ENTRY] = _urn(resource.provider)
            spec["provider"] = PROVIDER_ENTRY
        resources.append(spec)
    return {"nameTable": table, "resources": resources}


def prepare_targets(run: Run, outcomes: list[Outcome]) -> list[str]:
    """URNs that must exist in the stack before the import: the provider and the imported resources' ancestors."""
    by_urn = {r.urn: r for r in run.resources}
    targets: list[str] = []
    for resource, outcome in zip(run.resources, outcomes, strict=True):
        if outcome.outcome != IMPORT:
            continue
        chain = [_urn(resource.provider)] if resource.provider else []
        parent = resource.parent
        while parent in by_urn:
            chain.append(parent)
            parent = by_urn[parent].parent
        targets += [urn for urn in chain if urn not in targets]
    order = {r.urn: i for i, r in enumerate(run.resources)}
    return sorted(targets, key=lambda urn: order.get(urn, -1))


def report(plan: Plan, outcomes: list[Outcome], api_url: str, output: Path) -> dict[str, Any]:
    problems = [o for o in outcomes if o.outcome in (AMBIGUOUS, FAILED) or o.differences]
    targets = prepare_targets(plan.run, outcomes)
    stack = plan.label
    steps = []
    if targets:
        steps.append(f"pulumi up --stack {stack} " + " ".join(f"--target '{urn}'" for urn in targets))
        steps.append(f"pulumi import --stack {stack} --file {output} --generate-code=false")
    steps.append(f"pulumi preview --stack {stack}")
    return {
        "stack": stack,
        "region": plan.run.settings.region.code,
        "apiUrl": api_url,
        "output": str(output),
        "importFileSchema": IMPORT_FILE_DOCS,
        "result": "problem" if problems else "ok",
        "counts": {kind: sum(o.outcome == kind for o in outcomes) for kind in (IMPORT, CREATE, AMBIGUOUS, FAILED)}
        | {"differing": sum(bool(o.differences) for o in outcomes)},
        "resources": [asdict(o) for o in outcomes],
        "prepareTargets": targets,
        "next": steps,
    }


def _detail(o: dict[str, Any]) -> str:
    lines = []
    if o["outcome"] == IMPORT:
        lines.append(f"id {o['id']}")
    if o["outcome"] == CREATE:
        lines.append("not in the org: pulumi up will create it")
    if o["outcome"] in (AMBIGUOUS, NOT_IMPORTED) and o["ids"]:
        lines.append(f"existing ids: {', '.join(o['ids'])}")
    lines += [f"differs: {d}" for d in o["differences"]]
    lines += [text for text in (o["reason"], f"fix: {o['fix']}" if o["fix"] else "") if text]
    return "\n".join(lines)


def _print_text(document: dict[str, Any]) -> None:
    console = Console(file=sys.stdout, highlight=False)
    console.print(Text(f"adopt: stack {document['stack']} ({document['region']}), API {document['apiUrl']}"))
    table = Table(show_lines=True)
    for column in ("Resource", "Genesys name", "Outcome", "Detail"):
        table.add_column(column, overflow="fold")
    skipped = [o for o in document["resources"] if o["outcome"] == SKIPPED]
    for o in document["resources"]:
        if o["outcome"] != SKIPPED:
            style = "bold red" if o["differences"] else _STYLE.get(o["outcome"], "")
            outcome = Text(o["outcome"] + (" (differs)" if o["differences"] else ""), style=style)
            # Ids and differences come from the org: shown with control characters escaped (doctor.printable).
            table.add_row(Text(o["name"]), Text(printable(o["genesys_name"])), outcome, Text(printable(_detail(o))))
    console.print(table)
    reasons: dict[str, list[str]] = {}
    for o in skipped:
        reasons.setdefault(o["reason"], []).append(o["name"])
    for reason, names in reasons.items():
        console.print(Text(f"Not imported ({', '.join(names)}): {reason}"))
    counts = document["counts"]
    console.print(
        Text(
            f"{counts[IMPORT]} to import, {counts[CREATE]} to create, {counts[AMBIGUOUS]} ambiguous, "
            f"{counts['differing']} differing, {counts[FAILED]} not looked up",
            style="green" if document["result"] == "ok" else "bold red",
        )
    )
    if document["output"]:
        console.print(Text(f"Wrote {document['output']} ({IMPORT_FILE_DOCS}). Next:"))
        for step in document["next"]:
            console.print(Text(f"  {step}"))
    else:
        console.print(Text("No import file written: a lookup failed, so what exists is not known.", style="bold red"))
