"""`python -m preflight doctor` against a fake org: each check through its ok and problem paths.

Every run asserts that neither the client secret nor any access token reaches stdout or stderr, in any form a
server may echo them (URL-encoded, base64, as an HTTP Basic header, cut short), and that no traceback does.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import os
import socket
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from components.genesys_api import GenesysApi, retry_after_seconds
from components.messenger_identity import oidc_integration_spec
from components.regions import regions
from components.settings import load_from_stack_file
from preflight import doctor as doctor_cli
from preflight import doctor_checks, doctor_configuration, estate_view
from preflight.__main__ import main
from preflight.doctor import CLIENT_ID_VAR, CLIENT_SECRET_VAR
from preflight.doctor_checks import ACCESS_TOKEN_ENV_VAR, REGION_ENV_VARS
from preflight.estate_view import (
    Configuration,
    DataAction,
    Deployment,
    Flow,
    IdentityResolution,
    Integration,
    RoleGrant,
)
from preflight.inprocess import Run, run_program
from tests.conftest import EXAMPLES, ROOT, example_config
from tests.conftest import planned_once as planned
from tests.fake_genesys import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    ECHO_FORMS,
    OIDC_TYPE_NAME,
    WITHHELD,
    FakeOrg,
    policies,
    serve,
)
from tests.leak_detector import recognisable_form

OIDC_FILE = "components/oidc_integration.yaml"
GRANTED = ("contact-lookup",)
"""Roles the stacks grant, by hand: the Data Actions client's read-only contact-lookup role (README "What a stack
creates", Access); the doctor must check the deployer holds each (provider v1.84.1 oauth_client schema.go:94)."""
# Names the staging example (tests/fixtures/Pulumi.staging.yaml, namePrefix stg-) gives its objects, by hand.
STG_OIDC = "stg-Messenger OpenID Connect"
STG_CRM = "stg-CRM Data Actions"
STG_FLOW = "stg-Inbound Web Messaging"


def role_name(key: str) -> str:
    """The org's name of a role bootstrap/ declares, by hand: `genesys-messaging <role key>`."""
    return f"genesys-messaging {key}"


STALE_ENV_TOKEN = "stale-env-token-0d9e8f7a"
SECRETS = (CLIENT_SECRET, ACCESS_TOKEN, STALE_ENV_TOKEN)
LEAK_PREFIX = 8
"""A secret's first characters that must not show either: what a cut echo leaves."""
ODD_SECRET = "Odd se+cr/et=&%7e-4c2b9d1a"
"""A secret every URL encoding changes (space, +, /, =, &, %)."""


def leak_forms(secret: str) -> list[str]:
    """What must never reach the output for one secret: itself, URL-encoded, base64, the HTTP Basic header built
    from it, and the first LEAK_PREFIX characters of each (cut short at a truncation)."""
    basic = base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()
    # Of the Basic form, the part that encodes the client id (not secret) may show; from there on nothing may.
    basic_prefix = basic[: len(base64.b64encode(f"{CLIENT_ID}:".encode()).decode().rstrip("=")) + LEAK_PREFIX]
    forms = [secret, quote(secret, safe=""), quote(secret), quote_plus(secret), basic, basic_prefix]
    forms += [base64.b64encode(secret.encode()).decode(), secret[:LEAK_PREFIX]]
    # base64 of any text containing the secret: pad it to each alignment, keep the characters only it decides.
    for pad in ("", "x", "xx"):
        encoded = base64.b64encode(f"{pad}{secret}".encode()).decode()
        forms.append(encoded[4 if pad else 0 : 4 * (len(pad + secret) // 3)][:16])
    return list(dict.fromkeys(forms))


def assert_nothing_leaked(text: str) -> None:
    for secret in (os.environ.get(CLIENT_SECRET_VAR) or CLIENT_SECRET, *SECRETS):
        for form in leak_forms(secret):
            assert form not in text, f"secret leaked as {form!r}"
        # Any form at all (issue 25): decoded, unescaped, squeezed, reversed, casefolded (tests/leak_detector.py).
        found = recognisable_form(text, secret)
        assert found is None, f"a recognisable part of a secret ({found!r}) shows"
    assert "Traceback" not in text


@dataclass
class Report:
    code: int
    out: str
    err: str
    document: dict[str, Any] | None
    seconds: float = 0.0

    def check(self, check_id: str) -> dict[str, Any]:
        assert self.document is not None, f"no JSON report; stderr: {self.err}"
        found = [c for c in self.document["checks"] if c["check"] == check_id]
        assert found, f"no check {check_id}: {[c['check'] for c in self.document['checks']]}"
        return found[0]

    def text(self, check_id: str) -> str:
        c = self.check(check_id)
        return " ".join([c["summary"], *c["evidence"], c["fix"]])

    @property
    def cause(self) -> dict[str, Any]:
        assert self.document is not None and self.document["cause"], f"no cause in {self.out}"
        return self.document["cause"]


def staging_settings():
    return load_from_stack_file(example_config("staging"))


def stack_division() -> str:
    return staging_settings().division


@pytest.fixture
def org() -> FakeOrg:
    return FakeOrg(staging_settings())


@pytest.fixture
def doctor(org: FakeOrg, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> Iterator[Callable]:
    """Run the doctor in-process against the fake org; returns a Report and checks no secret leaked."""
    monkeypatch.chdir(ROOT)
    for var in (*REGION_ENV_VARS, ACCESS_TOKEN_ENV_VAR):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(CLIENT_ID_VAR, CLIENT_ID)
    monkeypatch.setenv(CLIENT_SECRET_VAR, CLIENT_SECRET)
    monkeypatch.setenv("COLUMNS", "400")  # rich tables: one line per cell, so phrases are not wrapped
    monkeypatch.setattr(doctor_cli, "run_program", planned)
    with serve(org) as base:
        assert base.startswith("http://127.0.0.1:")
        fake_logins = {code: f"{base}/login/{code}" for code in regions()}
        monkeypatch.setattr(doctor_checks, "region_login_urls", lambda: fake_logins)

        example = ("--config-file", str(EXAMPLES / "Pulumi.staging.yaml"))

        def run(*extra: str, fmt: str = "json", source: tuple[str, ...] = example) -> Report:
            argv = ["doctor", *source, "--format", fmt, "--timeout", "2", "--api-url", base]
            argv += ["--login-url", f"{base}/login/eu-west-1"]
            argv += ["--discovery-url", f"{base}/idp/.well-known/openid-configuration", *extra]
            started = time.monotonic()
            code = main(argv)
            seconds = time.monotonic() - started
            out, err = capsys.readouterr()
            assert_nothing_leaked(out + err)
            document = json.loads(out) if fmt == "json" and out.strip() else None
            return Report(code, out, err, document, seconds)

        run.base = base
        yield run


def statuses(report: Report) -> dict[str, str]:
    assert report.document is not None
    return {c["check"]: c["status"] for c in report.document["checks"]}


# --- a healthy org ---------------------------------------------------------------------------------


def test_healthy_org_passes_every_check(doctor):
    report = doctor()
    assert report.code == 0, report.out
    assert set(statuses(report).values()) == {"ok"}, statuses(report)
    assert report.document["result"] == "ok" and report.document["cause"] is None
    assert "confirmed on this org" in report.text("oidc-integration")
    assert report.check("oidc-keys")["summary"] == "every key exists in the org's schemas"
    assert report.check("granted-roles")["summary"] == f"holds every role the stack grants in '{stack_division()}'"


def test_healthy_org_text_report(doctor):
    report = doctor(fmt="text")
    assert report.code == 0
    assert "All checks passed." in report.out
    assert "Token exchange (client credentials)" in report.out


def test_paged_listings_are_followed(doctor, org):
    org.page_size = 1
    report = doctor()
    assert report.code == 0, report.out
    assert org.hits[("GET", "/api/v2/integrations/types")] == len(org.integration_types)


# --- 1. token exchange and region --------------------------------------------------------------------


def test_wrong_region_without_probing_keeps_credentials_home(doctor, org):
    org.home_region = "eu-central-1"
    report = doctor()
    assert report.code == 1
    assert report.cause["check"] == "token"
    assert "rejects these credentials" in report.cause["summary"]
    assert "--probe-regions" in report.cause["fix"]
    posts = {path for (method, path) in org.hits if method == "POST"}
    assert posts == {"/login/eu-west-1/oauth/token"}, posts
    assert statuses(report)["deployment:www"] == "skipped"


def test_probing_names_the_region_the_client_lives_in(doctor, org):
    org.home_region = "eu-central-1"
    report = doctor("--probe-regions", fmt="text")
    assert report.code == 1
    assert "wrong region: the client lives in eu-central-1, the stack is in eu-west-1" in report.out
    assert "Most likely cause: Token exchange" in report.out


def test_probing_with_a_wrong_secret_says_no_region_accepts(doctor, monkeypatch):
    monkeypatch.setenv(CLIENT_SECRET_VAR, "not-the-secret-" + CLIENT_SECRET)
    report = doctor("--probe-regions")
    assert report.code == 1
    assert report.cause["summary"] == "no region's login host accepts these credentials"


@pytest.mark.parametrize(
    ("var", "value"),
    [("GENESYSCLOUD_REGION", "eu-central-1"), ("GENESYSCLOUD_API_REGION", "https://api.mypurecloud.de")],
)
def test_environment_region_contradicting_the_stack(doctor, monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    report = doctor()
    assert report.code == 1
    assert report.check("environment")["status"] == "problem"
    assert f"{var}={value} means eu-central-1, the stack says eu-west-1" in report.text("environment")


def test_environment_region_agreeing_with_the_stack(doctor, monkeypatch):
    monkeypatch.setenv("GENESYSCLOUD_REGION", "mypurecloud.ie")
    report = doctor()
    assert report.code == 0
    assert "agrees (eu-west-1)" in report.text("environment")


@pytest.mark.parametrize(
    ("token", "seen"),
    [
        (ACCESS_TOKEN, "GENESYSCLOUD_ACCESS_TOKEN is accepted by the API: a run now would use it"),
        (STALE_ENV_TOKEN, "GENESYSCLOUD_ACCESS_TOKEN is rejected (GET /api/v2/tokens/me -> 401"),
        (" ", None),
    ],
    ids=["valid", "stale", "blank"],
)
def test_any_access_token_in_the_environment_is_a_problem(doctor, monkeypatch, token, seen):
    # The provider uses any non-empty access_token ahead of the client credentials (provider/provider.go:333-352
    # at v1.84.1, written out here by hand), so a valid token is as much a problem as a stale one.
    monkeypatch.setenv(ACCESS_TOKEN_ENV_VAR, token)
    report = doctor()
    assert report.code == 1
    check = report.check("environment")
    assert check["status"] == "problem"
    assert check["summary"] == "GENESYSCLOUD_ACCESS_TOKEN is set"
    assert "the provider uses a non-empty access token ahead of the client credentials" in check["evidence"][0]
    assert "provider/provider.go:333-352" in check["evidence"][0]
    assert "rewrites that user's roles" in check["evidence"][0]
    assert check["fix"].startswith("unset GENESYSCLOUD_ACCESS_TOKEN")
    assert "subshell" in check["fix"]
    if seen:
        assert any(e.startswith(seen) for e in check["evidence"]), check["evidence"]
    else:
        assert len(check["evidence"]) == 1, "a blank token is not sent anywhere"
    assert report.cause["check"] == "environment"


def test_access_token_and_a_contradicting_region_are_both_named(doctor, monkeypatch):
    monkeypatch.setenv(ACCESS_TOKEN_ENV_VAR, STALE_ENV_TOKEN)
    monkeypatch.setenv("GENESYSCLOUD_REGION", "eu-central-1")
    check = doctor().check("environment")
    assert "GENESYSCLOUD_REGION=eu-central-1 means eu-central-1, the stack says eu-west-1" in check["evidence"]
    assert check["fix"].startswith("unset GENESYSCLOUD_ACCESS_TOKEN")
    assert "unset the region variables named" in check["fix"]


def test_no_access_token_leaves_the_environment_ok(doctor):
    assert doctor().check("environment")["status"] == "ok"


def test_secrets_echoed_by_a_server_are_redacted(doctor, org, monkeypatch):
    org.echo_credentials = True
    org.home_region = "eu-central-1"
    monkeypatch.setenv(ACCESS_TOKEN_ENV_VAR, STALE_ENV_TOKEN)
    for fmt in ("json", "text"):
        report = doctor("--probe-regions", fmt=fmt)  # the fixture asserts no secret in the output
        # Only the status and a known code or message of an error body show (components/api_errors.json).
        assert "-> 400: invalid_client " + WITHHELD in report.out or fmt == "text"
        assert "-> 401: bad.credentials " + WITHHELD in report.out or fmt == "text"  # the echoed message is not known


# --- 3. grant type, roles and permissions ------------------------------------------------------------


def test_client_with_scopes_and_no_roles(doctor, org):
    org.client.update(scope=["messaging:write", "conversations"], roleDivisions=[])
    report = doctor()
    assert report.code == 1
    assert report.cause["check"] == "client"
    assert report.cause["summary"] == "the client has no roles, so its token carries no permissions"
    assert "do not apply to client-credentials clients" in report.text("client")
    assert report.check("permissions")["status"] == "problem"


def test_role_missing_a_deployer_permission(doctor, org):
    held = [p for p in doctor_checks.required_permissions() if p != "webDeployments:deployment:edit"]
    org.roles["role-deployer"]["permissionPolicies"] = policies(held)
    report = doctor()
    assert report.code == 1
    assert report.cause["check"] == "permissions"
    assert "lack 1 permission(s): webDeployments:deployment:edit" in report.cause["summary"]


def test_provider_must_hold_the_roles_it_grants(doctor, org):
    # bootstrap/ drift: the org's contact-lookup role lost its one permission.
    org.roles["role-contact-lookup"]["permissionPolicies"] = []
    report = doctor()
    assert "missing externalContacts:contact:view: granted by the stack in role 'contact-lookup'" in report.text(
        "permissions"
    )


def test_wildcard_policies_hold_every_permission(doctor, org):
    org.roles["role-deployer"]["permissionPolicies"] = [{"domain": "*", "entityName": "*", "actionSet": ["*"]}]
    assert doctor().check("permissions")["status"] == "ok"


def test_client_that_cannot_read_itself(doctor, org):
    org.forbidden.add("/api/v2/oauth/clients/")
    report = doctor()
    assert report.cause["check"] == "client"
    assert "oauth:client:view" in report.cause["fix"]
    assert "403" in report.text("client")
    assert statuses(report)["granted-roles"] == "skipped"


# --- 3b. the client holds the roles the stack grants, in the stack's division ---------------------------


def _grants(org: FakeOrg, role_key: str) -> list[dict[str, Any]]:
    return [g for g in org.client["roleDivisions"] if g["roleId"] == f"role-{role_key}"]


@pytest.mark.parametrize("key", GRANTED)
def test_client_not_holding_a_role_the_stack_grants(doctor, org, key):
    org.client["roleDivisions"] = [g for g in org.client["roleDivisions"] if g["roleId"] != f"role-{key}"]
    report = doctor()
    assert report.code == 1
    role, division = role_name(key), org.settings.division
    check = report.check("granted-roles")
    assert (
        check["summary"]
        == f"client 'pulumi-deployer' holds role '{role}' nowhere, not in '{division}': it cannot grant it"
    )
    assert "run bootstrap/ (pulumi up in bootstrap/" in check["fix"]
    assert f"grant role '{role}' in division '{division}' to client 'pulumi-deployer'" in check["fix"]


@pytest.mark.parametrize("key", GRANTED)
def test_role_held_in_another_division(doctor, org, key):
    for grant in _grants(org, key):
        grant["divisionId"] = "division-sandbox"
    check = doctor().check("granted-roles")
    assert check["status"] == "problem"
    assert (
        f"holds role '{role_name(key)}' only in division 'Sandbox', not in '{org.settings.division}'"
        in (check["summary"])
    )


@pytest.mark.parametrize("key", GRANTED)
def test_role_held_in_all_divisions(doctor, org, key):
    for grant in _grants(org, key):
        grant["divisionId"] = "*"
    assert doctor().check("granted-roles")["status"] == "ok"


@pytest.mark.parametrize("key", GRANTED)
def test_role_the_stack_grants_missing_from_the_org(doctor, org, key):
    del org.roles[f"role-{key}"]
    check = doctor().check("granted-roles")
    assert check["summary"] == f"role '{role_name(key)}' does not exist in the org: bootstrap/ has not run here"
    assert check["fix"].startswith("run bootstrap/")


def test_stack_division_missing_from_the_org(doctor, org):
    org.divisions = [d for d in org.divisions if d["name"] != org.settings.division]
    check = doctor().check("granted-roles")
    assert check["summary"] == f"no division named '{org.settings.division}' (genesys-messaging:division)"


def test_forbidden_role_listing_names_the_permission(doctor, org):
    org.forbidden.add("/api/v2/authorization/roles")
    check = doctor().check("granted-roles")
    assert check["status"] == "problem" and check["fix"].startswith("add authorization:role:view")


def test_forbidden_deployment_listing_names_the_permission(doctor, org):
    org.forbidden.add("/api/v2/webdeployments/deployments")
    report = doctor()
    assert report.check("deployment:www")["fix"].startswith("add webDeployments:deployment:view")


# --- 4. deployments, configurations and flows ------------------------------------------------------------


def test_inactive_deployment(doctor, org):
    org.deployment("www")["status"] = "Inactive"
    report = doctor()
    assert report.code == 1
    assert report.check("deployment:www")["summary"] == "status is Inactive, not Active"
    assert report.check("deployment:support")["status"] == "ok"


def test_missing_domain(doctor, org):
    org.deployment("www")["allowedDomains"] = ["www.staging.example.com"]
    report = doctor()
    assert "allowedDomains lack example-staging.netlify.app" in report.check("deployment:www")["summary"]


def test_allow_all_domains(doctor, org):
    org.deployment("support")["allowAllDomains"] = True
    assert "allowAllDomains is true" in doctor().text("deployment:support")


def test_missing_deployment(doctor, org):
    org.deployments = [d for d in org.deployments if d["id"] != "deployment-www"]
    report = doctor()
    assert report.check("deployment:www")["summary"] == "no web deployment named 'stg-www'"


def test_unpublished_configuration(doctor, org):
    version = org.config_versions[("configuration-www", "4")]
    version.update(status="Pending", datePublished=None)
    assert "configuration version 4 is not published" in doctor().check("deployment:www")["summary"]


def test_authentication_disabled(doctor, org):
    org.config_versions[("configuration-support", "4")]["authenticationSettings"]["enabled"] = False
    report = doctor()
    assert (
        report.check("deployment:support")["summary"] == "authenticated messaging is off in the published configuration"
    )


def test_authentication_pointing_at_another_integration(doctor, org):
    org.config_versions[("configuration-www", "4")]["authenticationSettings"]["integrationId"] = "integration-other"
    assert "uses integration integration-other" in doctor().check("deployment:www")["summary"]


def test_unpublished_flow(doctor, org):
    org.flows["flow-inbound"]["publishedVersion"] = None
    report = doctor()
    assert report.code == 1
    assert report.check("flow:www")["summary"] == "the flow has never been published: messages have nowhere to go"


def test_flow_of_the_wrong_type(doctor, org):
    org.flows["flow-inbound"]["type"] = "INBOUNDCALL"
    assert doctor().check("flow:support")["summary"] == "the flow is of type INBOUNDCALL, not INBOUNDSHORTMESSAGE"


def test_deployment_without_a_flow_looks_the_flow_up_by_name(doctor, org):
    org.deployment("www")["flow"] = None
    report = doctor()
    assert report.check("flow:www")["summary"] == "the deployment routes to no flow; the stack's flow exists"
    assert org.hits[("GET", "/api/v2/flows")] == 1


# --- 5. identity provider ---------------------------------------------------------------------------------


def test_inactive_oidc_integration(doctor, org):
    org.integration(STG_OIDC).update(intendedState="DISABLED", reportedState={"code": "INACTIVE"})
    report = doctor()
    assert report.code == 1
    assert report.check("oidc-integration")["summary"].startswith("the integration is not active")


def test_unverified_integration_type_missing_on_the_org(doctor, org):
    guessed = org.settings.oidc_integration_type
    org.oidc_type()["id"] = "oidc-messenger-v2"
    org.config_schemas["oidc-messenger-v2"] = org.config_schemas.pop(guessed)
    report = doctor()
    text = report.text("oidc-integration")
    assert f"'{guessed}' (genesys-messaging:oidcIntegrationType) does not exist on this org" in text
    assert "oidc-messenger-v2 (OpenID Connect Messenger Configuration)" in text
    assert (
        "pulumi config set genesys-messaging:oidcIntegrationType oidc-messenger-v2"
        in report.check("oidc-integration")["fix"]
    )
    # The keys are still checked, against the type the org really has.
    assert report.check("oidc-keys")["status"] == "ok"
    assert "checked against type 'oidc-messenger-v2'" in report.text("oidc-keys")


def test_no_openid_type_on_the_org_skips_the_keys(doctor, org):
    org.integration_types.remove(org.oidc_type())
    report = doctor()
    assert "pulumi config set genesys-messaging:oidcIntegrationType <id of" in report.check("oidc-integration")["fix"]
    assert report.check("oidc-keys")["status"] == "skipped"


# Each scenario plays a file that guessed one key wrong: the org's key is the file's with a V2 suffix.
OIDC = oidc_integration_spec()


@pytest.mark.parametrize("key", list(OIDC["properties"]))
def test_wrong_oidc_property_key(doctor, org, key):
    schema = org.config_schemas[org.settings.oidc_integration_type]
    schema["properties"] = {k if k != key else f"{key}V2": v for k, v in schema["properties"].items()}
    schema["properties"]["displayName"] = {"type": "string"}  # a decoy: the closest key is still named
    schema["required"] = [k if k != key else f"{key}V2" for k in schema["required"]]
    report = doctor()
    assert report.code == 1
    type_id, text = org.settings.oidc_integration_type, report.text("oidc-keys")
    assert (
        f"{OIDC_FILE} properties.{key}: '{key}' is not a property of type {type_id}; the closest is '{key}V2'" in text
    )
    assert f"type {type_id} requires '{key}V2', which the file does not set" in text
    assert report.check("oidc-keys")["fix"].startswith(f"edit {OIDC_FILE}")


def test_wrong_oidc_credential_slot(doctor, org):
    slot = OIDC["credential"]["slot"]
    org.oidc_type()["credentials"] = {f"{slot}V2": org.oidc_type()["credentials"][slot]}
    text = doctor().text("oidc-keys")
    assert f"{OIDC_FILE} credential.slot: '{slot}' is not a credential slot of type " in text
    assert f"the closest is '{slot}V2'" in text
    assert f"also requires slot '{slot}V2'" in text


def test_wrong_oidc_credential_type(doctor, org):
    wrong = OIDC["credential"]["type"]
    org.oidc_credential_type()["name"] = f"{wrong}V2"
    org.oidc_type()["credentials"][OIDC["credential"]["slot"]]["credentialTypes"] = [f"{wrong}V2"]
    text = doctor().text("oidc-keys")
    slot = OIDC["credential"]["slot"]
    assert (
        f"{OIDC_FILE} credential.type: '{wrong}' is not accepted in slot '{slot}'; the closest is '{wrong}V2'" in text
    )
    assert "credential.fields not checked" in text


@pytest.mark.parametrize("field", list(OIDC["credential"]["fields"]))
def test_wrong_oidc_credential_field(doctor, org, field):
    ctype = org.oidc_credential_type()
    ctype["properties"] = {k if k != field else f"{field}V2": v for k, v in ctype["properties"].items()}
    ctype["required"] = [k if k != field else f"{field}V2" for k in ctype["required"]]
    text = doctor().text("oidc-keys")
    wrong_type = OIDC["credential"]["type"]
    assert f"{OIDC_FILE} credential.fields.{field}: '{field}' is not a field of credential type {wrong_type}" in text
    assert f"the closest is '{field}V2'" in text


def test_forbidden_credential_types_names_the_permission(doctor, org):
    org.forbidden.add("/api/v2/integrations/credentials/types")
    check = doctor().check("oidc-keys")
    assert check["status"] == "problem" and check["fix"].startswith("add integrations:integration:view")


def test_discovery_issuer_mismatch(doctor, org):
    org.discovery["issuer"] = "https://login.staging.example.com/realms/other"
    report = doctor()
    assert report.check("idp-discovery")["summary"].startswith("issuer https://login.staging.example.com/realms/other")
    assert "--discovery-url, standing in for https://login.staging.example.com" in report.text("idp-discovery")


def test_discovery_document_without_issuer(doctor, org):
    del org.discovery["issuer"]
    report = doctor()
    assert report.check("idp-discovery")["summary"] == "the discovery document has no issuer"


def test_discovery_document_not_found(doctor):
    report = doctor("--discovery-url", doctor.base + "/idp/missing/.well-known/openid-configuration")
    assert report.check("idp-discovery")["summary"] == "the discovery document cannot be read"
    assert "identityProvider.discoveryUri" in report.check("idp-discovery")["fix"]


# --- 6. CRM data action -----------------------------------------------------------------------------------


def test_missing_crm_action(doctor, org):
    org.actions[0]["category"] = "Some Other Integration"
    text = doctor().text("crm-action")
    assert "no data action 'stg-CRM Data Actions/Look up customer by external id'" in text
    assert "Some Other Integration/Look up customer by external id" in text


def test_crm_action_with_a_disabled_integration(doctor, org):
    org.integration(STG_CRM).update(intendedState="DISABLED", reportedState={"code": "INACTIVE"})
    report = doctor()
    assert report.check("crm-action")["summary"].startswith("the action's integration is not active")
    assert "no last test/execution result" in report.text("crm-action")


# --- network behaviour -----------------------------------------------------------------------------------


def test_rate_limit_is_retried_honouring_retry_after(doctor, org):
    org.rate_limited["/api/v2/webdeployments/deployments"] = 2
    report = doctor()
    assert report.code == 0, report.out
    assert org.hits[("GET", "/api/v2/webdeployments/deployments")] == 3


def test_persistent_rate_limit_is_a_bounded_problem(doctor, org):
    org.rate_limited["/api/v2/integrations/types"] = 100
    report = doctor()
    assert report.code == 1
    assert report.check("oidc-integration")["summary"] == "rate limited"
    assert "wait a minute" in report.check("oidc-integration")["fix"]
    assert org.hits[("GET", "/api/v2/integrations/types")] == 4


def test_stalled_api_times_out_with_a_clear_message(doctor, org):
    org.stalled.add("/api/v2/webdeployments/")
    report = doctor("--timeout", "0.3")
    assert report.code == 1
    assert "within the timeout" in report.text("deployment:www")
    assert "larger --timeout" in report.check("deployment:www")["fix"]


def test_stalled_login_host_times_out(doctor, org):
    org.stalled.add("/login/")
    report = doctor("--timeout", "0.3", fmt="text")
    assert report.code == 1
    assert "cannot reach the eu-west-1 login host" in report.out


def test_tls_failure_is_named(doctor):
    https = doctor.base.replace("http://", "https://")
    report = doctor("--login-url", f"{https}/login/eu-west-1")
    assert report.check("token")["summary"] == "cannot reach the eu-west-1 login host"
    assert "TLS handshake with 127.0.0.1 failed" in report.text("token")
    assert "SSL_CERT_FILE" in report.check("token")["fix"]


def test_tls_handshake_against_a_plain_http_server(org):
    with serve(org) as base, GenesysApi(base, timeout=2) as api:
        outcome = api.exchange_token(base.replace("http://", "https://") + "/login/eu-west-1", CLIENT_ID, "x")
    assert outcome.error is not None and outcome.error.kind == "tls", outcome.error
    assert str(outcome.error).startswith("TLS handshake with 127.0.0.1 failed")


def _raising(error: BaseException) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        try:
            raise error
        except OSError as cause:
            raise httpx.ConnectError(str(cause), request=request) from cause

    return httpx.MockTransport(handler)


def test_dns_failure_is_named():
    failure = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    with GenesysApi("https://api.mypurecloud.ie", timeout=1, transport=_raising(failure)) as api:
        outcome = api.exchange_token("https://login.mypurecloud.ie", CLIENT_ID, CLIENT_SECRET)
    assert outcome.error is not None and outcome.error.kind == "dns"
    assert str(outcome.error) == "cannot resolve login.mypurecloud.ie (DNS: Name or service not known)"


def test_retry_after_accepts_seconds_and_http_dates():
    request = httpx.Request("GET", "https://api.mypurecloud.ie/")
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "3"}, request=request)) == 3.0
    past = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, request=request)
    assert retry_after_seconds(past) == 0.0
    assert retry_after_seconds(httpx.Response(429, request=request)) is None


# --- could not run -----------------------------------------------------------------------------------------


def test_unknown_stack_is_a_usage_error(doctor):
    report = doctor(source=("--stack", "qa"))
    assert report.code == 2
    assert "unknown stack 'qa'" in report.err and "prod, staging" in report.err


def test_missing_credentials_is_a_usage_error(doctor, monkeypatch):
    monkeypatch.delenv(CLIENT_SECRET_VAR)
    report = doctor()
    assert report.code == 2
    assert "set GENESYSCLOUD_OAUTHCLIENT_SECRET" in report.err


def test_invalid_config_file_names_file_key_and_fix(doctor, tmp_path):
    bad = tmp_path / "Pulumi.broken.yaml"
    text = (EXAMPLES / "Pulumi.staging.yaml").read_text().replace("region: eu-west-1", "region: eu-west-9")
    bad.write_text(text)
    report = doctor(source=("--config-file", str(bad)))
    assert report.code == 2
    assert "Pulumi.broken.yaml: genesys-messaging:region: unknown region 'eu-west-9'" in report.err
    assert "Traceback" not in report.err


def test_placeholder_secrets_are_refused_before_any_call(doctor, org, tmp_path):
    stack = tmp_path / "Pulumi.staging.yaml"
    example = (EXAMPLES / "Pulumi.staging.yaml").read_text()
    stack.write_text(example.replace("secure: v1:ZXhhbXBsZQ==:", "secure: v1:cGxhY2Vob2xkZXI=:"))
    report = doctor(source=("--config-file", str(stack)))
    assert report.code == 2
    assert "still the committed placeholder secrets" in report.err
    assert "pulumi config set --secret --path 'genesys-messaging:crm.apiToken' <value>" in report.err
    assert not org.hits, "nothing is sent to the org"


def test_config_file_drives_the_checks(doctor, org, tmp_path):
    other = tmp_path / "Pulumi.qa.yaml"
    other.write_text((EXAMPLES / "Pulumi.staging.yaml").read_text().replace("namePrefix: stg-", "namePrefix: qa-"))
    report = doctor(source=("--config-file", str(other)))
    assert report.code == 1
    assert report.check("deployment:www")["summary"] == "no web deployment named 'qa-www'"


def test_bad_override_url_is_a_usage_error(doctor):
    report = doctor("--api-url", "api.mypurecloud.ie")
    assert report.code == 2
    assert "--api-url 'api.mypurecloud.ie' must be an https URL" in report.err


def test_credentials_never_travel_over_plain_http_to_another_host(doctor):
    report = doctor("--login-url", "http://gateway.example.com/login")
    assert report.code == 2
    assert "plain http only to localhost" in report.err


# --- the doctor looks for what the estate declares (issue 16) ----------------------------------------------


def test_the_estate_view_reads_what_the_staging_example_declares():
    estate = estate_view.read(run_program(example_config("staging")))
    # Every property of the type's Configuration tab (help.genesys.cloud "Get started with authenticated web
    # messaging"): the discovery URI from the stack, the refresh token lifetime at 24 hours.
    properties = {
        "discoveryUri": "https://login.staging.example.com/.well-known/openid-configuration",
        "maxRefreshTokenLifetime": 86400,
    }
    oidc = Integration(STG_OIDC, "openid-connect-messenger-configuration", properties)
    flow = Flow(STG_FLOW, "inboundShortMessage")
    resolution = IdentityResolution("stg-CRM", "Home", True)
    assert estate.deployments == {
        "www": Deployment(
            "www",
            "stg-www",
            ("www.staging.example.com", "example-staging.netlify.app"),
            Configuration("stg-www messenger", oidc),
            flow,
            resolution,
        ),
        "support": Deployment(
            "support",
            "stg-support",
            ("support.staging.example.com",),
            Configuration("stg-support messenger", oidc),
            flow,
            resolution,
        ),
    }
    assert estate.oidc_integration == oidc
    # Written out by hand: the staging example's identity resolution (components/web_messaging.py) and the
    # properties its OIDC integration declares (components/oidc_integration.yaml: discoveryUri).
    for deployment in estate.deployments.values():
        assert deployment.identity_resolution == IdentityResolution("stg-CRM", "Home", True)
        assert deployment.configuration.declared["headlessModeEnabled"] is True
        assert deployment.configuration.declared["messenger"] == {"enabled": True}
        assert deployment.configuration.references["identity-integration-id"] == "Integration 'identity-integration'"
    assert estate.oidc_integration.properties == properties
    crm = Integration(STG_CRM, "custom-rest-actions")
    assert estate.crm_lookup_action == DataAction(STG_CRM, "Look up customer by external id", crm)
    assert estate.role_grants == (RoleGrant("genesys-messaging contact-lookup", "Home"),)


Edit = tuple[str, tuple[str | int, ...], Any]
"""(logical name of a declared resource, path of one of its inputs, the value the program now declares)."""


def _edited(run: Run, edits: tuple[Edit, ...]) -> Run:
    """The run as if the program declared these inputs instead."""
    resources = list(run.resources)
    for logical, path, value in edits:
        (index,) = [i for i, r in enumerate(resources) if r.name == logical]
        inputs = copy.deepcopy(resources[index].inputs)
        node = inputs
        for key in path[:-1]:
            node = node[key]
        assert node[path[-1]] is not None, f"{logical}: no input {path}"
        node[path[-1]] = value
        resources[index] = dataclasses.replace(resources[index], inputs=inputs)
    return dataclasses.replace(run, resources=resources)


@dataclass(frozen=True)
class Renaming:
    """The program names (or wires) one Genesys object differently than today."""

    edits: tuple[Edit, ...]
    check: str
    summary: str
    """What the doctor says while the org still holds the object under its old name."""
    follow: Callable[[FakeOrg], Any]
    """The org once `pulumi up` of the changed program has run."""


def _oidc_type_follows(org: FakeOrg) -> None:
    org.config_schemas["oidc-messenger-v2"] = org.config_schemas.pop(org.oidc_type()["id"])
    org.oidc_type()["id"] = "oidc-messenger-v2"
    org.integration(STG_OIDC)["integrationType"]["id"] = "oidc-messenger-v2"


RENAMINGS = {
    "deployment": Renaming(
        (("site-www-deployment", ("name",), "stg-www-web"),),
        "deployment:www",
        "no web deployment named 'stg-www-web'",
        lambda org: org.deployment("www").update(name="stg-www-web"),
    ),
    "configuration": Renaming(
        (("site-www-configuration", ("name",), "stg-www chat"),),
        "deployment:www",
        "it uses configuration 'stg-www messenger', not the stack's 'stg-www chat'",
        lambda org: org.config_versions[("configuration-www", "4")].update(name="stg-www chat"),
    ),
    "flow": Renaming(
        (
            ("inbound-flow-flow", ("name",), "stg-Web Messages"),
            ("inbound-flow-flow", ("substitutions", "flow_name"), "stg-Web Messages"),
        ),
        "flow:support",
        f"the deployment routes to '{STG_FLOW}', the stack's flow is 'stg-Web Messages'",
        lambda org: org.flows["flow-inbound"].update(name="stg-Web Messages"),
    ),
    "oidc-integration": Renaming(
        (
            ("identity-integration", ("config", "name"), "stg-Customer Sign-in"),
            ("identity-credential", ("name",), "stg-Customer Sign-in"),
        ),
        "oidc-integration",
        "no integration named 'stg-Customer Sign-in'",
        lambda org: org.integration(STG_OIDC).update(name="stg-Customer Sign-in"),
    ),
    "oidc-type": Renaming(
        (("identity-integration", ("integrationType",), "oidc-messenger-v2"),),
        "oidc-integration",
        "integration type id 'oidc-messenger-v2' (genesys-messaging:oidcIntegrationType) does not exist on this org",
        _oidc_type_follows,
    ),
    "crm-action": Renaming(
        (
            ("crm-lookup-action-crm-lookup", ("name",), "Find customer by external id"),
            ("inbound-flow-flow", ("substitutions", "crm_lookup_action"), "Find customer by external id"),
        ),
        "crm-action",
        f"no data action '{STG_CRM}/Find customer by external id'",
        lambda org: org.actions[0].update(name="Find customer by external id"),
    ),
    # A role or division lookup shows in the estate as the id the mocks answered it with: role-<name>.
    "role": Renaming(
        (("access-client-contact-lookup", ("roles", 0, "roleId"), "role-genesys-messaging customer-lookup"),),
        "granted-roles",
        "role 'genesys-messaging customer-lookup' does not exist in the org: bootstrap/ has not run here",
        lambda org: org.roles["role-contact-lookup"].update(name="genesys-messaging customer-lookup"),
    ),
    "role-division": Renaming(
        (("access-client-contact-lookup", ("roles", 0, "divisionId"), "division-Sandbox"),),
        "granted-roles",
        "client 'pulumi-deployer' holds role 'genesys-messaging contact-lookup' only in division 'Home', not in "
        "'Sandbox': it cannot grant it",
        lambda org: [g.update(divisionId="division-sandbox") for g in _grants(org, "contact-lookup")],
    ),
}


@pytest.mark.parametrize("renaming", RENAMINGS.values(), ids=list(RENAMINGS))
def test_the_doctor_follows_a_renaming_in_the_estate(doctor, org, monkeypatch, renaming):
    monkeypatch.setattr(doctor_cli, "run_program", lambda stack: _edited(planned(stack), renaming.edits))
    before = doctor()
    assert before.code == 1
    assert before.check(renaming.check)["summary"] == renaming.summary
    renaming.follow(org)
    after = doctor()
    assert after.code == 0, after.out
    assert set(statuses(after).values()) == {"ok"}, statuses(after)


GAPS: dict[str, tuple[Callable[[Run], Run], str]] = {
    "no-sites": (
        lambda run: dataclasses.replace(
            run, resources=[r for r in run.resources if r.type != "genesys-messaging:index:WebMessaging"]
        ),
        "the estate declares no genesys-messaging:index:WebMessaging component (one per site)",
    ),
    "role-id-no-lookup-answered": (
        lambda run: _edited(run, (("access-client-contact-lookup", ("roles", 0, "roleId"), "3e1b-role"),)),
        "OauthClient 'access-client-contact-lookup' grants a role id '3e1b-role' that no role lookup answered",
    ),
    "unauthenticated-configuration": (
        lambda run: _edited(run, (("site-www-configuration", ("authenticationSettings", "enabled"), False),)),
        "WebdeploymentsConfiguration 'site-www-configuration' does not declare authenticated messaging",
    ),
    "dangling-flow": (
        lambda run: _edited(run, (("site-www-deployment", ("flowId",), "inbound-flow-v2-flow-id"),)),
        "the estate should declare one Flow that WebdeploymentsDeployment 'site-www-deployment' flowId points at, "
        "found none",
    ),
}


@pytest.mark.parametrize(("gap", "message"), GAPS.values(), ids=list(GAPS))
def test_an_estate_the_doctor_cannot_follow_stops_it_before_any_call(doctor, org, monkeypatch, gap, message):
    monkeypatch.setattr(doctor_cli, "run_program", lambda stack: gap(planned(stack)))
    report = doctor()
    assert report.code == 2
    assert report.err.startswith("doctor: the planned stack lacks what the doctor looks for on the org: "), report.err
    assert message in report.err
    assert "fix: make preflight/estate_view.py follow the program's change" in report.err
    assert not org.hits, "nothing is sent to the org"


def test_a_deployment_on_another_configuration(doctor, org):
    org.config_versions[("configuration-www", "4")]["name"] = "stg-support messenger"
    report = doctor()
    assert report.check("deployment:www")["summary"] == (
        "it uses configuration 'stg-support messenger', not the stack's 'stg-www messenger'"
    )
    assert report.check("deployment:support")["status"] == "ok"


# --- hostile or broken servers (issue 14): URLs, deadlines, classification, redaction --------------------

# Each of these sends the credentials (or the token) somewhere other than the loopback host it seems to name,
# or over plain http to another host: http://127.0.0.1:80@evil.example is evil.example, with user info.
CREDENTIAL_CARRYING_URLS = [
    "http://127.0.0.1:80@evil.example",
    "http://[::1]:1@evil.example/login",
    "http://localhost@evil.example",
    "https://user:hunter2@login.mypurecloud.ie",
    "http://localhost\\@evil.example",
    "http://127.0.0.1.evil.example",
    "http://evil.example#@127.0.0.1",
    "http://127.0.0.1:99999",
    "ftp://127.0.0.1/login",
]


@pytest.mark.parametrize("option", ["--api-url", "--login-url", "--discovery-url"])
@pytest.mark.parametrize("url", CREDENTIAL_CARRYING_URLS)
def test_urls_that_would_carry_credentials_elsewhere_are_refused(doctor, org, option, url):
    report = doctor(option, url)
    assert report.code == 2, report.out
    assert report.err.startswith(f"doctor: {option} "), report.err
    assert "hunter2" not in report.err
    assert not org.hits, "nothing is sent anywhere"


@pytest.mark.parametrize("url", ["http://localhost:{port}", "http://127.0.0.2:{port}/x", "http://[::1]:{port}"])
def test_plain_http_to_loopback_is_allowed(doctor, url):
    report = doctor("--discovery-url", url.format(port=1))
    assert report.code == 1  # nothing listens there: a network problem, not a refused URL
    assert report.check("idp-discovery")["summary"] == "the discovery document cannot be read"


def test_login_redirect_is_named_and_not_followed(doctor, org):
    org.login_answer = (302, {"Location": "https://collector.evil.example/steal?x=1"}, {})
    report = doctor("--probe-regions")
    token = report.check("token")
    assert token["summary"] == "the eu-west-1 login host answers with a redirect, which is not followed"
    assert "redirect to collector.evil.example, not followed" in report.text("token")
    assert "rejects these credentials" not in report.out and "probe" not in report.text("token")
    assert {p for (m, p) in org.hits if m == "POST"} == {"/login/eu-west-1/oauth/token"}, "no region was probed"


def test_api_redirect_is_named_and_not_followed(doctor, org):
    org.redirects["/api/v2/webdeployments/deployments"] = "https://mirror.evil.example/deployments"
    report = doctor()
    assert report.code == 1
    assert "GET /api/v2/webdeployments/deployments -> 302: redirect to mirror.evil.example, not followed" in (
        report.text("deployment:www")
    )
    assert "never follows a redirect" in report.check("deployment:www")["fix"]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_login_outage_is_an_outage_not_wrong_credentials(doctor, org, status):
    org.login_answer = (status, {"Retry-After": "30"}, {"message": "Service Unavailable"})
    report = doctor("--probe-regions", "--deadline", "5")
    token = report.check("token")
    assert token["summary"] == f"the eu-west-1 login host is unavailable ({status}): an outage, not your credentials"
    assert "retry later" in token["fix"]
    assert "probe" not in report.text("token") and "rejects" not in report.text("token")
    assert {p for (m, p) in org.hits if m == "POST"} == {"/login/eu-west-1/oauth/token"}, "no region was probed"
    assert report.seconds < 5


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (403, "token.expired", "Token is invalid or expired"),
        (403, "not.authorized", "Token is invalid or expired"),
        (401, "bad.credentials", "Invalid login credentials."),
    ],
    ids=["token-expired", "message-only", "unauthorized"],
)
def test_a_token_refused_on_every_call_is_one_problem(doctor, org, status, code, message):
    org.token_rejection = (status, code, message)
    report = doctor()
    assert report.code == 1
    problems = [c for c in report.document["checks"] if c["status"] == "problem"]
    assert [c["check"] for c in problems] == ["client"], problems
    assert report.cause["summary"] == "the API rejects the token the login host has just minted"
    shown = report.text("client")
    assert f"-> {status}: " in shown
    # A known code and message show; an unknown code or message is withheld, it might carry the token.
    assert (code in shown) == (code != "not.authorized")
    assert (message in shown) == (message == "Invalid login credentials.")
    assert "region" in report.cause["fix"] and "missing" not in report.out
    api_gets = [p for (m, p) in org.hits if m == "GET" and p.startswith("/api/")]
    assert api_gets == [f"/api/v2/oauth/clients/{CLIENT_ID}"], "no call after the token was refused"
    skipped = {c["check"] for c in report.document["checks"] if c["status"] == "skipped"}
    assert {"permissions", "granted-roles", "deployment:www", "crm-action"} <= skipped


def test_missing_permission_is_still_a_permission_problem(doctor, org):
    org.forbidden.add("/api/v2/integrations/actions")
    check = doctor().check("crm-action")
    assert check["fix"].startswith("add integrations:action:view")


def test_trickling_headers_are_cut_at_the_request_limit(doctor, org):
    org.trickled.add("/api/v2/webdeployments/deployments")
    report = doctor("--timeout", "0.4")
    text = report.text("deployment:www")
    assert "GET /api/v2/webdeployments/deployments: no complete answer from 127.0.0.1 within the timeout" in text
    assert "larger --timeout" in report.check("deployment:www")["fix"]
    assert report.seconds < 8  # four calls of at most 0.4 s each; uncut, each takes ~15 s


def test_trickling_body_is_cut_at_the_request_limit(doctor, org):
    org.trickled.add("/api/v2/integrations/types")
    org.trickle_body_only = True
    report = doctor("--timeout", "0.4")
    assert "GET /api/v2/integrations/types: no complete answer" in report.text("oidc-integration")
    assert report.seconds < 10


def test_the_deadline_bounds_the_whole_run(doctor, org):
    org.stalled.add("/api/v2/")
    report = doctor("--timeout", "0.4", "--deadline", "1.2")
    assert report.code == 1
    assert report.seconds < 4, report.seconds
    texts = " ".join(report.text(c["check"]) for c in report.document["checks"])
    assert "was cut off when the run's deadline (1.2s, --deadline) passed" in texts
    assert any(c["summary"] == "not checked: the run's --deadline had passed" for c in report.document["checks"])
    assert report.check("idp-discovery")["status"] == "skipped"


def test_retry_waits_count_against_the_deadline(doctor, org):
    org.throttle_status, org.retry_after = 503, "0.2"
    org.rate_limited["/api/v2/"] = 1000
    report = doctor("--deadline", "1")
    assert report.code == 1
    assert report.seconds < 3, report.seconds
    assert report.check("client")["summary"] == "the API host is unavailable (503)"
    assert "--deadline" in json.dumps(report.document)


def test_a_long_retry_after_is_not_waited_for(doctor, org):
    org.throttle_status, org.retry_after = 503, "30"
    org.rate_limited["/api/v2/"] = 1000
    report = doctor()
    assert report.seconds < 10, report.seconds
    assert "asked to retry after 30s, more than the 10s waited" in report.text("client")
    assert "status page" in report.check("client")["fix"]


@pytest.mark.parametrize("declared", [True, False])
def test_a_huge_answer_is_not_read(doctor, org, declared):
    org.huge.add("/api/v2/integrations/types")
    org.huge_declared = declared
    report = doctor()
    assert "GET /api/v2/integrations/types: the answer is larger than 5 MiB (not read)" in report.text(
        "oidc-integration"
    )
    assert report.seconds < 20


def _numbers_for_strings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _numbers_for_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_for_strings(v) for v in value]
    return 7 if isinstance(value, str) else value


def _nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (None if k not in ("pageCount",) else v) for k, v in value.items()}
    return value


SHAPES: dict[str, Callable[[Any], Any]] = {
    "list-for-object": lambda body: [body],
    "null": lambda body: None,
    "number": lambda body: 42,
    "numbers-for-strings": _numbers_for_strings,
    "null-values": _nulls,
    "null-entities": lambda body: {**body, "entities": [None, 3]} if isinstance(body, dict) else body,
    "entities-object": lambda body: (
        {**body, "entities": {"a": 1}, "pageCount": "many"} if isinstance(body, dict) else 1
    ),
    "deep": lambda body: json.loads("[" * 50 + "]" * 50),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_unexpected_shapes_everywhere_never_crash(doctor, org, shape):
    org.mangled.update({"/api/": SHAPES[shape], "/idp/": SHAPES[shape]})
    for fmt in ("json", "text"):
        report = doctor(fmt=fmt)  # the fixture asserts no traceback and no secret
        assert report.code == 1, report.out + report.err
    assert "unexpected response shape from /" in report.out or shape in ("null-values", "numbers-for-strings")


@pytest.mark.parametrize(
    ("path", "check"),
    [
        (f"/api/v2/oauth/clients/{CLIENT_ID}", "client"),
        ("/api/v2/authorization/roles/role-deployer", "permissions"),
        ("/api/v2/authorization/divisions", "granted-roles"),
        ("/api/v2/webdeployments/deployments", "deployment:www"),
        ("/api/v2/webdeployments/configurations/configuration-www/versions/4", "deployment:www"),
        ("/api/v2/flows/flow-inbound", "flow:www"),
        ("/api/v2/integrations/types", "oidc-integration"),
        ("/api/v2/integrations/credentials/types", "oidc-keys"),  # a bare list is one of its documented shapes
        ("/api/v2/integrations/types/{oidc_type}", "oidc-keys"),
        ("/api/v2/integrations/actions", "crm-action"),
        ("/idp/.well-known/openid-configuration", "idp-discovery"),
        ("/api/v2/webdeployments/deployments/deployment-www/identityresolution", "identity-resolution:www"),
        ("/api/v2/externalcontacts/externalsources", "identity-resolution:www"),
        ("/api/v2/integrations/integration-oidc/config/current", f"integration-properties:{STG_OIDC}"),
    ],
)
def test_unexpected_shape_names_its_path(doctor, org, path, check):
    path = path.format(oidc_type=org.settings.oidc_integration_type)
    org.mangled[path] = lambda body: {"entities": [None]} if path.endswith("credentials/types") else [body]
    report = doctor()
    assert report.check(check)["status"] == "problem"
    text = report.text(check)
    assert "unexpected response shape from " in text and path in text, text


def test_unexpected_token_answer_is_not_a_credentials_problem(doctor, org):
    org.mangled["/oauth/token"] = lambda body: [body]
    report = doctor()
    assert report.check("token")["summary"] == "the eu-west-1 login host did not answer like an OAuth token endpoint"
    assert "unexpected response shape from /login/eu-west-1/oauth/token" in report.text("token")


ESCAPES = "\x1b[2J\x1b]0;owned\x07\x9b31m\u202eevil\r\n"


def test_escape_sequences_in_org_names_are_neutralised(doctor, org):
    org.client["name"] = "deployer" + ESCAPES
    org.deployments[0]["name"] = "stg-www" + ESCAPES
    org.oidc_type()["id"] = "oidc\x1b[31m"
    org.flows["flow-inbound"]["lockedUser"] = {"id": "user-1", "name": "Jane" + ESCAPES}
    org.integration_configs["integration-oidc"]["properties"]["extra"] = "x" + ESCAPES
    report = doctor(fmt="text")
    controls = {c for c in report.out if unicodedata.category(c) == "Cc" and c != "\n"}
    assert not controls, controls
    assert "\u202e" not in report.out
    assert "deployer\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\u202eevil\\x0d\\x0a" in report.out
    assert "stg-www\\x1b[2J" in report.out
    assert "Jane\\x1b[2J" in report.out
    assert "\x1b" not in doctor().out  # JSON escapes them too


@pytest.mark.parametrize("style", ["plain", "basic", "quote", "quote_plus", "cut", "long", *ECHO_FORMS])
@pytest.mark.parametrize("secret", [CLIENT_SECRET, ODD_SECRET], ids=["secret", "odd-secret"])
def test_echoed_secrets_are_redacted_in_every_form(doctor, org, monkeypatch, style, secret):
    org.echo_credentials, org.echo_style, org.client_secret = True, style, secret
    org.home_region = "eu-central-1"
    monkeypatch.setenv(CLIENT_SECRET_VAR, secret)
    monkeypatch.setenv(ACCESS_TOKEN_ENV_VAR, STALE_ENV_TOKEN)
    for fmt in ("json", "text"):
        report = doctor("--probe-regions", fmt=fmt)  # the fixture asserts no form of any secret in the output
        assert report.code == 1
        assert WITHHELD in report.out.replace("\n", " ") or fmt == "text"  # rich may fold the table's cells


@pytest.mark.parametrize("style", ["plain", "cut", *ECHO_FORMS])
def test_a_token_the_api_quotes_back_shows_in_no_form(doctor, org, style):
    org.echo_credentials, org.echo_style = True, style
    org.token_rejection = (401, "bad.credentials", "Invalid login credentials.")
    for fmt in ("json", "text"):
        report = doctor(fmt=fmt)  # the fixture asserts no recognisable form of the token in the output
        assert report.code == 1
        # The message, with the echo, is not a known one.
        assert "-> 401: bad.credentials " + WITHHELD in report.out or fmt == "text"  # rich may fold the table's cells


@pytest.mark.parametrize(("option", "value"), [("--timeout", "0"), ("--deadline", "-1"), ("--deadline", "inf")])
def test_unusable_time_limits_are_usage_errors(doctor, org, option, value):
    report = doctor(option, value)
    assert report.code == 2
    assert f"{option} must be a positive number of seconds" in report.err
    assert not org.hits


# --- identity resolution, as the estate declares it (issue 20) --------------------------------------------

STG_SOURCE = "stg-CRM"
"""The staging example's CRM external source (namePrefix stg- + CRM), by hand."""


def test_healthy_identity_resolution_names_the_declared_source(doctor):
    report = doctor()
    for site in ("www", "support"):
        check = report.check(f"identity-resolution:{site}")
        assert check["status"] == "ok", check
        assert check["summary"] == f"on, under '{STG_SOURCE}', automerge True"


def test_identity_resolution_turned_off(doctor, org):
    org.identity_resolution["deployment-www"]["resolveIdentities"] = False
    report = doctor()
    assert report.code == 1
    check = report.check("identity-resolution:www")
    assert check["summary"] == "identity resolution is off: signed-in customers do not land on their External Contact"
    assert "pulumi up turns it back on" in check["fix"]
    assert report.check("identity-resolution:support")["status"] == "ok"


def test_identity_resolution_never_set(doctor, org):
    del org.identity_resolution["deployment-support"]  # the fake answers 404
    check = doctor().check("identity-resolution:support")
    assert check["status"] == "problem" and check["summary"].startswith("identity resolution is off")


def test_identity_resolution_under_another_source(doctor, org):
    org.external_sources.append({"id": "external-source-zendesk", "name": "Zendesk", "active": True})
    org.identity_resolution["deployment-www"]["externalSource"] = {"id": "external-source-zendesk"}
    check = doctor().check("identity-resolution:www")
    assert check["summary"] == (
        "it resolves under external source 'Zendesk' (external-source-zendesk), not the stack's "
        f"'{STG_SOURCE}' (external-source-crm)"
    )


def test_identity_resolution_source_missing_from_the_org(doctor, org):
    org.external_sources = []
    check = doctor().check("identity-resolution:www")
    assert check["summary"] == f"the stack's external source '{STG_SOURCE}' does not exist in the org"


def test_identity_resolution_source_matched_by_exact_name_not_prefix(doctor, org):
    # The listing filters by prefix (ExternalContactsApi.md): 'stg-CRM legacy' must not stand in for 'stg-CRM'.
    org.external_sources[0]["name"] = f"{STG_SOURCE} legacy"
    check = doctor().check("identity-resolution:www")
    assert check["summary"] == f"the stack's external source '{STG_SOURCE}' does not exist in the org"


def test_identity_resolution_without_automerge(doctor, org):
    org.identity_resolution["deployment-support"]["automerge"]["authenticatedWebMessaging"] = False
    check = doctor().check("identity-resolution:support")
    assert check["summary"] == "automerge for authenticated web messaging is False, the stack declares True"


def test_identity_resolution_in_another_division(doctor, org):
    org.identity_resolution["deployment-www"]["division"] = {"id": "division-sandbox"}
    check = doctor().check("identity-resolution:www")
    assert check["summary"] == f"it creates contacts in division division-sandbox, not the stack's '{stack_division()}'"


def test_identity_resolution_follows_the_declared_automerge(doctor, org, monkeypatch):
    edit = (("site-www-identity-resolution", ("automergeAuthenticated",), False),)
    monkeypatch.setattr(doctor_cli, "run_program", lambda stack: _edited(planned(stack), edit))
    report = doctor()
    assert report.check("identity-resolution:www")["summary"] == (
        "automerge for authenticated web messaging is True, the stack declares False"
    )
    org.identity_resolution["deployment-www"]["automerge"]["authenticatedWebMessaging"] = False
    assert doctor().check("identity-resolution:www")["status"] == "ok"


def test_forbidden_identity_resolution_names_the_permission(doctor, org):
    org.forbidden.add("/api/v2/webdeployments/deployments/deployment-www/identityresolution")
    check = doctor().check("identity-resolution:www")
    assert check["status"] == "problem"
    assert "webDeployments:identityResolution:view" in check["fix"]


def test_a_stack_without_identity_resolution_skips_the_check(doctor, monkeypatch):
    def without(run: Run) -> Run:
        kept = [r for r in run.resources if r.name != "site-www-identity-resolution"]
        return dataclasses.replace(run, resources=kept)

    monkeypatch.setattr(doctor_cli, "run_program", lambda stack: without(planned(stack)))
    report = doctor()
    assert report.check("identity-resolution:www")["status"] == "skipped"
    assert report.check("identity-resolution:support")["status"] == "ok"


# --- a flow locked by someone else (issue 20; provider issue #316) ----------------------------------------

FLOW_LOCK = f"flow-lock:{STG_FLOW}"


def test_unlocked_flow(doctor):
    check = doctor().check(FLOW_LOCK)
    assert check["status"] == "ok" and check["summary"] == "not locked"


def test_flow_locked_by_a_person_names_them(doctor, org):
    org.flows["flow-inbound"]["lockedUser"] = {"id": "user-jane", "name": "Jane Doe", "email": "jane@example.com"}
    org.flows["flow-inbound"]["lockedClient"] = {"id": "architect-ui-client", "name": "Architect"}
    report = doctor()
    assert report.code == 1
    check = report.check(FLOW_LOCK)
    assert check["summary"] == (
        f"flow '{STG_FLOW}' is locked by user 'Jane Doe' (user-jane, jane@example.com) through OAuth client "
        "'Architect' (architect-ui-client): the provider cannot publish it"
    )
    assert check["fix"].startswith("ask user 'Jane Doe' (user-jane, jane@example.com) to save or discard")
    assert "force_unlock" in check["fix"] and "non-prod stacks only, never prod" in check["fix"]
    assert any("#316" in e for e in check["evidence"])


def test_flow_locked_by_another_client(doctor, org):
    org.flows["flow-inbound"]["lockedClient"] = {"id": "client-ci-old", "name": "old-ci-deployer"}
    check = doctor().check(FLOW_LOCK)
    assert check["summary"] == (
        f"flow '{STG_FLOW}' is locked by OAuth client 'old-ci-deployer' (client-ci-old): the provider cannot publish it"
    )


def test_flow_locked_by_the_deployer_itself_is_not_a_problem(doctor, org):
    org.flows["flow-inbound"]["lockedClient"] = {"id": CLIENT_ID, "name": "pulumi-deployer"}
    check = doctor().check(FLOW_LOCK)
    assert check["status"] == "ok" and check["summary"] == "locked by the deployer client itself"


def test_lock_is_read_when_no_deployment_routes_to_the_flow(doctor, org):
    for deployment in org.deployments:
        deployment["flow"] = None
    org.flows["flow-inbound"]["lockedUser"] = {"id": "user-jane", "name": "Jane Doe"}
    report = doctor()
    assert report.check(FLOW_LOCK)["summary"].startswith(f"flow '{STG_FLOW}' is locked by user 'Jane Doe'")
    assert org.hits[("GET", "/api/v2/flows")] == 1, "the listing is read once for the flow and lock checks"
    assert org.hits[("GET", "/api/v2/flows/flow-inbound")] == 1


# --- declared integration properties (issue 20) -----------------------------------------------------------

PROPERTIES = f"integration-properties:{STG_OIDC}"


def _live_properties(org: FakeOrg) -> dict[str, Any]:
    return org.integration_configs["integration-oidc"]["properties"]


def test_declared_properties_held_by_the_org(doctor):
    check = doctor().check(PROPERTIES)
    assert check["status"] == "ok", check


def test_an_undeclared_property_on_the_org_is_named_with_the_diff_it_causes(doctor, org):
    _live_properties(org)["implicitFlowSupport"] = True  # a key the stack does not declare
    report = doctor()
    assert report.code == 1
    check = report.check(PROPERTIES)
    assert check["summary"].startswith("property 'implicitFlowSupport' = true on the org is not declared")
    assert "reads them all back, so every preview shows a change" in check["summary"]


def test_a_null_property_on_the_org_is_not_a_difference(doctor, org):
    # The provider's JSON equality drops the server's nulls first (util/util_json.go:15-50 at v1.84.1).
    _live_properties(org)["implicitFlowSupport"] = None
    assert doctor().check(PROPERTIES)["status"] == "ok"


@pytest.mark.parametrize("key", list(OIDC["properties"]))
def test_a_declared_property_missing_on_the_org(doctor, org, key):
    del _live_properties(org)[key]
    check = doctor().check(PROPERTIES)
    assert check["status"] == "problem"
    assert f"property '{key}' is declared (" in check["summary"] and check["summary"].endswith("but the org has none")


def test_a_property_with_another_value(doctor, org):
    _live_properties(org)["discoveryUri"] = "https://login.example.org/.well-known/openid-configuration"
    check = doctor().check(PROPERTIES)
    assert check["summary"] == (
        "property 'discoveryUri' is \"https://login.example.org/.well-known/openid-configuration\" on the org, the "
        'stack declares "https://login.staging.example.com/.well-known/openid-configuration"'
    )


def test_a_boolean_property_is_not_equal_to_a_number(doctor, org, monkeypatch):
    declared = {"discoveryUri": _live_properties(org)["discoveryUri"], "allowLogout": True}
    edit = (("identity-integration", ("config", "properties"), json.dumps(declared)),)
    monkeypatch.setattr(doctor_cli, "run_program", lambda stack: _edited(planned(stack), edit))
    _live_properties(org).clear()
    _live_properties(org).update(declared, allowLogout=1)
    assert doctor().check(PROPERTIES)["summary"] == "property 'allowLogout' is 1 on the org, the stack declares true"


def test_properties_follow_what_the_estate_declares(doctor, org, monkeypatch):
    # Whatever the program declares is compared: a key added to the declaration is looked for on the org.
    declared = {**_live_properties(org), "sessionTimeout": 600}
    edit = (("identity-integration", ("config", "properties"), json.dumps(declared)),)
    monkeypatch.setattr(doctor_cli, "run_program", lambda stack: _edited(planned(stack), edit))
    check = doctor().check(PROPERTIES)
    assert check["summary"] == "property 'sessionTimeout' is declared (600) but the org has none"
    _live_properties(org)["sessionTimeout"] = 600
    assert doctor().check(PROPERTIES)["status"] == "ok"


def test_forbidden_integration_config_names_the_permission(doctor, org):
    org.forbidden.add("/api/v2/integrations/integration-oidc/config/current")
    check = doctor().check(PROPERTIES)
    assert check["status"] == "problem" and check["fix"].startswith("add integrations:integration:view")


# --- the published configuration, as declared (issue 20) --------------------------------------------------


def _published(org: FakeOrg, site: str) -> dict[str, Any]:
    return org.config_versions[(f"configuration-{site}", "4")]


def test_published_configurations_as_declared(doctor):
    report = doctor()
    for site in ("www", "support"):
        check = report.check(f"configuration:{site}")
        assert check["status"] == "ok", check
        notes = " ".join(check["evidence"])
        assert "authentication_settings.integration_id: a reference to Integration 'identity-integration'" in notes


@pytest.mark.parametrize(
    ("change", "described"),
    [
        (
            lambda v: v["messenger"].update(styles={"primaryColor": "#ff0000"}),
            'messenger.styles: live {"primaryColor": "#ff0000"}, the stack declares none',
        ),
        (
            lambda v: v.update(cobrowse={"enabled": False, "allowAgentControl": False}),
            'cobrowse: live {"allowAgentControl": false, "enabled": false}, the stack declares none',
        ),
        (
            lambda v: v["headlessMode"].update(enabled=False),
            "headlessMode.enabled (headless_mode_enabled): live false, the stack declares true",
        ),
        (
            lambda v: v.pop("messenger"),
            'messenger: the stack declares {"enabled": true}, the live version has none',
        ),
        (
            lambda v: v["languages"].reverse(),
            'languages: live ["de", "nl", "en-us"], the stack declares ["en-us", "nl", "de"]',
        ),
        (
            lambda v: v.update(description="Edited in the UI"),
            'description: live "Edited in the UI", the stack declares "Headless, authenticated Messenger for ',
        ),
        (
            lambda v: v["authenticationSettings"].update(allowSessionUpgrade=True),
            "authenticationSettings.allowSessionUpgrade (authentication_settings.allow_session_upgrade): live true, "
            "the stack declares false",
        ),
    ],
    ids=[
        "undeclared-styles",
        "undeclared-block",
        "headless",
        "missing-block",
        "language-order",
        "description",
        "session-upgrade",
    ],
)
def test_each_difference_is_named_by_path(doctor, org, change, described):
    change(_published(org, "www"))
    report = doctor()
    assert report.code == 1
    check = report.check("configuration:www")
    assert check["status"] == "problem"
    assert any(e.startswith(described) for e in check["evidence"]), check["evidence"]
    assert "on every preview" in check["fix"]
    assert report.check("configuration:support")["status"] == "ok"


def test_undeclared_zero_values_are_not_differences(doctor, org):
    # Read back as their zero value, they match an attribute the stack leaves out.
    version = _published(org, "support")
    version.update(customI18nLabels=[], position=None)
    version["messenger"].update(sessionPersistenceType="", fileUpload=None)
    assert doctor().check("configuration:support")["status"] == "ok"


# Blocks a later program may declare, as Pulumi names them (the bridge's camelCase, lists pluralised) and as the
# API returns them (platform SDK 257.1.0 models: FileUploadMode.md maxFileSizeKB, ConversationAppSettings.md
# autoStart, JourneyEventsSettings.md formsTrackEvents, CobrowseSettings.md pauseCriteria,
# SupportCenterCategory.md image.source.defaultUrl), both written by hand.
MORE_DECLARED = {
    "messenger": {
        "enabled": True,
        "fileUpload": {"modes": [{"fileTypes": ["image/png"], "maxFileSizeKb": 10240}]},
        "apps": {"conversations": {"enabled": True, "autoStartEnabled": True}},
    },
    "journeyEvents": {
        "enabled": True,
        "formTrackEvents": [
            {"selector": "#f", "formName": "f", "captureDataOnFormAbandon": True, "captureDataOnFormSubmit": False}
        ],
    },
    "cobrowse": {"enabled": True, "pauseCriterias": [{"urlFragment": "/pay", "condition": "includes"}]},
    "supportCenter": {"enabled": True, "enabledCategories": [{"categoryId": "cat-1", "imageUri": "https://i/1.png"}]},
}
MORE_LIVE = {
    "messenger": {
        "enabled": True,
        "fileUpload": {"modes": [{"fileTypes": ["image/png"], "maxFileSizeKB": 10240}]},
        "apps": {"conversations": {"enabled": True, "autoStart": {"enabled": True}}},
    },
    "journeyEvents": {
        "enabled": True,
        "formsTrackEvents": [
            {"selector": "#f", "formName": "f", "captureDataOnFormAbandon": True, "captureDataOnFormSubmit": False}
        ],
    },
    "cobrowse": {"enabled": True, "pauseCriteria": [{"urlFragment": "/pay", "condition": "includes"}]},
    "supportCenter": {
        "enabled": True,
        "enabledCategories": [{"id": "cat-1", "image": {"source": {"defaultUrl": "https://i/1.png"}}}],
    },
}


def _declaring_more(run: Run) -> Run:
    resources = list(run.resources)
    (index,) = [i for i, r in enumerate(resources) if r.name == "site-www-configuration"]
    inputs = {**resources[index].inputs, **copy.deepcopy(MORE_DECLARED)}
    resources[index] = dataclasses.replace(resources[index], inputs=inputs)
    return dataclasses.replace(run, resources=resources)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda v: None, None),
        (
            lambda v: v["messenger"]["fileUpload"]["modes"][0].update(maxFileSizeKB=5120),
            "messenger.fileUpload.modes[0].maxFileSizeKB",
        ),
        (
            lambda v: v["messenger"]["apps"]["conversations"]["autoStart"].update(enabled=False),
            "messenger.apps.conversations.autoStart.enabled",
        ),
        (
            lambda v: v["journeyEvents"]["formsTrackEvents"][0].update(formName="g"),
            "journeyEvents.formsTrackEvents[0].formName",
        ),
        (lambda v: v["cobrowse"]["pauseCriteria"].clear(), "cobrowse.pauseCriteria"),
        (
            lambda v: v["supportCenter"]["enabledCategories"][0]["image"]["source"].update(defaultUrl="x"),
            "supportCenter.enabledCategories[0].image.source.defaultUrl",
        ),
    ],
    ids=["agrees", "file-size", "auto-start", "form-name", "pause-criteria", "category-image"],
)
def test_the_comparison_follows_what_the_estate_declares(doctor, org, monkeypatch, change, path):
    monkeypatch.setattr(doctor_cli, "run_program", lambda stack: _declaring_more(planned(stack)))
    version = _published(org, "www")
    version.update(copy.deepcopy(MORE_LIVE))
    change(version)
    check = doctor().check("configuration:www")
    if path is None:
        assert check["status"] == "ok", check
        return
    assert check["status"] == "problem"
    assert check["summary"].endswith(f"1 place(s): {path}"), check["summary"]


def test_a_deployment_on_another_configuration_is_not_compared_field_by_field(doctor, org):
    _published(org, "www")["name"] = "stg-support messenger"
    check = doctor().check("configuration:www")
    assert check["status"] == "skipped"
    assert check["summary"] == "the deployment serves 'stg-support messenger' (see the deployment check)"


def _provider_paths(attributes: dict[str, Any], prefix: str = "") -> set[str]:
    paths = set()
    for name, attribute in attributes.items():
        paths.add(prefix + name)
        paths |= _provider_paths(attribute.get("attributes") or {}, f"{prefix}{name}.")
    return paths


def test_every_mapped_field_is_an_attribute_of_the_provider():
    # The oracle is the provider's schema as extracted at v1.84.1 (components/provider_schema.json), not the table.
    table = json.loads((ROOT / "preflight" / "messenger_api_fields.json").read_text())
    schema = json.loads((ROOT / "components" / "provider_schema.json").read_text())["resources"]
    known = _provider_paths(schema[table["resource"]]["attributes"])
    listed = {*table["renamed"], *table["not_compared"]}
    assert listed <= known, sorted(listed - known)
    assert table["_source"]["commit"] == schema_commit()


def schema_commit() -> str:
    return json.loads((ROOT / "components" / "provider_schema.json").read_text())["_source"]["commit"]


@pytest.mark.parametrize(
    ("declared", "live", "same"),
    [
        (True, 1, False),
        (1, 1.0, True),
        (0, False, False),
        ([1, True], [1, True], True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
    ],
)
def test_json_equality_tells_booleans_from_numbers(declared, live, same):
    assert doctor_configuration.equal(declared, live) is same


def test_secret_and_unknown_declared_values_are_neither_compared_nor_shown(doctor, org, monkeypatch):
    from pulumi.runtime.rpc import UNKNOWN, _special_secret_sig, _special_sig_key

    hidden = "hidden-description-9f2e"
    secret = {_special_sig_key: _special_secret_sig, "value": hidden}
    edits = (
        ("site-www-configuration", ("description",), secret),
        ("site-www-configuration", ("languages",), ["en-us", UNKNOWN]),
    )
    monkeypatch.setattr(doctor_cli, "run_program", lambda stack: _edited(planned(stack), edits))
    report = doctor()
    check = report.check("configuration:www")
    assert check["status"] == "ok", check
    notes = " ".join(check["evidence"])
    assert "description: a secret or a value known only after deploy, not compared" in notes
    assert "languages: holds a secret or a value known only after deploy, not compared" in notes
    assert hidden not in report.out


def test_external_sources_are_followed_across_cursor_pages(doctor, org):
    org.page_size = 1
    org.external_sources.insert(0, {"id": "external-source-old", "name": f"{STG_SOURCE} (old)", "active": False})
    report = doctor()
    assert report.check("identity-resolution:www")["status"] == "ok", report.check("identity-resolution:www")
    assert org.hits[("GET", "/api/v2/externalcontacts/externalsources")] == 2, "two pages, read once per run"


# --- before the first `pulumi up` (--before-up, the deploy workflow's gate) -------------------------------


def _an_org_before_the_first_up(org) -> None:
    """What bootstrap/ leaves: roles and clients, none of the stack's objects."""
    org.deployments.clear()
    org.flows.clear()
    org.actions.clear()
    org.integrations[:] = [i for i in org.integrations if i["id"] != "integration-oidc"]
    org.identity_resolution.clear()


def test_before_the_first_up_missing_objects_are_what_up_creates(doctor, org):
    _an_org_before_the_first_up(org)
    assert doctor().code == 1, "after an up, a missing deployment is a problem"
    report = doctor("--before-up")
    assert report.code == 0, report.out
    for check in ("deployment:www", "flow:www", "crm-action"):
        assert report.check(check)["status"] == "skipped", report.check(check)
        assert report.check(check)["summary"].endswith("`pulumi up` creates it"), report.check(check)
    # What must hold before up is still checked: the OpenID Connect type is confirmed on the org.
    assert report.check("oidc-integration")["status"] == "ok"
    assert "confirmed on this org" in report.text("oidc-integration")


def test_before_up_still_refuses_a_wrong_oidc_type_and_a_token_in_the_environment(doctor, org, monkeypatch):
    _an_org_before_the_first_up(org)
    org.integration_types[:] = [t for t in org.integration_types if t["name"] != OIDC_TYPE_NAME]
    monkeypatch.setenv(ACCESS_TOKEN_ENV_VAR, "an-administrators-token")
    report = doctor("--before-up")
    assert report.code == 1
    assert report.check("oidc-integration")["status"] == "problem"
    assert report.check("environment")["status"] == "problem"


# Issue 25: an internationalised host made the URL check raise (idna.IDNAError) instead of naming the option.
IDN_URLS = ["https://xn--zz.example", "https://xn--80ak6aa92e.com", "https://bücher.example", "https://XN--ls8h.la"]


@pytest.mark.parametrize("option", ["--api-url", "--login-url", "--discovery-url"])
@pytest.mark.parametrize("url", IDN_URLS)
def test_an_internationalised_host_is_a_usage_error_naming_the_option(doctor, org, option, url):
    report = doctor(option, url)
    assert report.code == 2, report.out
    assert report.err.startswith(f"doctor: {option} "), report.err
    assert "must name its host in ASCII" in report.err
    assert not org.hits, "nothing is sent anywhere"
