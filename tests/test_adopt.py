"""`python -m preflight adopt` against a fake org: every resource found, some, duplicates, a differing object,
a forbidden listing; and the file it writes read the way `pulumi import --file` reads it.

Names and fields of the org's objects come from the program's own run for the stack (what it would create),
so a fork with other sample values stays green. Every run asserts no secret reaches stdout or stderr.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from preflight.__main__ import main
from preflight.doctor import CLIENT_ID_VAR, CLIENT_SECRET_VAR
from preflight.inprocess import Declared, Run
from preflight.stacks import load
from tests.conftest import ROOT
from tests.fake_genesys import ACCESS_TOKEN, CLIENT_SECRET, HOME_DIVISION, FakeOrg, serve

STACK = "staging"
PROVIDER_TYPE = "pulumi:providers:genesyscloud"

# The import file as the Pulumi CLI decodes it: pulumi/pulumi pkg/cmd/pulumi/operations/import.go, structs
# importFile {nameTable, resources} and importSpec (type, name, id, parent, provider, version,
# pluginDownloadUrl, properties, component, remote, logicalName), documented at
# https://www.pulumi.com/docs/iac/guides/migration/import/#bulk-import-operations. Written here by hand,
# not read from adopt, so the test is a second opinion on the format.
IMPORT_FILE_SCHEMA = {
    "type": "object",
    "required": ["resources"],
    "additionalProperties": False,
    "properties": {
        "nameTable": {"type": "object", "additionalProperties": {"type": "string", "pattern": "^urn:pulumi:"}},
        "resources": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "name", "id"],
                "additionalProperties": False,
                "properties": {
                    "type": {"type": "string", "pattern": "^[^:]+:[^:]*:[^:]+$"},
                    "name": {"type": "string", "minLength": 1},
                    "id": {"type": "string", "minLength": 1},
                    "parent": {"type": "string", "minLength": 1},
                    "provider": {"type": "string", "minLength": 1},
                    "version": {"type": "string"},
                    "pluginDownloadUrl": {"type": "string"},
                    "properties": {"type": "array", "items": {"type": "string"}},
                    "component": {"type": "boolean"},
                    "remote": {"type": "boolean"},
                    "logicalName": {"type": "string"},
                },
            },
        },
    },
}


def check_import_file(document: dict[str, Any]) -> None:
    """The schema, then the rules parseImportFile enforces: unique names, parents and providers in nameTable."""
    jsonschema.validate(document, IMPORT_FILE_SCHEMA)
    names = [r["name"] for r in document["resources"]]
    assert len(names) == len(set(names)), f"duplicate names: {names}"
    table = document.get("nameTable", {})
    assert not set(table) & set(names), f"nameTable names clash with resources: {set(table) & set(names)}"
    for spec in document["resources"]:
        parent = spec.get("parent")
        assert parent is None or parent in table or parent in names, f"{spec['name']}: parent {parent}"
        assert spec.get("provider") is None or spec["provider"] in table, f"{spec['name']}: provider"


def is_genesys(resource: Declared) -> bool:
    return resource.custom and resource.type.startswith("genesyscloud:")


def keeps_a_secret(resource: Declared) -> bool:
    """An OAuth client whose secret the program reads, and the credential holding such a secret."""
    return resource.inputs.get("exposeClientSecret") is True or resource.inputs.get("credentialTypeName") == (
        "pureCloudOAuthClient"
    )


def importable(run: Run) -> list[Declared]:
    return [r for r in run.resources if is_genesys(r) and not keeps_a_secret(r)]


def gc_id(name: str) -> str:
    return f"gc-{name}"


def ref(value: str) -> str:
    """A declared reference (`<logical name>-id` under the mocks) as the fake object's id."""
    return gc_id(value.removesuffix("-id"))


def populate(org: FakeOrg, run: Run, skip: tuple[str, ...] = ()) -> None:
    """Make the org hold, for each Genesys resource of the run, the object `pulumi up` would have created."""
    org.flows, org.deployments, org.config_versions, org.integrations, org.actions = {}, [], {}, [], []
    org.queues, org.credentials, org.external_sources, org.oauth_clients = [], [], [], []
    for r in run.resources:
        if not is_genesys(r) or r.name in skip:
            continue
        i, kind, oid = r.inputs, r.type.rsplit(":", 1)[-1], gc_id(r.name)
        if kind == "OauthClient":
            grant = i["authorizedGrantType"]
            org.oauth_clients.append({"id": oid, "name": i["name"], "authorizedGrantType": grant, "state": "active"})
        elif kind == "RoutingQueue":
            division = {"id": HOME_DIVISION, "name": run.settings.division}
            org.queues.append({"id": oid, "name": i["name"], "division": division, "memberCount": 0})
        elif kind == "Flow":
            division = {"id": HOME_DIVISION, "name": i["substitutions"]["division"]}
            org.flows[oid] = {"id": oid, "name": i["name"], "type": "INBOUNDSHORTMESSAGE", "division": division}
        elif kind == "WebdeploymentsConfiguration":
            org.config_versions[(oid, "1")] = {
                "id": oid,
                "name": i["name"],
                "version": "1",
                "status": "Active",
                "languages": i["languages"],
                "defaultLanguage": i["defaultLanguage"],
            }
        elif kind == "WebdeploymentsDeployment":
            org.deployments.append(
                {
                    "id": oid,
                    "name": i["name"],
                    "status": "Active",
                    "allowAllDomains": i["allowAllDomains"],
                    "allowedDomains": i["allowedDomains"],
                    "flow": {"id": ref(i["flowId"])},
                    "configuration": {"id": ref(i["configuration"]["id"]), "version": "1"},
                }
            )
        elif kind == "Integration":
            org.integrations.append(
                {
                    "id": oid,
                    "name": i["config"]["name"],
                    "integrationType": {"id": i["integrationType"]},
                    "intendedState": "ENABLED",
                    "reportedState": {"code": "ACTIVE"},
                }
            )
        elif kind == "IntegrationAction":
            org.actions.append(
                {
                    "id": oid,
                    "name": i["name"],
                    "category": i["category"],
                    "integrationId": ref(i["integrationId"]),
                    "version": 1,
                    "secure": False,
                }
            )
        elif kind == "IntegrationCredential":
            org.credentials.append({"id": oid, "name": i["name"], "type": {"name": i["credentialTypeName"]}})
        elif kind == "ExternalcontactsExternalSource":
            link = {"uriTemplate": i["linkConfiguration"]["uriTemplate"]}
            source = {"id": oid, "name": i["name"], "active": i["active"], "linkConfiguration": link}
            org.external_sources.append(source)
        else:
            raise AssertionError(f"{r.urn}: the test has no fake object for {r.type}")


@dataclass
class Report:
    code: int
    out: str
    err: str
    document: dict[str, Any] | None
    written: dict[str, Any] | None

    def outcome(self, name: str) -> dict[str, Any]:
        assert self.document is not None, f"no JSON report; stderr: {self.err}"
        found = [o for o in self.document["resources"] if o["name"] == name]
        assert found, f"no outcome for {name}"
        return found[0]

    def outcomes(self, kind: str) -> set[str]:
        assert self.document is not None, f"no JSON report; stderr: {self.err}"
        return {o["name"] for o in self.document["resources"] if o["outcome"] == kind}

    @property
    def imported(self) -> dict[str, str]:
        assert self.written is not None, f"no import file; stdout: {self.out}"
        return {r["name"]: r["id"] for r in self.written["resources"]}


@pytest.fixture
def run() -> Run:
    return load(STACK).run


@pytest.fixture
def org(run: Run) -> FakeOrg:
    return FakeOrg(run.settings)


@pytest.fixture
def adopt(
    org: FakeOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> Iterator[Callable[..., Report]]:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv(CLIENT_ID_VAR, org.client["id"])
    monkeypatch.setenv(CLIENT_SECRET_VAR, CLIENT_SECRET)
    monkeypatch.setenv("COLUMNS", "400")
    output = tmp_path / "adopt.json"
    with serve(org) as base:

        def _run(*extra: str, fmt: str = "json") -> Report:
            argv = ["adopt", "--stack", STACK, "--format", fmt, "--timeout", "2", "--output", str(output)]
            code = main([*argv, "--api-url", base, "--login-url", f"{base}/login/{org.home_region}", *extra])
            out, err = capsys.readouterr()
            for secret in (CLIENT_SECRET, ACCESS_TOKEN):
                assert secret not in out and secret not in err, f"secret leaked in {fmt} output"
            document = json.loads(out) if fmt == "json" and out.strip() else None
            written = json.loads(output.read_text()) if output.exists() else None
            if output.exists():
                output.unlink()
            return Report(code, out, err, document, written)

        yield _run


# --- the org holds everything ---------------------------------------------------------------------


def test_org_holding_every_object_imports_each_with_its_id(adopt, org, run):
    populate(org, run)
    report = adopt()
    assert report.code == 0, report.out
    assert report.imported == {r.name: gc_id(r.name) for r in importable(run)}
    assert report.document["result"] == "ok"
    assert report.outcomes("create") == set()
    check_import_file(report.written)


def test_import_file_names_parents_and_provider_through_the_name_table(adopt, org, run):
    populate(org, run)
    written = adopt().written
    by_name = {r.name: r for r in run.resources}
    provider = next(r for r in run.resources if r.type == PROVIDER_TYPE)
    table = written["nameTable"]
    for spec in written["resources"]:
        declared = by_name[spec["name"]]
        assert spec["type"] == declared.type, f"{declared.urn}: type"
        assert table[spec["provider"]] == provider.urn, f"{declared.urn}: provider"
        if declared.parent.endswith(f"::{run_stack_name(run)}"):
            assert "parent" not in spec, f"{declared.urn}: the stack is the default parent"
        else:
            assert table[spec["parent"]] == declared.parent, f"{declared.urn}: parent"
            # The engine rebuilds the URN from the parent's type, the type and the name: it must be the program's.
            assert declared.urn.endswith(f"${declared.type}::{spec['name']}"), declared.urn


def run_stack_name(run: Run) -> str:
    return next(r.parent for r in run.resources if r.type == PROVIDER_TYPE).rsplit("::", 1)[-1]


def test_report_says_what_to_create_first_and_what_is_not_imported(adopt, org, run):
    populate(org, run)
    report = adopt()
    targets = set(report.document["prepareTargets"])
    provider = next(r for r in run.resources if r.type == PROVIDER_TYPE)
    parents = {r.parent for r in importable(run) if "$" in r.parent.rsplit("::", 1)[0]}
    assert provider.urn in targets and parents <= targets
    assert any(step.startswith("pulumi import") and "--generate-code=false" in step for step in report.document["next"])
    for r in run.resources:
        if r.type == "pulumi-python:dynamic:Resource":
            assert "identity resolution" in report.outcome(r.name)["reason"], r.urn
        if is_genesys(r) and keeps_a_secret(r):
            outcome = report.outcome(r.name)
            assert outcome["outcome"] == "not-imported" and outcome["ids"] == [gc_id(r.name)], r.urn
            assert "secret" in outcome["reason"] and "delete" in outcome["fix"], r.urn


def test_paged_listings_are_followed(adopt, org, run):
    populate(org, run)
    org.page_size = 1
    report = adopt()
    assert report.code == 0, report.out
    assert report.imported == {r.name: gc_id(r.name) for r in importable(run)}


def test_text_report_lists_outcomes_and_the_next_commands(adopt, org, run):
    populate(org, run)
    report = adopt(fmt="text")
    assert report.code == 0
    assert "pulumi import --stack" in report.out and "pulumi preview" in report.out
    assert "Not imported" in report.out and "identity resolution" in report.out


# --- some objects, none ----------------------------------------------------------------------------


def test_org_holding_some_objects_reports_the_rest_as_created(adopt, org, run):
    absent = {r.name for r in importable(run) if r.type.endswith(("Deployment", "ExternalSource"))}
    assert absent, "the program declares deployments and an external source"
    populate(org, run, skip=tuple(absent))
    report = adopt()
    assert report.code == 0, report.out
    assert report.outcomes("create") == absent
    assert set(report.imported) == {r.name for r in importable(run)} - absent
    check_import_file(report.written)


def test_empty_org_creates_everything(adopt, org, run):
    populate(org, run, skip=tuple(r.name for r in run.resources))
    report = adopt()
    assert report.code == 0, report.out
    assert report.written == {"nameTable": {}, "resources": []}
    assert report.outcomes("create") == {r.name for r in run.resources if is_genesys(r) and not keeps_a_secret(r)}


def test_only_exact_names_match(adopt, org, run):
    """?name= is a search: a queue whose name merely contains the program's is not the program's queue."""
    populate(org, run)
    queue = next(r for r in run.resources if r.type.endswith("RoutingQueue"))
    org.queues[0]["name"] += " (old)"
    report = adopt()
    assert report.outcome(queue.name)["outcome"] == "create"
    assert queue.name not in report.imported


def test_an_action_of_another_category_is_not_ours(adopt, org, run):
    """Action names carry no stack prefix: another stack's action with the same name is left alone."""
    populate(org, run)
    theirs = {**org.actions[0], "id": "gc-other-stack-action", "category": "another stack's integration"}
    org.actions.append(theirs)
    report = adopt()
    assert report.code == 0, report.out
    assert "gc-other-stack-action" not in report.imported.values()


# --- conflicts and differences ---------------------------------------------------------------------


def test_two_flows_with_the_program_s_name_are_ambiguous(adopt, org, run):
    populate(org, run)
    flow = next(r for r in run.resources if r.type.endswith("flow:Flow"))
    org.flows["gc-duplicate-flow"] = {**org.flows[gc_id(flow.name)], "id": "gc-duplicate-flow"}
    report = adopt()
    assert report.code == 1
    outcome = report.outcome(flow.name)
    assert outcome["outcome"] == "ambiguous"
    assert sorted(outcome["ids"]) == sorted([gc_id(flow.name), "gc-duplicate-flow"])
    assert flow.name not in report.imported, "an ambiguous object is left out of the file"
    assert set(report.imported) == {r.name for r in importable(run)} - {flow.name}
    check_import_file(report.written)


def test_queue_in_another_division_is_reported(adopt, org, run):
    populate(org, run)
    queue = next(r for r in run.resources if r.type.endswith("RoutingQueue"))
    org.queues[0]["division"] = {"id": "division-sandbox", "name": "Sandbox"}
    report = adopt()
    assert report.code == 1
    assert report.document["result"] == "problem"
    [difference] = report.outcome(queue.name)["differences"]
    assert "division" in difference and "Sandbox" in difference and run.settings.division in difference
    assert report.imported[queue.name] == gc_id(queue.name), "a differing object is still imported"


def test_deployment_allowing_every_domain_is_reported(adopt, org, run):
    populate(org, run)
    org.deployments[0].update(allowAllDomains=True, allowedDomains=[])
    report = adopt()
    assert report.code == 1
    differences = report.outcome(org.deployments[0]["id"].removeprefix("gc-"))["differences"]
    assert any(d.startswith("allowAllDomains") for d in differences), differences
    assert any(d.startswith("allowedDomains") for d in differences), differences


def test_deployment_routed_to_another_flow_is_reported(adopt, org, run):
    populate(org, run)
    org.deployments[0]["flow"] = {"id": "gc-some-other-flow"}
    report = adopt()
    assert report.code == 1
    differences = report.outcome(org.deployments[0]["id"].removeprefix("gc-"))["differences"]
    assert any(d.startswith("flow") and "gc-some-other-flow" in d for d in differences), differences


# --- failures --------------------------------------------------------------------------------------


def test_forbidden_listing_names_the_permission_and_writes_no_file(adopt, org, run):
    populate(org, run)
    org.forbidden.add("/api/v2/routing/queues")
    report = adopt()
    assert report.code == 1
    queue = next(r for r in run.resources if r.type.endswith("RoutingQueue"))
    outcome = report.outcome(queue.name)
    assert outcome["outcome"] == "failed"
    assert "403" in outcome["reason"] and "routing:queue:view" in outcome["fix"]
    assert report.written is None and report.document["output"] is None


def test_forbidden_listing_in_text_says_no_file_was_written(adopt, org, run):
    populate(org, run)
    org.forbidden.add("/api/v2/externalcontacts/externalsources")
    report = adopt(fmt="text")
    assert report.code == 1
    assert "externalContacts:externalSource:view" in report.out
    assert "No import file written" in report.out


def test_missing_credentials_is_a_usage_error(adopt, monkeypatch):
    monkeypatch.delenv(CLIENT_SECRET_VAR)
    report = adopt()
    assert report.code == 2
    assert CLIENT_SECRET_VAR in report.err and report.written is None


def test_rejected_credentials_is_a_usage_error(adopt, monkeypatch):
    monkeypatch.setenv(CLIENT_SECRET_VAR, "not-the-secret-0000")
    report = adopt()
    assert report.code == 2
    assert "token exchange" in report.err and "not-the-secret-0000" not in report.err


def test_plain_http_api_url_elsewhere_is_refused(adopt):
    report = adopt("--api-url", "http://example.com")
    assert report.code == 2 and "https" in report.err


def test_unknown_stack_is_a_usage_error(capsys):
    assert main(["adopt", "--stack", "no-such-stack"]) == 2
    assert "unknown stack" in capsys.readouterr().err


def test_text_report_escapes_terminal_sequences_from_the_org(capsys):
    from preflight.adopt import _print_text

    document = {
        "stack": "staging", "region": "eu-west-1", "apiUrl": "https://api.example", "output": "",
        "result": "problem", "next": [],
        "counts": {"import": 0, "create": 0, "ambiguous": 1, "differing": 0, "failed": 0},
        "resources": [
            {
                "name": "routing-queue", "genesys_name": "q\x1b[2J", "outcome": "ambiguous",
                "ids": ["id-1\x1b]0;owned\x07", "id-2"], "differences": [], "reason": "", "fix": "",
            }
        ],
    }  # fmt: skip
    _print_text(document)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b" in out
