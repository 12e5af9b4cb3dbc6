"""OAuth clients and roles, per stack: least privilege, right grant, explicit provider, no secrets out."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from components import access_data, provider_binding
from components.access_data import CLIENT_CREDENTIALS, access_spec
from preflight.inprocess import is_secret_value, reveal
from tests.test_crm_presets import CUSTOM, SALESFORCE, ZENDESK, preset_run

PROVIDER = "pulumi:providers:genesyscloud"


# The clients a stack declares and the roles each holds, written by hand from the design (README "What a stack
# creates", Access): one client, the Genesys Cloud Data Actions integration's, which runs the External Contacts
# identifier lookup and so holds only the read-only contact-lookup role (ExternalContactsApi.md, platform SDK
# 257.1.0, post_externalcontacts_identifierlookup_contacts: ANY externalContacts:contact:view). A client or role
# added to components/access.yaml changes this table in review.
EXPECTED_CLIENT_ROLES = {"contact-lookup": {"genesys-messaging contact-lookup"}}
EXPECTED_CREDENTIAL_CLIENTS = {"contact-lookup"}
"""Clients whose secret goes into an integration credential: the Data Actions integration authenticates as it."""


def clients(run):
    return run.of_type(":OauthClient")


def test_client_credentials_clients_have_roles_and_no_scopes(run):
    assert clients(run), "the stack declares OAuth clients"
    for client in clients(run):
        inputs = client.inputs
        # This design only has client-credentials clients; the rule for other grants is tested on the data.
        assert inputs["authorizedGrantType"] == CLIENT_CREDENTIALS, client.urn
        assert inputs.get("roles"), f"{client.urn}: client-credentials client without roles"
        assert not inputs.get("scopes"), f"{client.urn}: client-credentials client with scopes"


def test_stack_creates_no_role_and_grants_only_roles_looked_up_by_name(run):
    # A client-credentials deployer can grant only roles it already holds (provider v1.84.1
    # oauth_client/resource_genesyscloud_oauth_client_schema.go:94), so roles come from bootstrap/.
    assert not run.of_type(":AuthRole"), "the stack must not create roles; bootstrap/ does"
    keys = {client.name.removeprefix("access-client-") for client in clients(run)}
    assert keys == set(EXPECTED_CLIENT_ROLES), f"clients {sorted(keys)} != {sorted(EXPECTED_CLIENT_ROLES)}"
    for client in clients(run):
        key = client.name.removeprefix("access-client-")
        # The mocks give a role looked up by name the id `role-<name>`.
        expected = {f"role-{name}" for name in EXPECTED_CLIENT_ROLES[key]}
        granted = {grant["roleId"] for grant in client.inputs["roles"]}
        assert granted == expected, f"{client.urn}: roles {granted} != {expected}"


def test_grants_are_scoped_to_the_stack_division_never_all(run):
    for client in clients(run):
        for grant in client.inputs.get("roles", []):
            assert grant["divisionId"] == f"division-{run.settings.division}", f"{client.urn}: {grant}"


def test_token_validity_comes_from_settings(run):
    for client in clients(run):
        assert client.inputs["accessTokenValiditySeconds"] == run.settings.token_validity_seconds


def test_token_validity_override_reaches_the_clients(run_with):
    run = run_with("staging", {"genesys-messaging:tokenValiditySeconds": "900"})
    assert {c.inputs["accessTokenValiditySeconds"] for c in clients(run)} == {900}


def test_client_secret_reaches_only_an_explicit_secret_credential(run):
    for client in clients(run):
        # Exposed once, on create, and kept in state as a secret (the attribute is sensitive).
        assert client.inputs["exposeClientSecret"] is True, client.urn
        assert "clientSecret" in client.additional_secret_outputs, client.urn
        # Not the provider's own credential: it loses the secret on any later update of the client.
        assert not client.inputs.get("integrationCredentialName"), client.urn
    credentials = [
        c for c in run.of_type(":IntegrationCredential") if c.inputs["credentialTypeName"] == "pureCloudOAuthClient"
    ]
    keys = {credential.name.removeprefix("access-credential-") for credential in credentials}
    assert keys == EXPECTED_CREDENTIAL_CLIENTS, f"client credentials for {sorted(keys)}"
    for credential in credentials:
        assert is_secret_value(credential.inputs["fields"]), f"{credential.urn}: fields must be a secret"
        key = credential.name.removeprefix("access-credential-")
        # Field names of the pureCloudOAuthClient credential type (resource_genesyscloud_oauth_client.go:337-340).
        assert reveal(credential.inputs["fields"]) == {
            "clientId": f"access-client-{key}-client-id",
            "clientSecret": f"access-client-{key}-client-secret",
        }, credential.urn


def test_names_carry_the_stack_prefix(run):
    prefix = run.settings.name_prefix
    for resource in run.of_type(":OauthClient"):
        assert resource.inputs["name"].startswith(prefix), f"{resource.urn}"


def test_prod_clients_are_protected(run):
    for client in clients(run):
        assert client.protect == run.settings.is_prod, f"{client.urn}"


def test_provider_region_equals_settings(run):
    providers = [r for r in run.resources if r.type == PROVIDER]
    assert len(providers) == 1
    assert providers[0].inputs["awsRegion"] == run.settings.region.code
    assert providers[0].inputs["sdkDebug"] is False


def test_every_genesys_resource_uses_the_explicit_provider(run):
    provider = next(r for r in run.resources if r.type == PROVIDER)
    genesys = [r for r in run.resources if r.type.startswith("genesyscloud:")]
    assert genesys
    for resource in genesys:
        assert resource.provider.startswith(provider.urn + "::"), f"{resource.urn} uses {resource.provider!r}"


def test_every_resource_is_parented_to_a_component(run):
    for resource in run.resources:
        if resource.type.startswith("genesyscloud:"):
            assert "genesys-messaging:index:" in resource.parent, f"{resource.urn} has no component parent"


def test_no_secret_reaches_outputs_in_plain_text(run):
    exported = json.dumps(run.outputs)
    assert "sentinel-secret" not in exported
    for resource in run.resources:
        plain = json.dumps({k: v for k, v in resource.inputs.items() if not is_secret_value(v)}, default=str)
        assert "sentinel-secret" not in plain or _only_inside_secrets(resource.inputs), f"{resource.urn}"


def _only_inside_secrets(value) -> bool:
    """True when every sentinel in the value sits inside a secret wrapper."""
    if is_secret_value(value):
        return True
    if isinstance(value, dict):
        return all(_only_inside_secrets(v) for v in value.values())
    if isinstance(value, list):
        return all(_only_inside_secrets(v) for v in value)
    return "sentinel-secret" not in str(value)


def test_reveal_unwraps_secrets():
    wrapped = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "s"}
    assert is_secret_value(wrapped)
    assert reveal({"a": [wrapped]}) == {"a": ["s"]}


def test_access_data_rules_refuse_the_wrong_rights_for_each_grant():
    from components.access_data import AccessSpec, ClientSpec, RoleSpec, _check

    role = RoleSpec(
        "viewer", "d", ("GET /api/v2/externalcontacts/contacts/{contactId}",), ("externalContacts:contact:view",)
    )
    deployer = RoleSpec("deployer", "d", (), ("externalContacts:contact:view",))
    spec = AccessSpec(
        roles={"viewer": role, "deployer": deployer},
        clients={
            "scoped-cc": ClientSpec("scoped-cc", "d", CLIENT_CREDENTIALS, (), ("messaging:write",), False),
            "role-code": ClientSpec("role-code", "d", "CODE", ("viewer",), (), False),
            "ghost-role": ClientSpec("ghost-role", "d", CLIENT_CREDENTIALS, ("admin",), (), False),
        },
        bootstrap_clients={"deployer": ClientSpec("deployer", "d", CLIENT_CREDENTIALS, ("deployer",), (), False)},
    )
    problems = "\n".join(_check(spec))
    assert "clients.scoped-cc: a client-credentials client gets its rights from roles; add roles" in problems
    assert "clients.scoped-cc: scopes do not apply to client-credentials clients" in problems
    assert "clients.role-code: roles apply only to client-credentials clients" in problems
    assert "clients.role-code: a CODE client needs scopes" in problems
    assert "clients.ghost-role.roles: unknown role 'admin'" in problems
    # The stacks grant 'viewer'; the deployer must hold it to grant it.
    assert "bootstrap.deployer.roles: add 'viewer'" in problems
    # The deployer role makes no call, so the permission it holds is unneeded.
    assert "roles.deployer: holds 'externalContacts:contact:view', which none of its calls needs" in problems


# Permissions each call requires, read by hand from the Genesys platform SDK reference
# (MyPureCloud/platform-client-sdk-python build/docs, 257.1.0): the oracle the data file must match.
def test_contact_lookup_role_holds_exactly_what_its_calls_need():
    # ExternalContactsApi.md: post_externalcontacts_identifierlookup_contacts ANY externalContacts:contact:view;
    # post_externalcontacts_contacts_enrich ANY externalContacts:contact:enrich; post_externalcontacts_merge_contacts
    # ANY externalContacts:identity:merge. ConversationsApi.md get_conversation: ANY conversation:communication:view.
    role = access_spec().roles["contact-lookup"]
    assert role.calls == (
        "GET /api/v2/conversations/{conversationId}",
        "POST /api/v2/externalcontacts/contacts/enrich",
        "POST /api/v2/externalcontacts/identifierlookup/contacts",
        "POST /api/v2/externalcontacts/merge/contacts",
    )
    assert role.permissions == (
        "conversation:communication:view",
        "externalContacts:contact:enrich",
        "externalContacts:contact:view",
        "externalContacts:identity:merge",
    )


def assert_refused(data: dict, expected: str, tmp_path, monkeypatch) -> None:
    """An edited copy of components/access.yaml is refused on load with the expected problem."""
    copy = tmp_path / "access.yaml"
    copy.write_text(yaml.safe_dump(data))
    monkeypatch.setattr(access_data, "ACCESS_FILE", copy)
    access_data.access_spec.cache_clear()
    try:
        with pytest.raises(access_data.AccessDataError, match=re.escape(expected)):
            access_data.access_spec()
    finally:
        access_data.access_spec.cache_clear()


@pytest.mark.parametrize(
    ("role", "edit", "expected"),
    [
        # Adding a write permission to the read-only lookup role.
        ("contact-lookup", ("add", "authorization:role:edit"), "holds 'authorization:role:edit', which none"),
        # WebDeploymentsApi.md, put_webdeployments_deployment_identityresolution:
        # ALL of webDeployments:deployment:edit and webDeployments:identityResolution:edit.
        (
            "deployer",
            ("remove", "webDeployments:identityResolution:edit"),
            "lacks 'webDeployments:identityResolution:edit'",
        ),
        # OAuthApi.md, post_oauth_clients: ANY oauth:client:add.
        ("deployer", ("remove", "oauth:client:add"), "POST /api/v2/oauth/clients requires one of ['oauth:client:add']"),
        # The deployer creates no role (bootstrap/ does): authorization:role:add serves none of its calls.
        ("deployer", ("add", "authorization:role:add"), "holds 'authorization:role:add', which none"),
    ],
)
def test_access_file_with_a_wrong_permission_is_refused(tmp_path, monkeypatch, role, edit, expected):
    data = yaml.safe_load(access_data.ACCESS_FILE.read_text())
    permissions = data["roles"][role]["permissions"]
    action, permission = edit
    if action == "add":
        permissions.append(permission)
    else:
        permissions.remove(permission)
    assert_refused(data, expected, tmp_path, monkeypatch)


def test_deployer_covers_every_provider_type_the_program_declares(run):
    schema = provider_binding.provider_schema()
    by_token = {entry["token"]: tf_type for tf_type, entry in schema.items()}
    # One bootstrap serves every stack of the org, whichever ticketing preset each picks.
    runs = [run, *(preset_run(crm) for crm in (ZENDESK, SALESFORCE, CUSTOM))]
    declared = {by_token[r.type] for planned in runs for r in planned.resources if r.custom and r.type in by_token}
    listed = set(yaml.safe_load(access_data.ACCESS_FILE.read_text())["roles"]["deployer"]["providerResources"])
    assert declared == listed, f"deployer.providerResources {sorted(listed)} != declared {sorted(declared)}"


def test_deployer_can_publish_the_flow_through_the_archy_job():
    # The provider publishes a flow only through an Archy job (architect_flow/resource_genesyscloud_flow.go:97-239,
    # v1.84.1) that creates, checks in and publishes it as the caller; with only Architect > Flow > View a principal
    # "cannot edit, publish, or delete" a flow (help.mypurecloud.com, "Use Architect in read-only mode"), and creating
    # one takes architect:flow:add (ArchitectApi.md, post_flows). No endpoint of the job lists these.
    deployer = access_spec().roles["deployer"]
    assert {"architect:flow:add", "architect:flow:edit", "architect:flow:publish"} <= set(deployer.permissions)
    assert dict(deployer.job_permissions)["genesyscloud_flow"] == (
        "architect:flow:add",
        "architect:flow:edit",
        "architect:flow:publish",
    )


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # Without the job's reason, publish serves no call and is refused as unneeded.
        (lambda d: d["roles"]["deployer"].pop("jobPermissions"), "holds 'architect:flow:publish', which none"),
        # A job permission the role does not hold is named with the job that checks it.
        (
            lambda d: d["roles"]["deployer"]["permissions"].remove("architect:flow:edit"),
            "lacks 'architect:flow:edit', which the server-side job of genesyscloud_flow checks",
        ),
        # A job of a resource the role never runs is no reason.
        (
            lambda d: d["roles"]["contact-lookup"].update(
                jobPermissions={"genesyscloud_flow": {"reason": "r", "permissions": ["architect:flow:add"]}}
            ),
            "roles.contact-lookup.jobPermissions.genesyscloud_flow: the role runs no genesyscloud_flow",
        ),
        # The reader holds reads only: a write is refused, and so is a missing read.
        (lambda d: d["roles"]["reader"]["permissions"].append("routing:queue:edit"), "holds 'routing:queue:edit'"),
        (
            lambda d: d["roles"]["reader"]["permissions"].remove("routing:queue:view"),
            "roles.reader: GET /api/v2/routing/queues requires one of ['routing:queue:view']",
        ),
        (lambda d: d["roles"]["reader"].update(readsOf="nobody"), "roles.reader.readsOf: 'nobody' is not a role"),
    ],
)
def test_access_file_with_wrong_job_or_read_rights_is_refused(tmp_path, monkeypatch, edit, expected):
    data = yaml.safe_load(access_data.ACCESS_FILE.read_text())
    edit(data)
    assert_refused(data, expected, tmp_path, monkeypatch)


def test_reader_calls_are_the_deployers_reads_and_write_nothing():
    spec = access_spec()
    reader, deployer = spec.roles["reader"], spec.roles["deployer"]
    assert reader.calls and all(call.startswith("GET ") for call in reader.calls), reader.calls
    assert set(reader.calls) < {call for call in deployer.calls if call.startswith("GET ")}
    # Every read a refresh makes of each resource type, e.g. the flow and the deployment's identity resolution
    # (ArchitectApi.md get_flow; WebDeploymentsApi.md get_webdeployments_deployment_identityresolution).
    reads = {"GET /api/v2/flows/{flowId}", "GET /api/v2/webdeployments/deployments/{deploymentId}/identityresolution"}
    assert reads <= set(reader.calls), reader.calls
    assert all(permission.endswith(":view") for permission in reader.permissions), reader.permissions


def test_lookup_role_serves_exactly_the_data_actions_that_run_as_it():
    from components.stack import CONTACT_ACTIONS

    calls = set()
    for _, file in CONTACT_ACTIONS.values():
        action = yaml.safe_load((access_data.ACCESS_FILE.parent / "data_actions" / file).read_text())
        # A path segment from an input, `$esc.uriEncode(${input.x})`, is the reference's `{x}`.
        path = re.sub(r"\$esc\.uriEncode\(\$\{input\.(\w+)\}\)", r"{\1}", action["request"]["urlTemplate"])
        calls.add(f"{action['request']['type']} {path}")
    assert access_spec().roles["contact-lookup"].calls == tuple(sorted(calls))
