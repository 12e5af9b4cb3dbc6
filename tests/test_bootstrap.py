"""bootstrap/: the org's roles, the deployer client (so a stack's first `pulumi up` can grant roles) and the reader."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
import yaml
from pulumi_policy import PolicyResource, StackValidationArgs

from components.errors import InvalidConfiguration
from components.org_settings import ORG_NAMESPACE
from components.regions import regions
from components.settings import load_from_stack_file
from components.stack_file import StackConfig, read_stack_file
from policy.access_rules import no_same_run_role_grant_validator
from preflight.bootstrap_org import bootstrap_violations
from preflight.inprocess import is_secret_value, reveal, run_bootstrap
from preflight.policy_check import evaluate_run
from tests.conftest import ROOT, example_config

BOOTSTRAP = ROOT / "bootstrap"


def org_config(**values: object) -> StackConfig:
    config = {"pulumi:disable-default-providers": '["genesyscloud"]'}
    config.update({f"{ORG_NAMESPACE}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()})
    return StackConfig(stack="org", source="Pulumi.org.yaml", config=config, secret_keys=frozenset())


@pytest.fixture(scope="module")
def committed():
    return run_bootstrap(read_stack_file(BOOTSTRAP / "Pulumi.org.yaml"))


def of_type(run, suffix: str):
    return [r for r in run.resources if r.type.endswith(suffix)]


def test_every_committed_bootstrap_stack_plans(committed):
    assert of_type(committed, ":AuthRole") and of_type(committed, ":OauthClient")


def test_roles_hold_exactly_their_permissions():
    run = run_bootstrap(org_config(region="eu-west-1"))
    roles = {r.inputs["name"]: r for r in of_type(run, ":AuthRole")}
    # The names the stacks look roles up by (a hand-written expectation of components/naming.py).
    assert set(roles) == {
        "genesys-messaging contact-import",
        "genesys-messaging contact-lookup",
        "genesys-messaging deployer",
        "genesys-messaging reader",
        "genesys-messaging verifier",
    }
    lookup = roles["genesys-messaging contact-lookup"].inputs["permissionPolicies"]
    # Platform SDK 257.1.0: identifier lookup externalContacts:contact:view, enrich externalContacts:contact:enrich,
    # merge externalContacts:identity:merge (ExternalContactsApi.md), get_conversation
    # conversation:communication:view (ConversationsApi.md).
    assert lookup == [
        {"domain": "conversation", "entityName": "communication", "actionSets": ["view"]},
        {"domain": "externalContacts", "entityName": "contact", "actionSets": ["enrich", "view"]},
        {"domain": "externalContacts", "entityName": "identity", "actionSets": ["merge"]},
    ]
    # The importer: bulk enrich needs externalContacts:contact:enrich; the lookups (identifier, external source
    # listing) externalContacts:contact:view. Nothing else (ExternalContactsApi.md, platform SDK 257.1.0).
    importer = roles["genesys-messaging contact-import"].inputs["permissionPolicies"]
    assert importer == [{"domain": "externalContacts", "entityName": "contact", "actionSets": ["enrich", "view"]}]
    for role in roles.values():
        assert role.protect, f"{role.urn}: deleting a role strips it from every client holding it"
    # The reader only reads: every permission of its role is a `view` (an independent property, not the data file).
    reader = roles["genesys-messaging reader"].inputs["permissionPolicies"]
    assert reader and all(policy["actionSets"] == ["view"] for policy in reader), reader


def test_deployer_holds_every_role_the_stacks_grant_in_every_division():
    run = run_bootstrap(org_config(region="eu-west-1", divisions=["Home", "Support"]))
    role_ids = {r.inputs["name"].removeprefix("genesys-messaging "): f"{r.name}-id" for r in of_type(run, ":AuthRole")}
    clients = {c.name: c for c in of_type(run, ":OauthClient")}
    expected_clients = {"org-client-importer", "org-client-deployer", "org-client-reader", "org-client-verifier"}
    assert set(clients) == expected_clients, sorted(clients)
    deployer = clients["org-client-deployer"]
    assert deployer.inputs["authorizedGrantType"] == "CLIENT-CREDENTIALS"
    grants = {(g["roleId"], g["divisionId"]) for g in deployer.inputs["roles"]}
    # By hand: its own deployer role, and contact-lookup because the stacks grant it to the Data Actions client and
    # a client-credentials deployer can grant only roles it holds (provider v1.84.1
    # oauth_client/resource_genesyscloud_oauth_client_schema.go:94). Nothing else: it is least privilege too.
    held = ("contact-lookup", "deployer")
    expected = {(role_ids[role], f"division-{d}") for role in held for d in ("Home", "Support")}
    assert grants == expected, f"{deployer.urn}: grants {sorted(grants)} != {sorted(expected)}"
    # The previews' and drift check's client holds the read-only role alone, in the same divisions.
    reader = {(g["roleId"], g["divisionId"]) for g in clients["org-client-reader"].inputs["roles"]}
    assert reader == {(role_ids["reader"], f"division-{d}") for d in ("Home", "Support")}, sorted(reader)
    # The importer's client holds its own role alone.
    importer = {(g["roleId"], g["divisionId"]) for g in clients["org-client-importer"].inputs["roles"]}
    assert importer == {(role_ids["contact-import"], f"division-{d}") for d in ("Home", "Support")}, sorted(importer)


def test_stacks_look_up_exactly_the_roles_bootstrap_creates(run, committed):
    created = {f"role-{r.inputs['name']}" for r in of_type(committed, ":AuthRole")}
    for client in run.of_type(":OauthClient"):
        for grant in client.inputs["roles"]:
            assert grant["roleId"] in created, f"{client.urn}: grants {grant['roleId']}, not created by bootstrap/"


def test_client_secrets_are_only_secret_outputs(committed):
    keys = ("importer", "deployer", "reader", "verifier")
    assert set(committed.secret_outputs) == {f"{key}ClientSecret" for key in keys}
    assert {f"{key}ClientId" for key in keys} <= set(committed.outputs)
    for client in of_type(committed, ":OauthClient"):
        assert client.inputs["exposeClientSecret"] is True and "clientSecret" in client.additional_secret_outputs
        assert not any(is_secret_value(v) for v in client.inputs.values()) and reveal(client.inputs) == client.inputs


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"region": "eu-west-9"}, "genesys-messaging-bootstrap:region: 'eu-west-9' is not a Genesys region"),
        ({"region": "eu-west-1", "divisions": ["*"]}, "never '*'"),
        ({"region": "eu-west-1", "divisions": []}, "genesys-messaging-bootstrap:divisions"),
        ({"region": "eu-west-1", "divisions": ["Home", "Home"]}, "distinct"),
        ({"region": "eu-west-1", "tokenValiditySeconds": 60}, "tokenValiditySeconds must be an integer in 300..172800"),
        ({"region": "eu-west-1", "tokenValiditySeconds": 172801}, "tokenValiditySeconds must be an integer in"),
        (
            {"region": "eu-west-1", "divisions": ["Home", "Sales\u200b"]},
            "genesys-messaging-bootstrap:divisions[1]: 'Sales\\u200b' has a control or format character "
            "(U+200B ZERO WIDTH SPACE); fix: retype",
        ),
    ],
)
def test_bad_bootstrap_settings_name_the_file_key_and_fix(values, expected):
    with pytest.raises(InvalidConfiguration) as caught:
        run_bootstrap(org_config(**values))
    assert "bootstrap/Pulumi.org.yaml" in str(caught.value) and expected in str(caught.value)
    assert "fix:" in str(caught.value)


def test_every_declared_key_reaches_the_settings():
    # Non-default values for each key bootstrap/Pulumi.yaml declares, as `pulumi up` hands them over.
    declared = set(yaml.safe_load((BOOTSTRAP / "Pulumi.yaml").read_text())["config"])
    assert declared == {"region", "divisions", "tokenValiditySeconds"}, "a new key needs its case here"
    run = run_bootstrap(org_config(region="eu-central-1", divisions=["Home", "Support"], tokenValiditySeconds=900))
    assert run.settings.region.code == "eu-central-1"
    assert run.settings.divisions == ("Home", "Support")
    assert run.settings.token_validity_seconds == 900


def test_bootstrap_stack_files_disable_the_default_provider():
    for path in BOOTSTRAP.glob("Pulumi.*.yaml"):
        config = read_stack_file(path).config
        assert json.loads(config["pulumi:disable-default-providers"]) == ["genesyscloud"], path.name


# --- the org's bootstrap covers each stack (preflight/bootstrap_org.py) ----------------------------


def _bootstrap_dir(tmp_path, **files: dict) -> object:
    """A bootstrap/ folder with hand-written stack files: name -> {region, divisions}."""
    for name, values in files.items():
        config = {f"{ORG_NAMESPACE}:{key}": value for key, value in values.items()}
        (tmp_path / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def _settings(division: str, region_code: str = "eu-west-1", org: str = ""):
    settings = load_from_stack_file(example_config("prod"))
    return dataclasses.replace(settings, division=division, org=org, region=regions()[region_code])


def test_a_division_bootstrap_does_not_list_fails_the_plan_naming_the_file_and_fix(tmp_path):
    folder = _bootstrap_dir(tmp_path, org={"region": "eu-west-1", "divisions": ["Home"]})
    (violation,) = bootstrap_violations(_settings("Support"), folder)
    assert violation["level"] == "mandatory" and violation["rule"] == "bootstrap-org"
    assert "bootstrap/Pulumi.org.yaml" in violation["message"] and "'Support'" in violation["message"]
    assert "add 'Support' to genesys-messaging-bootstrap:divisions in bootstrap/Pulumi.org.yaml" in violation["fix"]
    assert bootstrap_violations(_settings("Home"), folder) == []


def test_an_org_label_names_its_bootstrap_file_and_a_region_is_another_org(tmp_path):
    folder = _bootstrap_dir(
        tmp_path,
        acme={"region": "eu-central-1", "divisions": ["Home"]},
        org={"region": "eu-west-1", "divisions": ["Support"]},
    )
    # Labelled: only bootstrap/Pulumi.acme.yaml serves, and it is in another region.
    (violation,) = bootstrap_violations(_settings("Home", org="acme"), folder)
    assert violation["level"] == "mandatory" and "Pulumi.acme.yaml" in violation["message"]
    assert "eu-central-1" in violation["message"] and "another org" in violation["message"]
    # Unlabelled: the bootstrap file of the stack's region serves (Pulumi.org.yaml), not acme's.
    assert bootstrap_violations(_settings("Support"), folder) == []
    # No bootstrap file of the region: it cannot be checked, and the plan says so without failing.
    (note,) = bootstrap_violations(_settings("Home", region_code="ap-south-1"), folder)
    assert note["level"] == "advisory" and "cannot be checked offline" in note["message"]


def test_an_unreadable_bootstrap_file_is_named(tmp_path):
    folder = _bootstrap_dir(tmp_path, org={"region": "eu-west-9"})
    problems = bootstrap_violations(_settings("Home"), folder)
    assert any(v["level"] == "mandatory" and "bootstrap/Pulumi.org.yaml" in v["message"] for v in problems), problems


def test_plan_reports_a_division_bootstrap_does_not_cover(tmp_path):
    document = yaml.safe_load((ROOT / "tests" / "fixtures" / "Pulumi.prod.yaml").read_text())
    document["config"]["genesys-messaging:division"] = "Division-nobody-lists"
    candidate = tmp_path / "Pulumi.prod.yaml"
    candidate.write_text(yaml.safe_dump(document))
    command = [sys.executable, "-m", "preflight", "plan", "--config-file", str(candidate), "--format", "json"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    plan = json.loads(result.stdout)
    found = [v for v in plan["violations"] if v["rule"] == "bootstrap-org"]
    # Whatever bootstrap/ holds: a mandatory refusal naming the division if a bootstrap file covers the region,
    # otherwise the advisory that it cannot be checked.
    assert found and all("Division-nobody-lists" in v["message"] for v in found), found


def test_bootstrap_has_an_offline_plan_with_the_pack_and_it_is_clean():
    for path in sorted(BOOTSTRAP.glob("Pulumi.*.yaml")):
        name = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        command = [sys.executable, "-m", "preflight", "plan", "--bootstrap", name, "--format", "json"]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        plan = json.loads(result.stdout)
        assert plan["environment"] == "prod" and plan["summary"]["resources"] > 0, plan["summary"]


def test_same_run_role_grant_is_refused_for_a_stack_but_is_bootstraps_design():
    run = run_bootstrap(org_config(region="eu-west-1"))
    assert not [v for v in evaluate_run(run) if v.rule_id == "no-same-run-role-grant"]
    # The same grants under a stack's project name (a client-credentials deployer) are refused.
    def as_stack(urn: str) -> str:
        return urn.replace("::genesys-messaging-bootstrap::", "::genesys-messaging::")

    resources = [
        PolicyResource(
            r.type, {**reveal(r.inputs), "id": f"{r.name}-id"}, as_stack(r.urn), r.name, None, None, None, [], {}
        )
        for r in run.resources
    ]
    found: list[str] = []
    report = lambda message, urn=None: found.append(message)  # noqa: E731
    no_same_run_role_grant_validator(StackValidationArgs(resources, {}), report)
    assert found and all("created in this same stack" in message for message in found), found
