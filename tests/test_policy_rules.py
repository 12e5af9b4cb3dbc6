"""The policy rules as plain functions (pulumi-policy's own test style), evaluate(), the pack as the CLI runs it, and
its data."""

from __future__ import annotations

import ast
import json
import os
import selectors
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi.runtime.rpc import _special_secret_sig as SECRET_SIG
from pulumi.runtime.rpc import _special_sig_key as SIG_KEY
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policy import (
    access_rules,
    common,
    data_action_rules,
    messenger_rules,
    protection_rules,
    region_rules,
    rules,
)
from preflight import policy_check
from preflight.policy_check import evaluate

ROOT = Path(__file__).resolve().parent.parent
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
PROD = {"region": "eu-west-1", "environment": "prod"}
STAGING = {"region": "eu-west-1", "environment": "staging"}
PROVIDER_URN = "urn:pulumi:prod::genesys-messaging::pulumi:pulumi:Stack$pulumi:providers:genesyscloud::genesyscloud"
PROVIDER = PolicyProviderResource(common.PROVIDER_TYPE, {"awsRegion": "eu-west-1"}, PROVIDER_URN, "genesyscloud")

# The reviewed enforcement level of every rule id, written by hand (the README's Policies table says the same):
# a level changed in a rule module fails the tests until it is changed here too, in review.
EXPECTED_LEVELS = {
    "region-consistency": "mandatory",
    "oauth-client-grant-shape": "mandatory",
    "oauth-token-lifetime": "mandatory",
    "no-admin-like-role": "mandatory",
    "no-all-divisions-write-grant": "mandatory",
    "no-same-run-role-grant": "mandatory",
    "web-deployment-wiring": "mandatory",
    "prod-deployment-allowed-domains": "mandatory",
    "deployment-allowed-domains": "advisory",
    "prod-messenger-authentication": "mandatory",
    "data-action-https": "mandatory",
    "prod-protected-resources": "mandatory",
    "queue-members-explicit": "mandatory",
    "explicit-genesys-provider": "mandatory",
    "secret-inputs-encrypted": "mandatory",
}


def urn_of(type_: str, name: str) -> str:
    return f"urn:pulumi:prod::genesys-messaging::pulumi:pulumi:Stack${type_}::{name}"


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def resource_args(
    type_: str,
    props: dict[str, Any],
    *,
    name: str = "r",
    protect: bool = False,
    provider: PolicyProviderResource | None = PROVIDER,
    config: dict[str, Any] | None = None,
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        type_, props, urn_of(type_, name), name, options(protect), provider, PROD if config is None else config
    )


def stack_resource(type_: str, props: dict[str, Any], name: str, **deps: list[PolicyResource]) -> PolicyResource:
    return PolicyResource(type_, props, urn_of(type_, name), name, options(), PROVIDER, None, [], dict(deps))


def violations(validator: Callable[..., None], args: Any) -> list[str]:
    """Run a validator as the pack would, collecting what it reports."""
    reported: list[str] = []
    validator(args, lambda message, urn=None: reported.append(message))
    return reported


def passes(validator: Callable[..., None], args: Any) -> None:
    found = violations(validator, args)
    assert not found, f"{getattr(args, 'urn', 'stack')}: expected no violation, got {found}"


def fails(validator: Callable[..., None], args: Any, *expected: str) -> list[str]:
    found = violations(validator, args)
    where = getattr(args, "urn", "stack")
    assert found, f"{where}: expected a violation from {validator.__name__}, got none"
    for text in expected:
        assert any(text in message for message in found), f"{where}: no violation mentions {text!r}: {found}"
    return found


# --- 1. region-consistency -------------------------------------------------------------------------


def test_provider_in_the_stack_region_passes():
    passes(region_rules.region_consistency_validator, resource_args(common.PROVIDER_TYPE, {"awsRegion": "eu-west-1"}))


def test_provider_in_another_region_fails():
    args = resource_args(common.PROVIDER_TYPE, {"awsRegion": "us-east-1"}, provider=None)
    fails(region_rules.region_consistency_validator, args, "us-east-1", "eu-west-1")


def test_provider_with_an_unknown_region_code_fails():
    args = resource_args(common.PROVIDER_TYPE, {"awsRegion": "eu-west-9"}, provider=None, config={})
    fails(region_rules.region_consistency_validator, args, "not a Genesys Cloud region code")


def test_hosts_of_the_stack_region_and_global_hosts_pass():
    props = {
        "configRequest": {"requestUrlTemplate": "https://api.mypurecloud.ie/api/v2/externalcontacts/contacts"},
        "description": "See help.mypurecloud.com/articles/create-an-oauth-client/",
    }
    passes(region_rules.region_consistency_validator, resource_args(common.INTEGRATION_ACTION, props))


@pytest.mark.parametrize(
    "url",
    [
        "https://login.mypurecloud.com/oauth/token",
        "https://api.mypurecloud.com.au/api/v2/users",
        "wss://webmessaging.usw2.pure.cloud/v1",
        "https://api.euw9.pure.cloud/",
    ],
)
def test_hosts_of_another_region_fail(url: str):
    args = resource_args(common.INTEGRATION_ACTION, {"configRequest": {"requestUrlTemplate": url}})
    fails(region_rules.region_consistency_validator, args, "configRequest.requestUrlTemplate")


def test_region_falls_back_to_the_provider_aws_region():
    args = resource_args(common.FLOW, {"substitutions": {"api": "https://api.mypurecloud.de"}}, config={})
    fails(region_rules.region_consistency_validator, args, "eu-west-1", "mypurecloud.de")


# --- 2, 3. OAuth clients ---------------------------------------------------------------------------

CC_CLIENT = {"authorizedGrantType": "CLIENT-CREDENTIALS", "roles": [{"roleId": "role-id", "divisionId": "div"}]}


def test_client_credentials_client_with_roles_passes():
    passes(access_rules.oauth_client_grant_shape_validator, resource_args(common.OAUTH_CLIENT, CC_CLIENT))


def test_client_credentials_client_with_scopes_and_no_roles_fails():
    props = {"authorizedGrantType": "CLIENT-CREDENTIALS", "roles": [], "scopes": ["routing"]}
    fails(
        access_rules.oauth_client_grant_shape_validator, resource_args(common.OAUTH_CLIENT, props), "no roles", "scopes"
    )


def test_code_grant_client_with_known_scopes_passes():
    props = {"authorizedGrantType": "CODE", "scopes": ["webdeployments:readonly", "user-basic-info"]}
    passes(access_rules.oauth_client_grant_shape_validator, resource_args(common.OAUTH_CLIENT, props))


@pytest.mark.parametrize("scope", ["messaging:write", "all"])
def test_code_grant_client_with_an_unknown_scope_fails(scope: str):
    props = {"authorizedGrantType": "CODE", "scopes": ["routing", scope]}
    fails(access_rules.oauth_client_grant_shape_validator, resource_args(common.OAUTH_CLIENT, props), scope)


def test_code_grant_client_with_roles_fails():
    props = {"authorizedGrantType": "TOKEN", "scopes": ["routing"], "roles": [{"roleId": "r"}]}
    fails(
        access_rules.oauth_client_grant_shape_validator, resource_args(common.OAUTH_CLIENT, props), "roles apply only"
    )


@pytest.mark.parametrize("seconds", [None, 300, 3600, 172800])
def test_token_lifetime_within_the_documented_range_passes(seconds: int | None):
    props = {**CC_CLIENT, "accessTokenValiditySeconds": seconds}
    passes(access_rules.oauth_token_lifetime_validator, resource_args(common.OAUTH_CLIENT, props))


@pytest.mark.parametrize("seconds", [299, 172801, 38_880_000])
def test_token_lifetime_outside_the_documented_range_fails(seconds: int):
    props = {**CC_CLIENT, "accessTokenValiditySeconds": seconds}
    fails(access_rules.oauth_token_lifetime_validator, resource_args(common.OAUTH_CLIENT, props), str(seconds))


# --- 4. roles and grants ---------------------------------------------------------------------------

READ_ROLE = {"permissionPolicies": [{"domain": "externalContacts", "entityName": "contact", "actionSets": ["view"]}]}
WRITE_ROLE = {"permissionPolicies": [{"domain": "routing", "entityName": "queue", "actionSets": ["view", "edit"]}]}


def test_role_with_exact_permissions_passes():
    passes(access_rules.no_admin_like_role_validator, resource_args(common.AUTH_ROLE, WRITE_ROLE))


@pytest.mark.parametrize("field", ["domain", "entityName", "actionSets"])
def test_role_with_a_wildcard_fails(field: str):
    policy = {**WRITE_ROLE["permissionPolicies"][0]}
    policy[field] = ["*"] if field == "actionSets" else "*"
    args = resource_args(common.AUTH_ROLE, {"permissionPolicies": [policy]})
    fails(access_rules.no_admin_like_role_validator, args, field, "admin-like")


def grant_stack(role_props: dict[str, Any], division: str, role_id: str = "role-id") -> StackValidationArgs:
    role = stack_resource(common.AUTH_ROLE, role_props, "role")
    client_props = {"authorizedGrantType": "CLIENT-CREDENTIALS", "roles": [{"roleId": role_id, "divisionId": division}]}
    client = stack_resource(common.OAUTH_CLIENT, client_props, "client", roles=[role])
    return StackValidationArgs([role, client], PROD)


def test_write_role_granted_in_one_division_passes():
    passes(access_rules.no_all_divisions_write_grant_validator, grant_stack(WRITE_ROLE, "division-id"))


def test_read_only_role_granted_in_all_divisions_passes():
    passes(access_rules.no_all_divisions_write_grant_validator, grant_stack(READ_ROLE, "*"))


def test_write_role_granted_in_all_divisions_fails():
    fails(access_rules.no_all_divisions_write_grant_validator, grant_stack(WRITE_ROLE, "*"), "all divisions", "role")


def test_write_role_with_an_unknown_id_is_judged_by_property_dependencies():
    fails(access_rules.no_all_divisions_write_grant_validator, grant_stack(WRITE_ROLE, "*", role_id=common.UNKNOWN))


# A client-credentials deployer can grant only roles it holds; it cannot hold one created in the
# same run (provider v1.84.1 oauth_client/resource_genesyscloud_oauth_client_schema.go:94).
def test_grant_of_a_role_created_in_the_same_stack_fails():
    fails(
        access_rules.no_same_run_role_grant_validator,
        grant_stack(READ_ROLE, "division-id"),
        "created in this same stack",
    )


def test_grant_of_a_same_stack_role_with_an_unknown_id_fails():
    args = grant_stack(READ_ROLE, "division-id", role_id=common.UNKNOWN)
    fails(access_rules.no_same_run_role_grant_validator, args, "bootstrap/")


def test_grant_of_a_role_looked_up_by_name_passes():
    client_props = {"authorizedGrantType": "CLIENT-CREDENTIALS", "roles": [{"roleId": "looked-up", "divisionId": "d"}]}
    client = stack_resource(common.OAUTH_CLIENT, client_props, "client")
    passes(access_rules.no_same_run_role_grant_validator, StackValidationArgs([client], PROD))


# --- 5. web deployments ----------------------------------------------------------------------------

DEPLOYMENT = {"allowedDomains": ["www.example.com"], "flowId": "flow-id", "configuration": {"id": "www-config-id"}}


def test_wired_deployment_passes():
    passes(messenger_rules.web_deployment_wiring_validator, resource_args(common.DEPLOYMENT, DEPLOYMENT))


def test_deployment_without_flow_or_configuration_fails():
    args = resource_args(common.DEPLOYMENT, {"allowedDomains": ["www.example.com"], "configuration": {}})
    fails(messenger_rules.web_deployment_wiring_validator, args, "flowId", "configuration")


def test_prod_deployment_with_explicit_domains_passes():
    passes(messenger_rules.prod_deployment_allowed_domains_validator, resource_args(common.DEPLOYMENT, DEPLOYMENT))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"allowAllDomains": True, "allowedDomains": None}, "allowAllDomains"),
        ({"allowedDomains": []}, "no allowedDomains"),
        ({"allowedDomains": ["*"]}, "'*'"),
    ],
)
def test_prod_deployment_open_to_all_domains_fails(change: dict[str, Any], problem: str):
    args = resource_args(common.DEPLOYMENT, {**DEPLOYMENT, **change})
    fails(messenger_rules.prod_deployment_allowed_domains_validator, args, problem)


def test_open_staging_deployment_is_advisory_not_mandatory():
    args = resource_args(common.DEPLOYMENT, {**DEPLOYMENT, "allowAllDomains": True}, config=STAGING)
    passes(messenger_rules.prod_deployment_allowed_domains_validator, args)
    fails(messenger_rules.deployment_allowed_domains_validator, args, "allowAllDomains")
    prod_args = resource_args(common.DEPLOYMENT, {**DEPLOYMENT, "allowAllDomains": True})
    passes(messenger_rules.deployment_allowed_domains_validator, prod_args)


def messenger_stack(enabled: Any, reference: Any = "www-config-id", config: dict | None = None) -> StackValidationArgs:
    # The configuration's `id` output, as the engine has it once the configuration exists.
    settings = {"authenticationSettings": {"enabled": enabled, "integrationId": "oidc"}, "id": "www-config-id"}
    configuration = stack_resource(common.CONFIGURATION, settings, "www-config")
    deployment = stack_resource(common.DEPLOYMENT, {**DEPLOYMENT, "configuration": {"id": reference}}, "www")
    return StackValidationArgs([configuration, deployment], PROD if config is None else config)


def test_prod_deployment_on_an_authenticated_configuration_passes():
    passes(messenger_rules.prod_messenger_authentication_validator, messenger_stack(True))


def test_prod_deployment_on_an_unauthenticated_configuration_fails():
    fails(
        messenger_rules.prod_messenger_authentication_validator,
        messenger_stack(False),
        "authenticationSettings.enabled",
    )


def test_unknown_configuration_id_falls_back_to_the_dependency_record():
    # In a real preview the configuration's id is unknown; the engine records which resource it came from.
    configuration = stack_resource(
        common.CONFIGURATION, {"authenticationSettings": {"enabled": False, "integrationId": "oidc"}}, "www-config"
    )
    deployment = stack_resource(
        common.DEPLOYMENT, {**DEPLOYMENT, "configuration": {"id": common.UNKNOWN}}, "www", configuration=[configuration]
    )
    args = StackValidationArgs([configuration, deployment], PROD)
    fails(messenger_rules.prod_messenger_authentication_validator, args, "authenticationSettings.enabled")


def test_staging_is_not_checked():
    passes(messenger_rules.prod_messenger_authentication_validator, messenger_stack(False, config=STAGING))


def test_prod_deployment_on_a_configuration_the_stack_does_not_declare_fails_closed():
    # Unknown id and no dependency on a declared configuration: authentication cannot be proven.
    fails(
        messenger_rules.prod_messenger_authentication_validator,
        messenger_stack(True, reference=common.UNKNOWN),
        "cannot be",
    )
    fails(
        messenger_rules.prod_messenger_authentication_validator,
        messenger_stack(True, reference="someone-elses"),
        "no config",
    )


def test_prod_deployment_depending_on_two_configurations_fails_closed():
    first, second = (
        stack_resource(common.CONFIGURATION, {"authenticationSettings": {"enabled": True}}, name)
        for name in ("a-config", "b-config")
    )
    deployment = stack_resource(
        common.DEPLOYMENT, {**DEPLOYMENT, "configuration": {"id": common.UNKNOWN}}, "www", configuration=[first, second]
    )
    args = StackValidationArgs([first, second, deployment], PROD)
    fails(messenger_rules.prod_messenger_authentication_validator, args, "two or more configurations")


def test_prod_configuration_whose_authentication_is_unknown_fails_closed():
    fails(
        messenger_rules.prod_messenger_authentication_validator,
        messenger_stack(common.UNKNOWN),
        "not known before deploy",
    )


def test_grant_in_all_divisions_of_a_role_the_stack_does_not_declare_fails():
    # An existing role by literal id (an admin role, say) in '*': nothing proves it read-only.
    client_props = {"authorizedGrantType": "CLIENT-CREDENTIALS", "roles": [{"roleId": "admin-role", "divisionId": "*"}]}
    client = stack_resource(common.OAUTH_CLIENT, client_props, "outsider")
    fails(access_rules.no_all_divisions_write_grant_validator, StackValidationArgs([client], PROD), "does not declare")


def test_grant_whose_division_is_unknown_fails_closed():
    client_props = {
        "authorizedGrantType": "CLIENT-CREDENTIALS",
        "roles": [{"roleId": "r", "divisionId": common.UNKNOWN}],
    }
    client = stack_resource(common.OAUTH_CLIENT, client_props, "client")
    fails(
        access_rules.no_all_divisions_write_grant_validator,
        StackValidationArgs([client], PROD),
        "not known before deploy",
    )


# --- 6. data actions -------------------------------------------------------------------------------


def test_https_data_action_passes():
    props = {"configRequest": {"requestType": "GET", "requestUrlTemplate": "https://crm.example.com/c/${input.id}"}}
    passes(data_action_rules.data_action_https_validator, resource_args(common.INTEGRATION_ACTION, props))


def test_genesys_api_path_data_action_passes():
    props = {"configRequest": {"requestType": "GET", "requestUrlTemplate": "/api/v2/externalcontacts/contacts?q=x"}}
    passes(data_action_rules.data_action_https_validator, resource_args(common.INTEGRATION_ACTION, props))


@pytest.mark.parametrize("url", ["http://crm.example.com/c", "${input.baseUrl}/c", "//crm.example.com/c"])
def test_non_https_data_action_fails(url: str):
    props = {"configRequest": {"requestType": "GET", "requestUrlTemplate": url}}
    fails(data_action_rules.data_action_https_validator, resource_args(common.INTEGRATION_ACTION, props), "https")


@pytest.mark.parametrize("token", [common.INTEGRATION_ACTION, common.CUSTOM_AUTH_ACTION])
@pytest.mark.parametrize("url", ["https://${input.sub}.zendesk.com/x", "https://${credentials.loginUrl}"])
def test_a_data_action_host_computed_by_velocity_fails(url: str, token: str):
    props = {"configRequest": {"requestType": "POST", "requestUrlTemplate": url}}
    fails(data_action_rules.data_action_https_validator, resource_args(token, props), "computes its host")


def test_a_custom_auth_action_over_http_fails():
    props = {"configRequest": {"requestType": "POST", "requestUrlTemplate": "http://login.example.com/token"}}
    fails(data_action_rules.data_action_https_validator, resource_args(common.CUSTOM_AUTH_ACTION, props), "https")


# --- 7. secrets ------------------------------------------------------------------------------------


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def test_secret_named_inputs_that_are_secrets_pass():
    props = {
        "fields": secret({"clientId": "id", "clientSecret": "s3cret"}),
        "outboundNotificationWebhookSignatureSecretToken": secret("token-value"),
        "accessTokenValiditySeconds": 3600,
        "exposeClientSecret": False,
        "directoryClientSecret": "/tmp/secrets",
    }
    passes(policy_check.secret_inputs_encrypted_validator, resource_args(common.OAUTH_CLIENT, props))


def test_plain_text_secret_named_inputs_fail():
    props = {"fields": {"username": "u", "password": "hunter2"}, "apiKey": "k"}
    fails(
        policy_check.secret_inputs_encrypted_validator,
        resource_args(common.OAUTH_CLIENT, props),
        "fields.password",
        "apiKey",
    )


def test_the_secret_check_is_preflights_not_the_packs():
    # In a real preview pulumi-policy unwraps secrets, so a pack rule could never tell them from plain text.
    assert "secret-inputs-encrypted" not in {rule.id for rule in rules.RULES}
    assert policy_check.SECRET_RULE.level == "mandatory"


# --- 8, 9. protection and providers ----------------------------------------------------------------


@pytest.mark.parametrize("type_", [common.OAUTH_CLIENT, common.DEPLOYMENT, common.FLOW, common.ROUTING_QUEUE])
def test_protected_prod_resources_pass_and_unprotected_fail(type_: str):
    passes(protection_rules.prod_protected_resources_validator, resource_args(type_, {}, protect=True))
    fails(protection_rules.prod_protected_resources_validator, resource_args(type_, {}, protect=False), "not protected")


def test_unprotected_staging_resources_pass():
    passes(protection_rules.prod_protected_resources_validator, resource_args(common.FLOW, {}, config=STAGING))


# routing_queue/resource_genesyscloud_routing_queue_members.go:82-95 (provider v1.84.1): without
# ignore_members and with no members, create and update remove every agent from the queue.
@pytest.mark.parametrize("props", [{"ignoreMembers": True}, {"members": [{"userId": "u1", "ringNum": 1}]}])
def test_queue_that_ignores_or_lists_members_passes(props: dict[str, Any]):
    passes(protection_rules.queue_members_explicit_validator, resource_args(common.ROUTING_QUEUE, props))


@pytest.mark.parametrize("props", [{}, {"ignoreMembers": False}, {"members": []}, {"ignoreMembers": None}])
def test_queue_that_would_lose_its_agents_fails(props: dict[str, Any]):
    fails(
        protection_rules.queue_members_explicit_validator, resource_args(common.ROUTING_QUEUE, props), "ignoreMembers"
    )


def test_program_queue_keeps_agents_assigned_in_genesys(run):
    queues = [r for r in run.resources if r.type == common.ROUTING_QUEUE]
    assert queues
    for queue in queues:
        assert queue.inputs.get("ignoreMembers") is True, f"{queue.urn}: agents would be removed on every up"


def test_explicit_provider_passes():
    passes(protection_rules.explicit_genesys_provider_validator, resource_args(common.FLOW, {}))


def test_default_or_missing_provider_fails():
    default = PolicyProviderResource(
        common.PROVIDER_TYPE,
        {},
        "urn:pulumi:prod::genesys-messaging::pulumi:providers:genesyscloud::default_1_84_1",
        "d",
    )
    fails(
        protection_rules.explicit_genesys_provider_validator,
        resource_args(common.FLOW, {}, provider=default),
        "default",
    )
    fails(
        protection_rules.explicit_genesys_provider_validator,
        resource_args(common.FLOW, {}, provider=None),
        "no provider",
    )


# --- the pack's props: proxied, with unknowns ------------------------------------------------------


def test_validators_survive_unknown_values_in_proxied_props():
    props = unknown_checking_proxy(
        {
            "authorizedGrantType": "CLIENT-CREDENTIALS",
            "roles": [{"roleId": UNKNOWN_STRING, "divisionId": UNKNOWN_STRING}],
            "accessTokenValiditySeconds": UNKNOWN_STRING,
            "description": UNKNOWN_STRING,
        }
    )
    args = resource_args(common.OAUTH_CLIENT, props, protect=True)
    reported = {}
    for rule in rules.RULES:
        if not rule.stack:
            reported[rule.id] = violations(rule.validator, args)  # no crash on a proxied unknown
    # A rule that reads an unknown value says it cannot verify it; none passes it silently or misjudges it.
    assert reported.pop("oauth-token-lifetime") == [
        f"{args.urn}: accessTokenValiditySeconds is not known before deploy, so this rule cannot verify it. "
        "Give the lifetime as a literal."
    ]
    assert all(found == [] for found in reported.values()), reported


# --- evaluate(): preflight's entry -----------------------------------------------------------------


def declared(type_: str, name: str, props: dict[str, Any], *, protect: bool = True, provider: str = "") -> dict:
    return {
        "urn": urn_of(type_, name),
        "type": type_,
        "name": name,
        "props": props,
        "provider": provider if provider else f"{PROVIDER_URN}::genesyscloud-id",
        "protect": protect,
        "parent": "",
    }


def good_stack() -> list[dict]:
    return [
        {**declared(common.PROVIDER_TYPE, "genesyscloud", {"awsRegion": "eu-west-1"}), "provider": ""},
        declared(common.AUTH_ROLE, "role", READ_ROLE),
        # The compliant client grants a role that exists already (bootstrap/), not the one above.
        declared(
            common.OAUTH_CLIENT,
            "client",
            {
                **CC_CLIENT,
                "roles": [{"roleId": "bootstrap-role-id", "divisionId": "div"}],
                "accessTokenValiditySeconds": 3600,
            },
        ),
        declared(common.CONFIGURATION, "www-config", {"authenticationSettings": {"enabled": True}}),
        declared(common.DEPLOYMENT, "www", DEPLOYMENT),
        declared(common.FLOW, "flow", {"filepath": "flows/inbound.yaml", "substitutions": {"c": secret("pw")}}),
        declared(
            common.INTEGRATION_ACTION,
            "lookup",
            {"configRequest": {"requestUrlTemplate": "https://api.mypurecloud.ie/x"}},
        ),
    ]


def test_evaluate_finds_nothing_in_a_compliant_stack():
    found = evaluate(good_stack(), PROD)
    assert found == [], f"unexpected violations: {[(v.rule_id, v.urn) for v in found]}"


def test_evaluate_reports_rule_level_urn_and_fix():
    resources = good_stack()
    resources[2]["props"] = {**resources[2]["props"], "accessTokenValiditySeconds": 38_880_000}
    resources[4] = declared(common.DEPLOYMENT, "www", {**DEPLOYMENT, "allowAllDomains": True}, protect=False)
    resources[5]["props"] = {"filepath": "f.yaml", "substitutions": {"password": "plain"}}
    found = {(v.rule_id, v.urn): v for v in evaluate(resources, PROD)}
    expected = {
        ("oauth-token-lifetime", resources[2]["urn"]),
        ("prod-deployment-allowed-domains", resources[4]["urn"]),
        ("prod-protected-resources", resources[4]["urn"]),
        ("secret-inputs-encrypted", resources[5]["urn"]),
    }
    assert set(found) == expected, f"violations {sorted(found)} != {sorted(expected)}"
    for (rule_id, urn), violation in found.items():
        assert violation.level == EXPECTED_LEVELS[rule_id], f"{urn}: {rule_id} level {violation.level}"
        rule = rules.RULES_BY_ID.get(rule_id, policy_check.SECRET_RULE)
        assert violation.fix == rule.fix, f"{urn}: {rule_id} fix {violation.fix!r}"
        assert violation.message, f"{urn}: {rule_id} has no message"


def test_evaluate_levels_follow_the_environment():
    resources = good_stack()
    resources[4] = declared(common.DEPLOYMENT, "www", {**DEPLOYMENT, "allowAllDomains": True})
    levels = {v.rule_id: v.level for v in evaluate(resources, STAGING)}
    assert levels == {"deployment-allowed-domains": "advisory"}, f"{resources[4]['urn']}: {levels}"


def test_evaluate_resolves_mock_ids_for_stack_rules():
    resources = good_stack()
    resources[1]["props"] = WRITE_ROLE
    resources[2]["props"] = {**CC_CLIENT, "roles": [{"roleId": "role-id", "divisionId": "*"}]}
    resources[3]["props"] = {"authenticationSettings": {"enabled": False}}
    found = {(v.rule_id, v.urn) for v in evaluate(resources, PROD)}
    assert ("no-all-divisions-write-grant", resources[2]["urn"]) in found, f"{resources[2]['urn']}: {found}"
    assert ("prod-messenger-authentication", resources[3]["urn"]) in found, f"{resources[3]['urn']}: {found}"


def test_evaluate_checks_region_and_provider_references():
    resources = good_stack()
    resources[0]["props"] = {"awsRegion": "us-east-1"}
    resources[6]["provider"] = "urn:pulumi:prod::genesys-messaging::pulumi:providers:genesyscloud::default::id"
    found = {(v.rule_id, v.urn) for v in evaluate(resources, PROD)}
    assert ("region-consistency", resources[0]["urn"]) in found, f"{resources[0]['urn']}: {found}"
    assert ("explicit-genesys-provider", resources[6]["urn"]) in found, f"{resources[6]['urn']}: {found}"


# --- the pack, as the Pulumi CLI runs it --------------------------------------------------------------


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack as the Pulumi CLI starts it: a fresh interpreter running `python -u -m pulumi.policy <engine> .` in
    the pack's directory (pulumi.policy runs __main__.py with runpy), without the repository on sys.path; the
    analyzer prints its port and the engine talks gRPC to it."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH" and not key.startswith("PULUMI_")}
    stderr = tmp_path_factory.mktemp("pack") / "stderr.txt"
    with stderr.open("wb") as errors:
        process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "."],
            cwd=ROOT / "policy",
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
    try:
        assert process.stdout is not None
        # A selector, not select.select: the suite's process may already hold more than 1024 descriptors.
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            ready = selector.select(timeout=60)
        port = process.stdout.readline().decode().strip() if ready else ""
        assert port.isdigit(), f"the pack did not start (port line {port!r}):\n{stderr.read_text()}"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.wait(timeout=30)


def level_name(level: int) -> str:
    return analyzer_pb2.EnforcementLevel.Name(level).lower()


def test_the_cli_builds_the_pack_with_every_rule_once_at_its_level(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    names = [policy.name for policy in info.policies]
    assert len(names) == len(set(names)), f"duplicate policies in the pack: {names}"
    levels = {policy.name: level_name(policy.enforcementLevel) for policy in info.policies}
    expected = {rule_id: level for rule_id, level in EXPECTED_LEVELS.items() if rule_id != "secret-inputs-encrypted"}
    assert levels == expected, f"the pack's policies and levels {levels} != the reviewed ones {expected}"
    # The policies that take the stack context are those the committed policy config sets.
    contextual = {policy.name for policy in info.policies if set(policy.configSchema.properties) >= {"region"}}
    assert contextual == set(json.loads((ROOT / "policy" / "config.prod.json").read_text())), contextual


def test_the_cli_built_pack_analyzes_a_preview_resource_with_policy_config_and_unknowns(analyzer):
    # As the engine does: Configure every policy at the level the pack declares, with policy/config.prod.json's
    # values, then Analyze one resource with unknowns.
    configure = analyzer_pb2.ConfigureAnalyzerRequest()
    for policy in analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30).policies:
        configure.policyConfig[policy.name].enforcementLevel = policy.enforcementLevel
    for rule_id, values in json.loads((ROOT / "policy" / "config.prod.json").read_text()).items():
        configure.policyConfig[rule_id].properties.update(values)
    analyzer.Configure(configure, timeout=30)
    urn = urn_of(common.DEPLOYMENT, "www")
    request = analyzer_pb2.AnalyzeRequest(type=common.DEPLOYMENT, urn=urn, name="www")
    request.properties.update({**DEPLOYMENT, "allowAllDomains": True, "flowId": UNKNOWN_STRING})
    request.provider.type, request.provider.urn, request.provider.name = (
        common.PROVIDER_TYPE,
        PROVIDER_URN,
        "genesyscloud",
    )
    request.provider.properties.update({"awsRegion": "eu-west-1"})
    diagnostics = analyzer.Analyze(request, timeout=30).diagnostics
    found = {(d.policyName, level_name(d.enforcementLevel)) for d in diagnostics}
    assert found == {("prod-deployment-allowed-domains", "mandatory"), ("prod-protected-resources", "mandatory")}, (
        f"{urn}: {[(d.policyName, d.message) for d in diagnostics]}"
    )


# --- each rule's level is declared beside it; the pack imports nothing of the program ------------------

# Where rules are declared: the pack's concern modules, and preflight's own check.
RULE_SOURCES = (*sorted((ROOT / "policy").glob("*_rules.py")), ROOT / "preflight" / "policy_check.py")


def rule_declarations() -> list[tuple[str, Any, Any, Any]]:
    """(module, id, level, validator name) of every `Rule(...)` written in a rule source, read from the source."""
    found = []
    for path in RULE_SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Rule":
                keywords = {keyword.arg: keyword.value for keyword in node.keywords}
                literal = {key: value.value for key, value in keywords.items() if isinstance(value, ast.Constant)}
                validator = keywords.get("validator")
                name = validator.id if isinstance(validator, ast.Name) else None
                found.append((path.stem, literal.get("id"), literal.get("level"), name))
    return found


def test_every_rule_declares_its_level_beside_its_validator():
    declarations = rule_declarations()
    ids = [rule_id for _, rule_id, _, _ in declarations]
    assert len(ids) == len(set(ids)), f"a rule id is declared twice: {sorted(ids)}"
    every_rule = {rule.id: rule for rule in (*rules.RULES, policy_check.SECRET_RULE)}
    assert set(ids) == set(every_rule), f"declared with a literal id {sorted(ids)} != run {sorted(every_rule)}"
    for module, rule_id, level, validator in declarations:
        rule = every_rule[rule_id]
        assert level in ("mandatory", "advisory"), f"{module}.py: {rule_id} declares level {level!r}"
        assert level == rule.level, f"{module}.py: {rule_id} declares {level!r} but runs at {rule.level!r}"
        assert validator == rule.validator.__name__, f"{module}.py: {rule_id} validator {validator}"
        assert rule.validator.__module__.rsplit(".", 1)[-1] == module, (
            f"{rule_id}: its validator lives in {rule.validator.__module__}, not beside the rule in {module}.py"
        )


def test_every_rule_runs_at_its_reviewed_level():
    levels = {rule.id: rule.level for rule in (*rules.RULES, policy_check.SECRET_RULE)}
    assert levels == EXPECTED_LEVELS, f"levels {levels} != the reviewed ones {EXPECTED_LEVELS}"


def test_a_rule_without_a_known_level_is_refused():
    level: Any = "warn"
    with pytest.raises(ValueError, match="'warn' is not one of mandatory, advisory"):
        common.Rule(id="some-rule", level=level, description="Do.", fix="Fix.", validator=print)


def test_the_pack_imports_only_the_stdlib_its_requirements_and_its_own_modules():
    # Any module the pack imports must exist where the CLI runs it: the pack's directory and its virtualenv.
    modules = sorted((ROOT / "policy").glob("*.py"))
    own = {path.stem for path in modules}
    requirements = [
        line.strip() for line in (ROOT / "policy" / "requirements.txt").read_text().splitlines() if line[:1].isalpha()
    ]
    allowed = set(sys.stdlib_module_names) | {line.split("==")[0].replace("-", "_") for line in requirements}
    assert {"__main__", "rules", "common"} <= own and "pulumi_policy" in allowed, (own, allowed)
    offenders = []
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                targets = [node.module] if node.module else [alias.name for alias in node.names]
                offenders += [f"{path.name}: from .{t}" for t in targets if t.split(".")[0] not in own]
            elif isinstance(node, ast.ImportFrom):
                offenders += [f"{path.name}: from {node.module}"] if node.module.split(".")[0] not in allowed else []
            elif isinstance(node, ast.Import):
                offenders += [
                    f"{path.name}: import {a.name}" for a in node.names if a.name.split(".")[0] not in allowed
                ]
    assert not offenders, "the pack imports what the CLI's run does not have (program code?):\n" + "\n".join(offenders)


# --- the pack's data: generated from the program's, never a copy ------------------------------------


def test_policy_data_is_generated_from_the_program_data():
    # The facts the pack shares with the program (regions, environments, token range, type tokens) are written
    # into policy_data.json by the generator; hand edits there or a program change not regenerated fail here.
    from scripts import generate_policy_data

    committed = (ROOT / "policy" / "policy_data.json").read_text()
    assert committed == generate_policy_data.expected_text(), (
        "policy/policy_data.json is stale against the program's data: run `make policy-data` "
        "(python scripts/generate_policy_data.py) and commit the result"
    )


def test_policy_data_generator_check_fails_on_a_stale_file(tmp_path: Path):
    stale = json.loads((ROOT / "policy" / "policy_data.json").read_text())
    stale["regions"]["eu-west-1"] = "mypurecloud.example"
    stale["typeTokens"].pop("genesyscloud_flow")
    target = tmp_path / "policy_data.json"
    target.write_text(json.dumps(stale))
    script = [sys.executable, str(ROOT / "scripts" / "generate_policy_data.py"), "--output", str(target)]
    check = subprocess.run([*script, "--check"], capture_output=True, text=True, cwd=tmp_path)
    assert check.returncode == 1 and "make policy-data" in check.stderr, check
    assert json.loads(target.read_text()) == stale, "--check must write nothing"
    subprocess.run(script, check=True, capture_output=True, cwd=tmp_path)
    regenerated = json.loads(target.read_text())
    # Hand-written scenario values (provider.go getRegionMap; provider_schema.json's flow token).
    assert regenerated["regions"]["eu-west-1"] == "mypurecloud.ie"
    assert regenerated["typeTokens"]["genesyscloud_flow"] == "genesyscloud:index/flow:Flow"
    assert regenerated["knownScopes"] == stale["knownScopes"], "the pack's own keys are kept"
    assert subprocess.run([*script, "--check"], capture_output=True, cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_policy_config_matches_the_stack_file(stack: str):
    config = json.loads((ROOT / "policy" / f"config.{stack}.json").read_text())
    stack_config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    assert set(config) == set(rules.CONTEXT_RULES), f"config.{stack}.json covers {sorted(config)}"
    for rule_id, values in config.items():
        assert values == {
            "region": stack_config["genesys-messaging:region"],
            "environment": stack_config["genesys-messaging:environment"],
        }, f"config.{stack}.json {rule_id}: {values} disagrees with Pulumi.{stack}.yaml"


# --- unknown means unproven: a first preview that cannot know a value fails and says so --------------


@pytest.mark.parametrize(
    ("validator", "type_", "props", "field"),
    [
        (region_rules.region_consistency_validator, common.PROVIDER_TYPE, {"awsRegion": UNKNOWN_STRING}, "awsRegion"),
        (
            access_rules.oauth_client_grant_shape_validator,
            common.OAUTH_CLIENT,
            {"authorizedGrantType": UNKNOWN_STRING},
            "grant",
        ),
        (
            access_rules.oauth_token_lifetime_validator,
            common.OAUTH_CLIENT,
            {"accessTokenValiditySeconds": UNKNOWN_STRING},
            "accessTokenValiditySeconds",
        ),
        (
            data_action_rules.data_action_https_validator,
            common.INTEGRATION_ACTION,
            {"configRequest": {"requestUrlTemplate": UNKNOWN_STRING}},
            "requestUrlTemplate",
        ),
        (
            messenger_rules.web_deployment_wiring_validator,
            common.DEPLOYMENT,
            {"flowId": "f", "configuration": UNKNOWN_STRING},
            "configuration",
        ),
    ],
    ids=["region", "grant-type", "token-lifetime", "data-action-url", "deployment-configuration"],
)
def test_a_value_unknown_at_preview_is_reported_not_passed(validator, type_, props, field):
    found = fails(validator, resource_args(type_, props), "not known before deploy")
    assert any(field in message for message in found), found
