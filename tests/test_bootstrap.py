"""bootstrap/: the org's roles and the deployer client, so a stack's first `pulumi up` can grant roles."""

from __future__ import annotations

import json

import pytest
import yaml

from components.errors import InvalidConfiguration
from components.org_settings import ORG_NAMESPACE
from components.stack_file import StackConfig, read_stack_file
from preflight.inprocess import is_secret_value, reveal, run_bootstrap
from tests.conftest import ROOT

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
    assert set(roles) == {"genesys-messaging contact-lookup", "genesys-messaging deployer"}
    lookup = roles["genesys-messaging contact-lookup"].inputs["permissionPolicies"]
    # Platform SDK 257.1.0: identifier lookup externalContacts:contact:view, enrich externalContacts:contact:enrich,
    # merge externalContacts:identity:merge (ExternalContactsApi.md), get_conversation
    # conversation:communication:view (ConversationsApi.md).
    assert lookup == [
        {"domain": "conversation", "entityName": "communication", "actionSets": ["view"]},
        {"domain": "externalContacts", "entityName": "contact", "actionSets": ["enrich", "view"]},
        {"domain": "externalContacts", "entityName": "identity", "actionSets": ["merge"]},
    ]
    for role in roles.values():
        assert role.protect, f"{role.urn}: deleting a role strips it from every client holding it"


def test_deployer_holds_every_role_the_stacks_grant_in_every_division():
    run = run_bootstrap(org_config(region="eu-west-1", divisions=["Home", "Support"]))
    role_ids = {r.inputs["name"].removeprefix("genesys-messaging "): f"{r.name}-id" for r in of_type(run, ":AuthRole")}
    (deployer,) = of_type(run, ":OauthClient")
    assert deployer.inputs["authorizedGrantType"] == "CLIENT-CREDENTIALS"
    grants = {(g["roleId"], g["divisionId"]) for g in deployer.inputs["roles"]}
    # By hand: its own deployer role, and contact-lookup because the stacks grant it to the Data Actions client and
    # a client-credentials deployer can grant only roles it holds (provider v1.84.1
    # oauth_client/resource_genesyscloud_oauth_client_schema.go:94). Nothing else: it is least privilege too.
    held = ("contact-lookup", "deployer")
    expected = {(role_ids[role], f"division-{d}") for role in held for d in ("Home", "Support")}
    assert grants == expected, f"{deployer.urn}: grants {sorted(grants)} != {sorted(expected)}"


def test_stacks_look_up_exactly_the_roles_bootstrap_creates(run, committed):
    created = {f"role-{r.inputs['name']}" for r in of_type(committed, ":AuthRole")}
    for client in run.of_type(":OauthClient"):
        for grant in client.inputs["roles"]:
            assert grant["roleId"] in created, f"{client.urn}: grants {grant['roleId']}, not created by bootstrap/"


def test_deployer_secret_is_only_a_secret_output(committed):
    assert "deployerClientSecret" in committed.secret_outputs
    assert set(committed.secret_outputs) == {"deployerClientSecret"}
    (deployer,) = of_type(committed, ":OauthClient")
    assert deployer.inputs["exposeClientSecret"] is True and "clientSecret" in deployer.additional_secret_outputs
    assert not any(is_secret_value(v) for v in deployer.inputs.values()) and reveal(deployer.inputs) == deployer.inputs


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"region": "eu-west-9"}, "genesys-messaging-bootstrap:region: 'eu-west-9' is not a Genesys region"),
        ({"region": "eu-west-1", "divisions": ["*"]}, "never '*'"),
        ({"region": "eu-west-1", "divisions": []}, "genesys-messaging-bootstrap:divisions"),
        ({"region": "eu-west-1", "divisions": ["Home", "Home"]}, "distinct"),
        ({"region": "eu-west-1", "tokenValiditySeconds": 60}, "tokenValiditySeconds must be an integer in 300..172800"),
        ({"region": "eu-west-1", "tokenValiditySeconds": 172801}, "tokenValiditySeconds must be an integer in"),
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
