"""OAuth clients and roles, per stack: least privilege, right grant, explicit provider, no secrets out."""

from __future__ import annotations

import json

from components.access_data import CLIENT_CREDENTIALS, access_spec
from preflight.inprocess import is_secret_value, reveal

PROVIDER = "pulumi:providers:genesyscloud"


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


def test_clients_hold_exactly_the_roles_of_the_data_file(run):
    roles_by_id = {f"{r.name}-id": r for r in run.of_type(":AuthRole")}
    for client in clients(run):
        key = client.name.removeprefix("access-client-")
        expected = set(access_spec().clients[key].roles)
        granted = {roles_by_id[g["roleId"]].name.removeprefix("access-role-") for g in client.inputs["roles"]}
        assert granted == expected, f"{client.urn}: roles {granted} != {expected}"


def test_role_permissions_are_explicit_and_from_the_data_file(run):
    for role in run.of_type(":AuthRole"):
        key = role.name.removeprefix("access-role-")
        declared = {
            f"{p['domain']}:{p['entityName']}:{action}"
            for p in role.inputs["permissionPolicies"]
            for action in p["actionSets"]
        }
        assert declared == set(access_spec().roles[key].permissions), f"{role.urn}"
        assert not any("*" in permission for permission in declared), f"{role.urn}: wildcard permission"


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


def test_client_secret_is_never_exposed_and_secret_outputs_are_marked(run):
    for client in clients(run):
        assert client.inputs["exposeClientSecret"] is False
        assert "clientSecret" in client.additional_secret_outputs


def test_names_carry_the_stack_prefix(run):
    prefix = run.settings.name_prefix
    for resource in run.of_type(":OauthClient") + run.of_type(":AuthRole"):
        assert resource.inputs["name"].startswith(prefix), f"{resource.urn}"
    assert (prefix == "stg-") == (run.settings.stack == "staging")


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

    role = RoleSpec("viewer", "d", ("externalContacts:contact:view",))
    spec = AccessSpec(
        roles={"viewer": role},
        clients={
            "scoped-cc": ClientSpec("scoped-cc", "d", CLIENT_CREDENTIALS, (), ("messaging:write",), False),
            "role-code": ClientSpec("role-code", "d", "CODE", ("viewer",), (), False),
            "ghost-role": ClientSpec("ghost-role", "d", CLIENT_CREDENTIALS, ("admin",), (), False),
        },
        deployer_permissions=(),
    )
    problems = "\n".join(_check(spec))
    assert "clients.scoped-cc: a client-credentials client gets its rights from roles; add roles" in problems
    assert "clients.scoped-cc: scopes do not apply to client-credentials clients" in problems
    assert "clients.role-code: roles apply only to client-credentials clients" in problems
    assert "clients.role-code: a CODE client needs scopes" in problems
    assert "clients.ghost-role.roles: unknown role 'admin'" in problems
