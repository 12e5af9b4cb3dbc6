"""Each ticketing preset (crm.kind) as the program declares it, run against a loopback fake of its vendor's API.

The actions come from the planned estate (the IntegrationAction inputs the engine would receive), not
from the data files, and run through tests/data_action_runner.py (Velocity by airspeed, JSONPath by
jsonpath-ng). The contracts are compared with the contract written by hand below, the one the flow binds.
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from components import naming
from components.flow_template import FLOWS_DIR, render
from preflight.inprocess import Run
from tests.conftest import example_config, planned_once
from tests.data_action_runner import run_action
from tests.fake_crm import FakeCrm
from tests.fake_salesforce import FakeSalesforce
from tests.fake_zendesk import FakeZendesk
from tests.flow_interpreter import Outcome as FlowOutcome
from tests.flow_interpreter import Scenario, run_flow

NS = "genesys-messaging"
SECRET = "s3cr3t-value"

# The contract the inbound flow binds, written by hand from flows/inbound_message.yaml's callData (issue 22).
LOOKUP_CONTRACT = {
    "input": {"required": ["externalId"], "properties": {"externalId": "string"}},
    "output": {"properties": {"customerId": "string", "displayName": "string", "tier": "string"}},
}
TICKET_CONTRACT = {
    "input": {
        "required": ["conversationId", "externalId", "site"],
        "properties": {"conversationId": "string", "externalId": "string", "site": "string"},
    },
    "output": {"properties": {"ticketId": "string", "ticketUrl": "string"}},
}

ZENDESK = {"kind": "zendesk", "subdomain": "acme-help", "email": "bot@acme.test", "apiToken": SECRET}
SALESFORCE = {
    "kind": "salesforce",
    "instance": "acme--uat.sandbox",
    "apiVersion": "61.0",
    "contactExternalIdField": "Customer_Sub__c",
    "caseExternalIdField": "Conversation_Id__c",
    "tierField": "Tier__c",
    "clientId": "3MVG9fakeConsumerKey",
    "clientSecret": SECRET,
}
CUSTOM = {
    "kind": "custom",
    "baseUrl": "https://crm.acme.test/api",
    "contactUrlTemplate": "https://crm.acme.test/contacts/{{externalId.value}}",
    "username": "genesys",
    "password": SECRET,
}
SECRET_KEY = {"zendesk": "apiToken", "salesforce": "clientSecret", "custom": "password"}


def preset_run(crm: dict) -> Run:
    base = example_config("staging")
    encrypted = {p for p in base.encrypted if not p.startswith(f"{NS}:crm.")} | {f"{NS}:crm.{SECRET_KEY[crm['kind']]}"}
    config = {**base.config, f"{NS}:crm": json.dumps(crm)}
    return planned_once(dataclasses.replace(base, config=config, encrypted=frozenset(encrypted)))


def actions(run: Run) -> dict[str, dict]:
    found = {r.inputs["name"]: r.inputs for r in run.of_type("IntegrationAction") if r.name.startswith("crm-")}
    return {"lookup": found[naming.CRM_LOOKUP_ACTION_NAME], "ticket": found[naming.CRM_TICKET_ACTION_NAME]}


def shape(contract: dict) -> dict:
    """A JSON Schema contract as {required, properties: name -> type}, descriptions dropped."""
    reduced = {"properties": {k: v["type"] for k, v in contract["properties"].items()}}
    if "required" in contract:
        reduced["required"] = sorted(contract["required"])
    return reduced


@pytest.fixture(scope="module", params=[ZENDESK, SALESFORCE, CUSTOM], ids=lambda c: c["kind"])
def preset(request):
    return request.param, actions(preset_run(request.param))


def test_every_preset_gives_the_flow_exactly_its_contract(preset):
    crm, declared = preset
    for part, expected in (("lookup", LOOKUP_CONTRACT), ("ticket", TICKET_CONTRACT)):
        for side in ("input", "output"):
            got = shape(json.loads(declared[part][f"contract{side.title()}"]))
            assert got == {
                **expected[side],
                **({"required": sorted(expected[side]["required"])} if side == "input" else {}),
            }, f"{crm['kind']} {part} {side} contract {got} is not the flow's"


def test_every_input_in_a_body_is_json_escaped_and_timeouts_beat_the_flow_step(preset):
    crm, declared = preset
    for part, action in declared.items():
        body = action["configRequest"].get("requestTemplate") or ""
        bare = re.sub(r"\$esc\.jsonString\(\$\{input\.\w+\}\)|\"\$!\{input\.\w+\}\"", "", body)
        assert "${input." not in bare and "$input." not in bare, f"{crm['kind']} {part}: unescaped input in {body}"
        waits = flow_step_timeouts()[action["name"]]
        assert action["configTimeoutSeconds"] < waits, f"{crm['kind']} {part}: not below the flow step's {waits} s"


def flow_step_timeouts() -> dict[str, int]:
    """Action name -> the seconds the flow's callData step waits for it (flows/inbound_message.yaml)."""
    (flow,) = preset_run(ZENDESK).of_type(":Flow")
    names = flow.inputs["substitutions"]
    found: dict[str, int] = {}

    def walk(node):
        if isinstance(node, dict):
            step = node.get("callData")
            if isinstance(step, dict) and names["crm_category"] in step.get("category", {}):
                (action,) = step["category"][names["crm_category"]]["dataAction"]
                found[action] = step["timeout"]["lit"]["seconds"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(render(FLOWS_DIR / "inbound_message.yaml", names).document)
    assert set(found) == {names["crm_lookup_action"], names["crm_ticket_action"]}, found
    return found


CONVERSATION = "5f2c1e7a-0d3b-4c55-9a51-2f0c8d7e6b10"
SUB = "auth0|ada lovelace/1815"


# --- Zendesk ----------------------------------------------------------------------------------


@pytest.fixture
def zendesk():
    declared = actions(preset_run(ZENDESK))
    with FakeZendesk(ZENDESK["email"], SECRET) as fake:
        yield fake, declared


def zendesk_call(fake, action, inputs, token=SECRET, **kw):
    return run_action(
        action,
        inputs,
        host="acme-help.zendesk.com",
        fake_url=fake.url,
        basic_auth=(f"{ZENDESK['email']}/token", token),
        **kw,
    )


def test_zendesk_lookup_finds_the_user_with_the_sub_as_external_id(zendesk):
    fake, declared = zendesk
    user_id = fake.add_user(SUB, "Ada Lovelace", tier="gold")
    fake.add_user("someone-else", "Grace Hopper")
    outcome = zendesk_call(fake, declared["lookup"], {"externalId": SUB})
    assert outcome.path == "success", outcome
    assert outcome.outputs == {"customerId": str(user_id), "displayName": "Ada Lovelace", "tier": "gold"}
    assert "external_id=auth0%7Cada%20lovelace%2F1815" in str(outcome.request.url)


def test_zendesk_unknown_user_ends_on_the_failure_path_not_as_an_empty_customer(zendesk):
    fake, declared = zendesk
    outcome = zendesk_call(fake, declared["lookup"], {"externalId": SUB})
    # Zendesk answers 200 {"users": []}; the action must not succeed with an empty customer id.
    assert outcome.path == "failure" and outcome.status is None  # which status Genesys reports: UNVERIFIED


def test_zendesk_repeated_conversation_returns_the_first_ticket(zendesk):
    fake, declared = zendesk
    user_id = fake.add_user(SUB, "Ada Lovelace")
    inputs = {"conversationId": CONVERSATION, "externalId": SUB, "site": "www"}
    first = zendesk_call(fake, declared["ticket"], inputs)
    again = zendesk_call(fake, declared["ticket"], inputs)
    assert first.path == again.path == "success" and first.outputs == again.outputs
    assert len(fake.tickets) == 1 and fake.tickets[0]["external_id"] == CONVERSATION
    assert fake.tickets[0]["requester_id"] == user_id and fake.tickets[0]["tags"] == ["web_messaging"]
    assert first.outputs["ticketUrl"] == f"https://acme-help.zendesk.com/agent/tickets/{first.outputs['ticketId']}"
    assert first.request.headers["Idempotency-Key"] == CONVERSATION


def test_zendesk_anonymous_ticket_has_no_requester(zendesk):
    fake, declared = zendesk
    outcome = zendesk_call(fake, declared["ticket"], {"conversationId": CONVERSATION, "externalId": "", "site": "www"})
    assert outcome.path == "success" and "requester" not in fake.tickets[0]


# --- Salesforce -------------------------------------------------------------------------------


@pytest.fixture
def salesforce():
    run = preset_run(SALESFORCE)
    (auth,) = run.of_type("IntegrationCustomAuthAction")
    credential = next(r for r in run.of_type("IntegrationCredential") if r.name == "crm-oauth-credential")
    with FakeSalesforce(SALESFORCE["clientId"], SECRET, "Customer_Sub__c", "Conversation_Id__c") as fake:
        yield fake, actions(run), auth.inputs, credential


HOST = "acme--uat.sandbox.my.salesforce.com"


def salesforce_token(fake, auth, secret=SECRET):
    action = {**auth, "contractOutput": json.dumps({"type": "object", "properties": {}})}
    creds = {"clientId": SALESFORCE["clientId"], "clientSecret": secret}
    outcome = run_action(action, {}, host=HOST, fake_url=fake.url, credentials=creds)
    return outcome


def test_salesforce_credential_is_user_defined_oauth_with_the_client(salesforce):
    _fake, _declared, auth, credential = salesforce
    assert credential.inputs["credentialTypeName"] == "userDefinedOAuth"
    assert auth["configRequest"]["requestUrlTemplate"] == f"https://{HOST}/services/oauth2/token"


def test_salesforce_lookup_by_external_id_field_and_404_when_none(salesforce):
    fake, declared, auth, _ = salesforce
    token = salesforce_token(fake, auth)
    assert token.path == "success", token
    contact = fake.add_contact(SUB, "Ada Lovelace", Tier__c="gold")
    found = run_action(
        declared["lookup"], {"externalId": SUB}, host=HOST, fake_url=fake.url, auth_response=token.outputs
    )
    assert found.outputs == {"customerId": contact, "displayName": "Ada Lovelace", "tier": "gold"}, found
    missing = run_action(
        declared["lookup"], {"externalId": "nobody"}, host=HOST, fake_url=fake.url, auth_response=token.outputs
    )
    assert (missing.path, missing.status) == ("failure", 404)


def test_salesforce_case_upsert_is_one_case_per_conversation(salesforce):
    fake, declared, auth, _ = salesforce
    token = salesforce_token(fake, auth).outputs
    contact = fake.add_contact(SUB, "Ada Lovelace")
    inputs = {"conversationId": CONVERSATION, "externalId": SUB, "site": "www"}
    first = run_action(declared["ticket"], inputs, host=HOST, fake_url=fake.url, auth_response=token)
    again = run_action(declared["ticket"], inputs, host=HOST, fake_url=fake.url, auth_response=token)
    assert first.path == again.path == "success" and first.outputs == again.outputs, (first, again)
    assert len(fake.cases) == 1 and fake.cases[0]["ContactId"] == contact and fake.cases[0]["Origin"] == "Web"
    case_id = first.outputs["ticketId"]
    assert (
        first.outputs["ticketUrl"] == f"https://acme--uat.sandbox.lightning.force.com/lightning/r/Case/{case_id}/view"
    )


def test_salesforce_wrong_secret_gets_no_token(salesforce):
    fake, _declared, auth, _ = salesforce
    assert salesforce_token(fake, auth, secret="wrong").status == 400


# --- custom -----------------------------------------------------------------------------------


@pytest.fixture
def custom():
    declared = actions(preset_run(CUSTOM))
    with FakeCrm("genesys", SECRET) as fake:
        yield fake, declared


def custom_call(fake, action, inputs, password=SECRET, **kw):
    return run_action(action, inputs, host="crm.acme.test", fake_url=fake.url, basic_auth=("genesys", password), **kw)


def test_custom_defaults_keep_the_original_api(custom):
    fake, declared = custom
    fake.customers[SUB] = {"id": "C-1", "name": "Ada", "tier": "gold"}
    assert custom_call(fake, declared["lookup"], {"externalId": SUB}).outputs == {
        "customerId": "C-1",
        "displayName": "Ada",
        "tier": "gold",
    }
    assert custom_call(fake, declared["lookup"], {"externalId": "x"}).status == 404
    inputs = {"conversationId": CONVERSATION, "externalId": SUB, "site": "www"}
    first, again = custom_call(fake, declared["ticket"], inputs), custom_call(fake, declared["ticket"], inputs)
    assert first.outputs == again.outputs == {"ticketId": "T-1", "ticketUrl": "https://crm.example.com/t/1"}
    assert fake.tickets[CONVERSATION]["request"] == {
        "conversationId": CONVERSATION,
        "externalId": SUB,
        "site": "www",
        "channel": "web-messaging",
    }


def test_custom_templates_come_from_stack_settings_alone():
    crm = {
        **CUSTOM,
        "lookup": {
            "method": "POST",
            "path": "/v2/people/search",
            "body": {"filter": {"sub": "{externalId}"}},
            "response": {"customerId": "$.data[0].ref", "displayName": "$.data[0].label", "tier": "$.data[0].level"},
        },
        "ticket": {
            "method": "PUT",
            "path": "/v2/cases/{conversationId}",
            "body": {"note": "chat {conversationId} on {site}"},
            "response": {"ticketId": "$.ref", "ticketUrl": "$.links.web"},
        },
    }
    declared = actions(preset_run(crm))
    lookup, ticket = declared["lookup"]["configRequest"], declared["ticket"]["configRequest"]
    assert (lookup["requestType"], lookup["requestUrlTemplate"]) == (
        "POST",
        "https://crm.acme.test/api/v2/people/search",
    )
    assert lookup["requestTemplate"] == '{"filter": {"sub": "$esc.jsonString(${input.externalId})"}}'
    assert ticket["requestUrlTemplate"] == "https://crm.acme.test/api/v2/cases/$esc.uriEncode(${input.conversationId})"
    assert (
        ticket["requestTemplate"]
        == '{"note": "chat $esc.jsonString(${input.conversationId}) on $esc.jsonString(${input.site})"}'
    )
    assert declared["ticket"]["configResponse"]["translationMap"] == {"ticketId": "$.ref", "ticketUrl": "$.links.web"}


# --- faults every preset meets the same way ---------------------------------------------------


@pytest.mark.parametrize("fault", ["401", "429", "503", "slow"])
@pytest.mark.parametrize("kind", ["zendesk", "salesforce", "custom"])
def test_faults_end_on_the_failure_or_timeout_path(kind, fault, request):
    fake, declared, *rest = request.getfixturevalue(kind)
    token = salesforce_token(fake, rest[0]).outputs if kind == "salesforce" else None

    def call(action, inputs, **kw):
        if kind == "salesforce":
            return run_action(action, inputs, host=HOST, fake_url=fake.url, auth_response=token, **kw)
        return (zendesk_call if kind == "zendesk" else custom_call)(fake, action, inputs, **kw)

    inputs = {"conversationId": CONVERSATION, "externalId": SUB, "site": "www"}
    if fault == "401":
        if kind == "salesforce":
            outcome = run_action(
                declared["ticket"], inputs, host=HOST, fake_url=fake.url, auth_response={"access_token": "stale"}
            )
        else:
            outcome = call(
                declared["ticket"], inputs, **({"token": "wrong"} if kind == "zendesk" else {"password": "wrong"})
            )
        assert (outcome.path, outcome.status) == ("failure", 401)
    elif fault == "slow":
        fake.stall = 0.5
        assert call(declared["lookup"], {"externalId": SUB}, timeout=0.2).path == "timeout"
    else:
        fake.fault = (int(fault), {"Retry-After": "7"} if fault == "429" else {}, {"error": "busy"})
        outcome = call(declared["ticket"], inputs)
        assert (outcome.path, outcome.status) == ("failure", int(fault))
    assert not getattr(fake, "tickets", None) and not getattr(fake, "cases", None), f"{kind}: a fault created a ticket"


# --- through the flow: each preset's real answers, run by the strict flow interpreter ----------


def flow_outcome(outcome):
    if outcome.path == "success":
        return FlowOutcome.success(**outcome.outputs)
    if outcome.path == "timeout":
        return FlowOutcome.timeout()
    return FlowOutcome.failure(**({"status": outcome.status} if outcome.status is not None else {}))


def preset_flow(run: Run):
    (flow,) = run.of_type(":Flow")
    document = render(FLOWS_DIR / "inbound_message.yaml", flow.inputs["substitutions"]).document
    return document, flow.inputs["substitutions"]


@pytest.mark.parametrize("known", [True, False], ids=["found", "not-found"])
@pytest.mark.parametrize("kind", ["zendesk", "salesforce", "custom"])
def test_each_preset_through_the_flow(kind, known, request):
    crm = {"zendesk": ZENDESK, "salesforce": SALESFORCE, "custom": CUSTOM}[kind]
    run = preset_run(crm)
    document, names = preset_flow(run)
    lookup_key = (names["crm_category"], names["crm_lookup_action"])
    ticket_key = (names["crm_category"], names["crm_ticket_action"])
    # The Genesys-side link (lookup, conversation contact, merge) answers as on a healthy org.
    contact = {
        part: (names["contacts_category"], names[f"contacts_{part}_action"]) for part in ("lookup", "read", "merge")
    }
    builtins = {
        "Message.IsAuthenticated": True,
        "Message.Message.senderAddressInfo.addressDisplayable": SUB,
        "Message.ConversationId": CONVERSATION,
    }
    # First pass: what the flow sends each action, checked against the preset's declared input contract.
    probe = run_flow(
        document,
        Scenario(
            builtins=builtins,
            data_actions={k: FlowOutcome.timeout() for k in (lookup_key, ticket_key, *contact.values())},
        ),
    )
    sent = {(category, action): inputs for category, action, inputs in probe.calls}
    declared = actions(run)
    for part, key in (("lookup", lookup_key), ("ticket", ticket_key)):
        contract = json.loads(declared[part]["contractInput"])
        assert set(contract["required"]) <= set(sent[key]) <= set(contract["properties"]), (kind, part, sent[key])
        assert all(isinstance(value, str) for value in sent[key].values()), (kind, part, sent[key])
    # Second pass: the preset's real answers from its fake.
    fixture = request.getfixturevalue(kind)
    fake = fixture[0]
    if kind == "salesforce":
        token = salesforce_token(fake, fixture[2]).outputs
        call = lambda a, i: run_action(a, i, host=HOST, fake_url=fake.url, auth_response=token)  # noqa: E731
        if known:
            fake.add_contact(SUB, "Ada Lovelace", Tier__c="gold")
    elif kind == "zendesk":
        call = lambda a, i: zendesk_call(fake, a, i)  # noqa: E731
        if known:
            fake.add_user(SUB, "Ada Lovelace", tier="gold")
    else:
        call = lambda a, i: custom_call(fake, a, i)  # noqa: E731
        if known:
            fake.customers[SUB] = {"id": "C-1", "name": "Ada Lovelace", "tier": "gold"}
    outcomes = {
        lookup_key: flow_outcome(call(declared["lookup"], sent[lookup_key])),
        ticket_key: flow_outcome(call(declared["ticket"], sent[ticket_key])),
        contact["lookup"]: FlowOutcome.success(externalContactId="ec-42"),
        contact["read"]: FlowOutcome.success(conversationContactId="ephemeral-7"),
        contact["merge"]: FlowOutcome.success(externalContactId="ec-42"),
    }
    result = run_flow(document, Scenario(builtins=builtins, data_actions=outcomes))
    data = result.participant_data
    assert result.route == ("queue", names["queue_name"]), (kind, result.route)
    if kind == "salesforce" and not known:
        # The Case names its Contact by external id; with no such Contact Salesforce refuses the upsert
        # (400), so no Case: README "Ticketing systems". The customer is routed all the same.
        assert (data["crm.ticketStatus"], fake.cases) == ("failed", []), (kind, data)
    else:
        assert data["crm.ticketStatus"] == "created" and data["crm.ticketUrl"].startswith("https://"), (kind, data)
    if known:
        assert (data["crm.lookupStatus"], data["crm.displayName"], data["crm.tier"]) == (
            "found",
            "Ada Lovelace",
            "gold",
        )
    else:
        # Salesforce and custom answer 404; Zendesk's empty search fails without a status (UNVERIFIED which
        # status Genesys reports), so the flow records `failed` there: README "Ticketing systems".
        assert data["crm.lookupStatus"] == ("failed" if kind == "zendesk" else "not-found"), (kind, data)
