"""The inbound message flow, run scenario by scenario through the strict interpreter (archy cannot run here).

Expected values are written by hand from what the migrating team asked for: a signed-in customer's
conversation is put on the External Contact holding their `sub` (found, or created with the CRM's
display name, then the conversation's own contact merged into it, as Genesys'
merge-ephemeral-message-to-external-contact blueprint does), a ticket is opened once per conversation,
nothing a browser sets reaches a profile or an agent under the flow's names, and nobody is dropped.
"""

from __future__ import annotations

import pytest

from components.flow_template import FLOWS_DIR, error_handling, owned_participant_data, render
from tests.flow_interpreter import Outcome, Result, Scenario, run_flow

QUEUE = "stg-Web Messaging Support"
CRM = "stg-CRM Data Actions"
CONTACTS = "stg-Genesys Cloud Data Actions"
CRM_LOOKUP = (CRM, "Look up customer by external id")
CRM_TICKET = (CRM, "Create ticket for conversation")
CONTACT_LOOKUP = (CONTACTS, "Find external contact by external id")
CONTACT_CREATE = (CONTACTS, "Create or enrich external contact by external id")
CONVERSATION_CONTACT = (CONTACTS, "Get the conversation's external contact")
CONTACT_MERGE = (CONTACTS, "Merge contact into the customer's")
SUBSTITUTIONS = {
    "flow_name": "stg-Inbound Web Messaging",
    "division": "Home",
    "queue_name": QUEUE,
    "crm_category": CRM,
    "crm_lookup_action": CRM_LOOKUP[1],
    "crm_ticket_action": CRM_TICKET[1],
    "contacts_category": CONTACTS,
    "contacts_lookup_action": CONTACT_LOOKUP[1],
    "contacts_enrich_action": CONTACT_CREATE[1],
    "contacts_read_action": CONVERSATION_CONTACT[1],
    "contacts_merge_action": CONTACT_MERGE[1],
    "error_handling": error_handling("disconnect", QUEUE),
    "default_language": "en-us",
    "supported_languages": "\n    en-us:\n      defaultLanguageSkill:\n        noValue: true",
}
SUB = "auth0|5f1c9a"
CONVERSATION = "6f1b7a4e-0d2c-4f7e-9a55-2b1f0c3d4e5f"
# The keys the flow owns, from their one source (flows/participant_data.json): which keys `owned()` shows.
# What they hold is written by hand below, so a key dropped from the file and the flow together still fails
# the signed-in scenario's expected data.
OWNED = frozenset(owned_participant_data())
FOUND = {
    CRM_LOOKUP: Outcome.success(customerId="C-100", displayName="Ada Lovelace", tier="gold"),
    CONTACT_LOOKUP: Outcome.success(externalContactId="ec-42"),
    # The conversation starts on its own (ephemeral) contact; merging it into ec-42 gives the merged id.
    CONVERSATION_CONTACT: Outcome.success(conversationContactId="ephemeral-7"),
    CONTACT_MERGE: Outcome.success(externalContactId="ec-42"),
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


def run(builtins, data_actions, on_error="disconnect", **scenario) -> Result:
    substitutions = {**SUBSTITUTIONS, "error_handling": error_handling(on_error, QUEUE)}
    document = render(FLOWS_DIR / "inbound_message.yaml", substitutions).document
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
        CONVERSATION_CONTACT: {"conversationId": CONVERSATION},
        CONTACT_MERGE: {"sourceContactId": "ephemeral-7", "targetContactId": "ec-42"},
        CRM_TICKET: {"conversationId": CONVERSATION, "externalId": SUB, "site": "www"},
    }
    assert result.responses[0], "the customer hears from us before the data actions run"
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
        "genesys.linkStatus": "linked",
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


NOT_FOUND = Outcome.failure("ACTION.REMOTE_ENDPOINT", "no contact", status=404)


@pytest.mark.parametrize(
    ("lookup", "create", "status"),
    [
        (Outcome.failure("ACTION.REMOTE_ENDPOINT", "forbidden", status=403), None, "failed"),
        (Outcome.failure("ACTION.REMOTE_ENDPOINT", "no status"), None, "failed"),
        (Outcome.timeout(), None, "timeout"),
        (NOT_FOUND, Outcome.failure("ACTION.REMOTE_ENDPOINT", "bad request", status=400), "failed"),
        (NOT_FOUND, Outcome.timeout(), "timeout"),
    ],
    ids=["lookup-forbidden", "lookup-error", "lookup-slow", "create-refused", "create-slow"],
)
def test_without_a_contact_nothing_is_merged_and_the_customer_still_routed(lookup, create, status):
    outcomes = {**FOUND, CONTACT_LOOKUP: lookup} | ({CONTACT_CREATE: create} if create else {})
    outcomes = {key: value for key, value in outcomes.items() if key not in (CONVERSATION_CONTACT, CONTACT_MERGE)}
    result = run(signed_in(), outcomes)
    assert result.route == ("queue", QUEUE)
    data = owned(result)
    assert (data["genesys.contactLookupStatus"], data["genesys.linkStatus"]) == (status, "skipped-no-contact")
    assert data["genesys.externalContactId"] == ""
    # A contact is created only when the exact lookup said there is none (404), never on an error.
    assert (CONTACT_CREATE in calls(result)) == (create is not None)
    assert data["crm.customerId"] == "C-100" and data["crm.ticketStatus"] == "created"


@pytest.mark.parametrize(("crm", "name"), [(FOUND[CRM_LOOKUP], "Ada Lovelace"), (Outcome.timeout(), "")])
def test_a_customer_without_a_contact_gets_one_with_the_crm_name_and_the_conversation_on_it(crm, name):
    result = run(
        signed_in(),
        {
            **FOUND,
            CRM_LOOKUP: crm,
            CONTACT_LOOKUP: NOT_FOUND,
            CONTACT_CREATE: Outcome.success(externalContactId="ec-new"),
            CONTACT_MERGE: Outcome.success(externalContactId="ec-new"),
        },
    )
    assert calls(result)[CONTACT_CREATE] == {"externalId": SUB, "displayName": name}
    assert calls(result)[CONTACT_MERGE] == {"sourceContactId": "ephemeral-7", "targetContactId": "ec-new"}
    data = owned(result)
    assert (data["genesys.contactLookupStatus"], data["genesys.linkStatus"]) == ("created", "linked")
    assert data["genesys.externalContactId"] == "ec-new"


@pytest.mark.parametrize(
    ("conversation_contact", "merge", "link", "shown"),
    [
        # Identity resolution (or an earlier merge) already put the conversation on the contact.
        (Outcome.success(conversationContactId="ec-42"), None, "already-linked", "ec-42"),
        (Outcome.success(conversationContactId=""), None, "no-conversation-contact", "ec-42"),
        (Outcome.success(), None, "no-conversation-contact", "ec-42"),
        (Outcome.failure("ACTION.REMOTE_ENDPOINT", "forbidden", status=403), None, "failed", "ec-42"),
        (Outcome.timeout(), None, "timeout", "ec-42"),
        (FOUND[CONVERSATION_CONTACT], Outcome.failure("x", "two curated", status=400), "failed", "ec-42"),
        (FOUND[CONVERSATION_CONTACT], Outcome.timeout(), "timeout", "ec-42"),
        # The merge answers with the resulting contact: agents are shown that one.
        (FOUND[CONVERSATION_CONTACT], Outcome.success(externalContactId="ec-merged"), "linked", "ec-merged"),
        (FOUND[CONVERSATION_CONTACT], Outcome.success(), "linked", "ec-42"),
    ],
    ids=[
        "already-on-it",
        "no-contact",
        "no-contact-unset",
        "read-forbidden",
        "read-slow",
        "merge-refused",
        "merge-slow",
        "merge-new-id",
        "merge-without-id",
    ],
)
def test_the_conversation_is_merged_onto_the_contact_only_when_it_is_elsewhere(
    conversation_contact, merge, link, shown
):
    outcomes = {**FOUND, CONVERSATION_CONTACT: conversation_contact}
    outcomes = {key: value for key, value in outcomes.items() if key != CONTACT_MERGE} | (
        {CONTACT_MERGE: merge} if merge else {}
    )
    result = run(signed_in(), outcomes)
    assert result.route == ("queue", QUEUE)
    assert (CONTACT_MERGE in calls(result)) == (merge is not None)
    assert (owned(result)["genesys.linkStatus"], owned(result)["genesys.externalContactId"]) == (link, shown)


def test_a_customer_who_signs_in_after_the_first_message_stays_unidentified_on_this_conversation():
    # Every stack refuses identityProvider.allowSessionUpgrade: true (components/settings.py) for this:
    # the flow ran for the anonymous first message, and nothing runs it again after the sign-in.
    result = run(ANONYMOUS, TICKET_ONLY, signs_in_after="Tell the customer we are connecting them")
    assert result.route == ("queue", QUEUE)
    assert any("signs in" in step for step in result.trace)
    assert set(calls(result)) == {CRM_TICKET} and calls(result)[CRM_TICKET]["externalId"] == ""
    data = owned(result)
    assert data["customer.verified"] == "false"
    assert data["genesys.linkStatus"] == data["genesys.contactLookupStatus"] == "skipped-anonymous"


@pytest.mark.parametrize("typed", [{}, {"customerId": "C-100"}, {"customerId": SUB, "externalId": SUB}])
def test_anonymous_visitor_reaches_no_profile_whatever_the_widget_typed(typed):
    result = run(ANONYMOUS, TICKET_ONLY, participant_data=typed)
    assert result.route == ("queue", QUEUE)
    # No lookup at all; the ticket is opened without a customer.
    assert calls(result) == {CRM_TICKET: {"conversationId": CONVERSATION, "externalId": "", "site": "unknown"}}
    data = owned(result)
    assert data["customer.verified"] == "false" and data["customer.externalId"] == ""
    assert data["crm.lookupStatus"] == data["genesys.contactLookupStatus"] == "skipped-anonymous"
    assert data["genesys.linkStatus"] == "skipped-anonymous"
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
        (
            signed_in(),
            {CRM_LOOKUP: Outcome.timeout(), CONTACT_LOOKUP: Outcome.timeout(), CRM_TICKET: FOUND[CRM_TICKET]},
        ),
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
    "action",
    [
        "Look up the customer in the CRM",
        "Find the customer's External Contact",
        "Read the conversation's contact",
        "Merge the conversation's contact into the customer's",
        "Open the CRM ticket",
    ],
)
@pytest.mark.parametrize(
    ("on_error", "route"), [("disconnect", ("disconnected",)), ("transferToAcd", ("queue", QUEUE))]
)
def test_a_runtime_error_anywhere_takes_the_stacks_error_handling(action, on_error, route):
    # flowErrorHandling: disconnect is the proven shape (the default); transferToAcd routes to the queue.
    result = run(signed_in(), FOUND, on_error=on_error, error_at=action)
    assert result.error, "the scenario must raise a runtime error"
    assert result.route == route


def test_a_failed_transfer_is_not_repeated_identically_and_the_customer_is_told():
    # A second identical transfer to the same queue adds nothing; the customer is told to write again.
    result = run(signed_in(), FOUND, transfer_fails=True)
    transfers = [name for name in result.trace if name.startswith("Route to")]
    assert transfers == ["Route to the web messaging queue"]
    assert result.route == ("disconnected",) and len(result.responses) == 2, "the customer must hear why"
