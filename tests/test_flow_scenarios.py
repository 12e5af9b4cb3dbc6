"""The inbound message flow, run scenario by scenario through the strict interpreter (archy cannot run here).

Expected values are written by hand from what the migrating team asked for: a signed-in customer is
linked to their CRM record and External Contact, a ticket is opened once per conversation, nothing a
browser sets reaches a profile or an agent under the flow's names, and nobody is dropped.
"""

from __future__ import annotations

import pytest

from components.flow_template import FLOWS_DIR, render
from tests.flow_interpreter import Outcome, Result, Scenario, run_flow

QUEUE = "stg-Web Messaging Support"
CRM = "stg-CRM Data Actions"
CONTACTS = "stg-Genesys Cloud Data Actions"
CRM_LOOKUP = (CRM, "Look up customer by external id")
CRM_TICKET = (CRM, "Create ticket for conversation")
CONTACT_LOOKUP = (CONTACTS, "Find external contact by external id")
SUBSTITUTIONS = {
    "flow_name": "stg-Inbound Web Messaging",
    "division": "Home",
    "queue_name": QUEUE,
    "crm_category": CRM,
    "crm_lookup_action": CRM_LOOKUP[1],
    "crm_ticket_action": CRM_TICKET[1],
    "contacts_category": CONTACTS,
    "contacts_action": CONTACT_LOOKUP[1],
}
SUB = "auth0|5f1c9a"
CONVERSATION = "6f1b7a4e-0d2c-4f7e-9a55-2b1f0c3d4e5f"
OWNED = {
    "customer.verified",
    "customer.externalId",
    "customer.siteHint",
    "crm.lookupStatus",
    "crm.customerId",
    "crm.displayName",
    "crm.tier",
    "genesys.contactLookupStatus",
    "genesys.externalContactId",
    "crm.ticketStatus",
    "crm.ticketId",
    "crm.ticketUrl",
}
FOUND = {
    CRM_LOOKUP: Outcome.success(customerId="C-100", displayName="Ada Lovelace", tier="gold"),
    CONTACT_LOOKUP: Outcome.success(externalContactId="ec-42"),
    CRM_TICKET: Outcome.success(ticketId="T-9", ticketUrl="https://crm.example.com/tickets/T-9"),
}
TICKET_ONLY = {CRM_TICKET: FOUND[CRM_TICKET]}


def signed_in(sub: str = SUB) -> dict[str, object]:
    return {
        "Message.IsAuthenticated": True,
        "Message.Message.senderAddressInfo.addressDisplayable": sub,
        "Message.ConversationId": CONVERSATION,
    }


ANONYMOUS = {
    "Message.IsAuthenticated": False,
    "Message.Message.senderAddressInfo.addressDisplayable": "",
    "Message.ConversationId": CONVERSATION,
}


def run(builtins, data_actions, **scenario) -> Result:
    document = render(FLOWS_DIR / "inbound_message.yaml", SUBSTITUTIONS).document
    return run_flow(document, Scenario(builtins=builtins, data_actions=data_actions, **scenario))


def calls(result: Result) -> dict[tuple[str, str], dict[str, object]]:
    return {(category, action): inputs for category, action, inputs in result.calls}


def owned(result: Result) -> dict[str, str]:
    return {key: value for key, value in result.participant_data.items() if key in OWNED}


def test_signed_in_customer_is_linked_to_crm_profile_contact_and_ticket():
    result = run(signed_in(), FOUND, participant_data={"site": "www"})
    assert result.route == ("queue", QUEUE)
    assert calls(result) == {
        CRM_LOOKUP: {"externalId": SUB},
        CONTACT_LOOKUP: {"externalId": SUB},
        CRM_TICKET: {"conversationId": CONVERSATION, "externalId": SUB, "site": "www"},
    }
    assert owned(result) == {
        "customer.verified": "true",
        "customer.externalId": SUB,
        "customer.siteHint": "www",
        "crm.lookupStatus": "found",
        "crm.customerId": "C-100",
        "crm.displayName": "Ada Lovelace",
        "crm.tier": "gold",
        "genesys.contactLookupStatus": "found",
        "genesys.externalContactId": "ec-42",
        "crm.ticketStatus": "created",
        "crm.ticketId": "T-9",
        "crm.ticketUrl": "https://crm.example.com/tickets/T-9",
    }


@pytest.mark.parametrize(
    ("crm", "status"),
    [
        (Outcome.failure("ACTION.REMOTE_ENDPOINT", "not found", status=404), "not-found"),
        (Outcome.failure("ACTION.REMOTE_ENDPOINT", "unavailable", status=503), "failed"),
        (Outcome.failure("ACTION.REMOTE_ENDPOINT", "no status"), "failed"),
        (Outcome.timeout(), "timeout"),
    ],
    ids=["not-in-crm", "crm-down", "crm-error-without-status", "crm-slow"],
)
def test_crm_outcomes_are_recorded_and_the_customer_still_routed(crm, status):
    result = run(signed_in(), {**FOUND, CRM_LOOKUP: crm})
    assert result.route == ("queue", QUEUE)
    data = owned(result)
    assert data["crm.lookupStatus"] == status
    assert (data["crm.customerId"], data["crm.displayName"], data["crm.tier"]) == ("", "", "")
    # The Genesys profile and the ticket do not depend on the CRM lookup.
    assert data["genesys.externalContactId"] == "ec-42" and data["crm.ticketStatus"] == "created"


@pytest.mark.parametrize(
    ("contact", "status"),
    [
        (Outcome.failure("ACTION.REMOTE_ENDPOINT", "no contact", status=404), "not-found"),
        (Outcome.failure("ACTION.REMOTE_ENDPOINT", "forbidden", status=403), "failed"),
        (Outcome.timeout(), "timeout"),
    ],
)
def test_contact_lookup_outcomes_are_recorded_and_the_customer_still_routed(contact, status):
    result = run(signed_in(), {**FOUND, CONTACT_LOOKUP: contact})
    assert result.route == ("queue", QUEUE)
    assert owned(result)["genesys.contactLookupStatus"] == status
    assert owned(result)["genesys.externalContactId"] == ""
    assert owned(result)["crm.customerId"] == "C-100"


@pytest.mark.parametrize("typed", [{}, {"customerId": "C-100"}, {"customerId": SUB, "externalId": SUB}])
def test_anonymous_visitor_reaches_no_profile_whatever_the_widget_typed(typed):
    result = run(ANONYMOUS, TICKET_ONLY, participant_data=typed)
    assert result.route == ("queue", QUEUE)
    # No lookup at all; the ticket is opened without a customer.
    assert calls(result) == {CRM_TICKET: {"conversationId": CONVERSATION, "externalId": "", "site": "unknown"}}
    data = owned(result)
    assert data["customer.verified"] == "false" and data["customer.externalId"] == ""
    assert data["crm.lookupStatus"] == data["genesys.contactLookupStatus"] == "skipped-anonymous"
    assert data["crm.customerId"] == data["genesys.externalContactId"] == ""


def test_authenticated_flag_without_a_subject_is_treated_as_anonymous():
    result = run(signed_in(sub=""), TICKET_ONLY)
    assert set(calls(result)) == {CRM_TICKET}
    assert owned(result)["customer.verified"] == "false"


FORGED = {key: "forged" for key in OWNED} | {"customer.verified": "true", "crm.tier": "platinum"}


@pytest.mark.parametrize(
    ("builtins", "data_actions"),
    [
        (ANONYMOUS, TICKET_ONLY),
        (signed_in(), {**FOUND, CRM_LOOKUP: Outcome.timeout(), CONTACT_LOOKUP: Outcome.timeout()}),
        (signed_in(), {**FOUND, CRM_TICKET: Outcome.failure("x", "y", status=500)}),
        (ANONYMOUS, {CRM_TICKET: Outcome.timeout()}),
    ],
    ids=["anonymous", "lookups-time-out", "ticket-fails", "anonymous-ticket-times-out"],
)
def test_no_attribute_a_visitor_preset_survives_under_the_flows_names(builtins, data_actions):
    result = run(builtins, data_actions, participant_data=FORGED)
    assert result.route == ("queue", QUEUE)
    assert set(owned(result)) == OWNED
    survivors = {key for key, value in owned(result).items() if value in ("forged", "platinum")}
    assert not survivors, f"browser-set values an agent would see: {survivors}"


@pytest.mark.parametrize(
    ("ticket", "status"), [(Outcome.failure("x", "y", status=500), "failed"), (Outcome.timeout(), "timeout")]
)
def test_ticket_failure_is_recorded_and_the_customer_still_routed(ticket, status):
    result = run(signed_in(), {**FOUND, CRM_TICKET: ticket})
    assert result.route == ("queue", QUEUE)
    assert (owned(result)["crm.ticketStatus"], owned(result)["crm.ticketId"]) == (status, "")


def test_ticket_carries_the_conversation_id_as_its_idempotency_key():
    first = calls(run(signed_in(), FOUND))[CRM_TICKET]
    again = calls(run(signed_in(), FOUND))[CRM_TICKET]
    assert first["conversationId"] == again["conversationId"] == CONVERSATION


@pytest.mark.parametrize(
    "action", ["Look up the customer in the CRM", "Find the customer's External Contact", "Open the CRM ticket"]
)
def test_a_runtime_error_anywhere_transfers_to_the_queue(action):
    result = run(signed_in(), FOUND, error_at=action)
    assert result.error, "the scenario must raise a runtime error"
    assert result.route == ("queue", QUEUE)


def test_a_failed_transfer_is_retried_then_the_customer_is_told():
    result = run(signed_in(), FOUND, transfer_fails=True)
    transfers = [name for name in result.trace if name.startswith(("Route to", "Retry the transfer"))]
    assert transfers == ["Route to the web messaging queue", "Retry the transfer once"]
    assert result.route == ("disconnected",) and result.responses, "the customer must hear why"
