"""crm.kind picks the ticketing preset; every bad crm value is a problem naming file, key and fix."""

from __future__ import annotations

import json

import pytest

from components.settings import SettingsError, parse_settings, secret_paths
from components.settings_model import CustomCrm, SalesforceCrm, ZendeskCrm
from tests.conftest import example_config

NS = "genesys-messaging"
SOURCE = "Pulumi.staging.yaml"
ZENDESK = {"kind": "zendesk", "subdomain": "acme", "email": "bot@acme.test", "apiToken": "t0ken"}
SALESFORCE = {
    "kind": "salesforce",
    "instance": "acme",
    "apiVersion": "62.0",
    "contactExternalIdField": "Customer_Sub__c",
    "caseExternalIdField": "Conversation_Id__c",
    "clientId": "3MVG9fakeConsumerKey",
    "clientSecret": "s3cret",
}
CUSTOM = {
    "baseUrl": "https://crm.acme.test/api",
    "contactUrlTemplate": "https://crm.acme.test/contacts/{{externalId.value}}",
    "username": "genesys",
    "password": "pw",
}


def parse(crm: dict):
    base = example_config("staging")
    config = {**base.config, f"{NS}:crm": json.dumps(crm)}
    return parse_settings(config, set(base.secret_keys), project=NS, stack="staging", source=SOURCE)


def problems(crm: dict) -> dict[str, object]:
    with pytest.raises(SettingsError) as caught:
        parse(crm)
    assert all(p.source == SOURCE for p in caught.value.problems)
    return {p.key.removeprefix(f"{NS}:"): p for p in caught.value.problems}


def test_each_kind_freezes_into_its_preset():
    zendesk, salesforce = parse(ZENDESK).crm, parse(SALESFORCE).crm
    assert isinstance(zendesk, ZendeskCrm) and zendesk.host == "acme.zendesk.com"
    assert zendesk.api_token.reveal() == "t0ken" and "t0ken" not in repr(zendesk)
    assert isinstance(salesforce, SalesforceCrm) and salesforce.host == "acme.my.salesforce.com"
    assert salesforce.lightning_host == "acme.lightning.force.com"
    # Without a link, the preset's own host with the external id in the query.
    assert zendesk.contact_url_template.startswith("https://acme.zendesk.com/agent/")
    assert salesforce.contact_url_template.startswith("https://acme.lightning.force.com/")


def test_a_stack_without_kind_keeps_its_own_api():
    crm = parse(CUSTOM).crm
    assert isinstance(crm, CustomCrm)
    assert (crm.lookup.method, crm.lookup.path) == ("GET", "/customers/by-external-id/{externalId}")
    assert (crm.ticket.method, crm.ticket.path) == ("POST", "/tickets")


def test_every_preset_secret_is_known_as_secret():
    assert {"crm.password", "crm.apiToken", "crm.clientSecret", "identityProvider.clientSecret"} <= set(secret_paths())


@pytest.mark.parametrize(
    ("crm", "key", "fix"),
    [
        ({**ZENDESK, "subdomain": "acme.evil.com"}, "crm.subdomain", "your Zendesk subdomain"),
        ({**ZENDESK, "kind": "zendex"}, "crm.kind", "zendesk"),
        ({**ZENDESK, "baseUrl": "https://x.test"}, "crm.baseUrl", "baseUrl"),
        ({k: v for k, v in ZENDESK.items() if k != "email"}, "crm.email", "email"),
        ({**SALESFORCE, "apiVersion": "45.0"}, "crm.apiVersion", "46.0"),
        ({**SALESFORCE, "instance": "acme.my.salesforce.com"}, "crm.instance", "My Domain"),
        ({**SALESFORCE, "caseExternalIdField": "Id"}, "crm.caseExternalIdField", "External ID"),
    ],
)
def test_bad_preset_values_name_key_and_fix(crm, key, fix):
    found = problems(crm)
    assert key in found, f"no problem for {key}: {[str(p) for p in found.values()]}"
    assert fix in found[key].fix or fix in found[key].message


@pytest.mark.parametrize(
    ("crm", "message"),
    [
        ({**ZENDESK, "contactUrlTemplate": "https://{{externalId.value}}.zendesk.com/x"}, "in the host"),
        ({**CUSTOM, "contactUrlTemplate": "https://{{externalId.value}}.crm.acme.test/"}, "in the host"),
        ({**ZENDESK, "contactUrlTemplate": "https://evil.test/u?q={{externalId.value}}"}, "is not the zendesk host"),
        ({**SALESFORCE, "contactUrlTemplate": "https://acme.zendesk.com/{{externalId.value}}"}, "salesforce host"),
    ],
)
def test_the_agents_link_stays_on_the_preset_host_with_the_id_out_of_the_host(crm, message):
    assert message in problems(crm)["crm.contactUrlTemplate"].message


def test_a_plain_text_preset_secret_is_refused():
    base = example_config("staging")
    config = {**base.config, f"{NS}:crm": json.dumps(ZENDESK)}
    with pytest.raises(SettingsError) as caught:
        parse_settings(config, set(base.secret_keys) - {f"{NS}:crm"}, project=NS, stack="staging", source=SOURCE)
    (problem,) = [p for p in caught.value.problems if p.key == f"{NS}:crm.apiToken"]
    assert problem.fix.startswith(f"pulumi config set --secret --path '{NS}:crm.apiToken'")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"ticket": {"body": {"note": "$input.conversationId"}}}, "crm.ticket.body.note"),
        ({"ticket": {"body": {"note": "#set($x = 1)"}}}, "crm.ticket.body.note"),
        ({"ticket": {"body": {"note": "{password}"}}}, "crm.ticket.body.note"),
        ({"lookup": {"path": "/c/{conversationId}"}}, "crm.lookup.path"),
        ({"lookup": {"body": {"sub": "{externalId}"}}}, "crm.lookup.body"),
        ({"lookup": {"method": "POST"}}, "crm.lookup.body"),
        (
            {"lookup": {"response": {"customerId": "$..id", "displayName": "$.n", "tier": "$.t"}}},
            "crm.lookup.response.customerId",
        ),
        ({"ticket": {"path": "/t/../admin?x=${input.site}"}}, "crm.ticket.path"),
    ],
)
def test_custom_templates_cannot_carry_velocity_of_their_own(change, key):
    assert key in problems({**CUSTOM, **change})


def test_an_unquoted_api_version_is_told_to_be_quoted():
    problem = problems({**SALESFORCE, "apiVersion": 62.0})["crm.apiVersion"]
    assert "type string" in problem.message and '"62.0"' in problem.fix


def test_a_zendesk_email_cannot_break_the_basic_auth_user():
    assert "crm.email" in problems({**ZENDESK, "email": "bot:x@acme.test"})


def test_preset_keys_without_kind_say_which_kind_to_set():
    zendesk = {k: v for k, v in ZENDESK.items() if k != "kind"}
    problem = problems(zendesk)["crm.kind"]
    assert "zendesk preset" in problem.message and problem.fix.endswith("crm.kind' zendesk")
