"""The inbound message flow: rendered, validated and pointed at this stack's queue and data actions."""

from __future__ import annotations

import hashlib
import re
import shutil

import pytest

from components.flow_template import FLOWS_DIR, FlowError, FlowReferences, render, validate

TEMPLATE = FLOWS_DIR / "inbound_message.yaml"
SUBSTITUTIONS = {
    "flow_name": "stg-Inbound Web Messaging",
    "division": "Home",
    "queue_name": "stg-Web Messaging Support",
    "crm_category": "stg-CRM Data Actions",
    "crm_lookup_action": "Look up customer by external id",
    "crm_ticket_action": "Create ticket for conversation",
    "contacts_category": "stg-Genesys Cloud Data Actions",
    "contacts_action": "Find external contact by external id",
}
REFERENCES = FlowReferences(
    queue_names=frozenset({"stg-Web Messaging Support"}),
    data_actions=frozenset(
        {
            ("stg-CRM Data Actions", "Look up customer by external id"),
            ("stg-CRM Data Actions", "Create ticket for conversation"),
            ("stg-Genesys Cloud Data Actions", "Find external contact by external id"),
        }
    ),
)


def broken_copy(tmp_path, edit):
    target = tmp_path / TEMPLATE.name
    shutil.copy(TEMPLATE, target)
    target.write_text(edit(target.read_text()))
    return target


def flow_errors(template, substitutions=SUBSTITUTIONS, references=REFERENCES) -> list[str]:
    with pytest.raises(FlowError) as caught:
        validate(render(template, substitutions), references)
    assert caught.value.file == template.name
    return caught.value.problems


def test_committed_flow_renders_and_validates():
    rendered = render(TEMPLATE, SUBSTITUTIONS)
    validate(rendered, REFERENCES)
    assert "{{" not in rendered.text.split("inboundShortMessage:", 1)[1]
    flow = rendered.document["inboundShortMessage"]
    assert flow["name"] == SUBSTITUTIONS["flow_name"]
    assert flow["division"] == "Home"


def actions_of(document):
    return document["inboundShortMessage"]["states"][0]["state"]["actions"]


def walk_actions(actions, path=()):
    """Every (kind, body, path of (kind, branch) pairs above it) in an action list, branches included."""
    for action in actions:
        ((kind, body),) = action.items()
        yield kind, body, path
        for branch, output in (body.get("outputs") or {}).items():
            yield from walk_actions(output["actions"], (*path, (kind, body, branch)))


def test_every_data_action_outcome_still_reaches_the_transfer():
    actions = actions_of(render(TEMPLATE, SUBSTITUTIONS).document)
    # The transfer follows the lookups at the state's top level, so every branch falls through to it;
    # after it come only the retry and what to tell the customer when both transfers failed.
    kinds = [next(iter(a)) for a in actions]
    assert kinds[-4:] == ["transferToAcd", "transferToAcd", "sendResponse", "disconnect"], kinds
    found = list(walk_actions(actions))
    calls = [body for kind, body, _ in found if kind == "callData"]
    assert len(calls) == 3
    for call in calls:
        assert set(call["outputs"]) == {"success", "failure", "timeout"}, call["name"]
    # Nothing on any branch ends the conversation or routes elsewhere.
    nested_exits = [(kind, path) for kind, _, path in found if path and kind in ("disconnect", "transferToAcd")]
    assert not nested_exits, nested_exits


def test_flow_level_errors_transfer_to_the_queue_instead_of_disconnecting():
    flow = render(TEMPLATE, SUBSTITUTIONS).document["inboundShortMessage"]
    handling = flow["settingsErrorHandling"]["errorHandling"]
    assert handling == {"transferToAcd": {"targetQueue": {"lit": {"name": SUBSTITUTIONS["queue_name"]}}}}


def test_missing_state_fails_with_its_path(tmp_path):
    template = broken_copy(tmp_path, lambda t: t.replace("refId: Identify and route_10", "refId: Somewhere else_10"))
    problems = flow_errors(template)
    assert any(p.startswith("inboundShortMessage.startUpRef:") for p in problems), problems


def test_state_without_actions_fails_with_its_path(tmp_path):
    template = broken_copy(tmp_path, lambda t: re.sub(r"(?m)^        actions:$", "        acts:", t, count=1))
    problems = flow_errors(template)
    assert any(p.startswith("inboundShortMessage.states[0].state") for p in problems), problems


def test_unsubstituted_placeholder_fails(tmp_path):
    substitutions = {k: v for k, v in SUBSTITUTIONS.items() if k != "queue_name"}
    problems = flow_errors(TEMPLATE, substitutions)
    assert problems == ["placeholder {{queue_name}} has no substitution"]


def test_unused_substitution_fails():
    problems = flow_errors(TEMPLATE, {**SUBSTITUTIONS, "queue_id": "x"})
    assert problems == ["substitution 'queue_id' is not used by the template"]


def test_wrong_flow_type_fails(tmp_path):
    template = broken_copy(tmp_path, lambda t: t.replace("inboundShortMessage:\n", "inboundCall:\n", 1))
    problems = flow_errors(template)
    assert problems[0].startswith("(top): wrong flow type"), problems


def test_unknown_queue_fails_with_its_path():
    problems = flow_errors(TEMPLATE, {**SUBSTITUTIONS, "queue_name": "Some Other Queue"})
    assert any(".transferToAcd.targetQueue: queue 'Some Other Queue'" in p for p in problems), problems


def test_undeclared_data_action_fails_with_its_path():
    problems = flow_errors(TEMPLATE, {**SUBSTITUTIONS, "crm_lookup_action": "Delete customer"})
    assert any(".callData.category: data action" in p and "Delete customer" in p for p in problems), problems


def test_unquoted_yes_key_is_caught(tmp_path):
    # PyYAML reads an unquoted yes: as True, which Architect would not accept as the decision branch.
    template = broken_copy(tmp_path, lambda t: t.replace('"yes":', "yes:", 1))
    problems = flow_errors(template)
    assert any("decision" in p for p in problems), problems


def test_content_hash_follows_substitutions():
    first = render(TEMPLATE, SUBSTITUTIONS)
    second = render(TEMPLATE, {**SUBSTITUTIONS, "division": "Support"})
    assert first.content_hash == render(TEMPLATE, dict(SUBSTITUTIONS)).content_hash
    assert first.content_hash != second.content_hash


def test_flow_resource_gets_template_substitutions_and_hash(run):
    (flow,) = run.of_type(":Flow")
    assert flow.inputs["filepath"] == "flows/inbound_message.yaml"
    substitutions = flow.inputs["substitutions"]
    rendered = render(TEMPLATE, substitutions)
    (queue,) = run.of_type(":RoutingQueue")
    assert substitutions["queue_name"] == queue.inputs["name"]
    actions = {(a.inputs["category"], a.inputs["name"]): a for a in run.of_type(":IntegrationAction")}
    called = [
        (substitutions["crm_category"], substitutions["crm_lookup_action"]),
        (substitutions["crm_category"], substitutions["crm_ticket_action"]),
        (substitutions["contacts_category"], substitutions["contacts_action"]),
    ]
    assert set(called) == set(actions)
    # A contract change replaces an action (new id); the flow must republish against it, so the
    # trigger covers the rendered YAML and the ids (the mocks' id is `<resource name>-id`).
    ids = sorted(f"{actions[key].name}-id" for key in called)
    expected = hashlib.sha256("\n".join([rendered.content_hash, *ids]).encode()).hexdigest()
    assert flow.inputs["updateTriggerHash"] == expected, flow.urn


def test_placeholder_with_spaces_fails_because_the_provider_would_publish_it_literally(tmp_path):
    template = broken_copy(tmp_path, lambda t: t.replace('name: "{{flow_name}}"', 'name: "{{ flow_name }}"', 1))
    problems = flow_errors(template)
    assert any(p.startswith("{{ flow_name }} is not a placeholder the provider substitutes") for p in problems), (
        problems
    )
