"""The inbound message flow: rendered, validated and pointed at this stack's queue and data actions."""

from __future__ import annotations

import hashlib
import re
import shutil

import pytest

from components.data_actions import ACTIONS_DIR
from components.flow_template import (
    FLOWS_DIR,
    ActionContract,
    FlowError,
    FlowReferences,
    error_handling,
    render,
    validate,
)
from tests import docs_text

TEMPLATE = FLOWS_DIR / "inbound_message.yaml"
SUBSTITUTIONS = {
    "flow_name": "stg-Inbound Web Messaging",
    "division": "Home",
    "queue_name": "stg-Web Messaging Support",
    "crm_category": "stg-CRM Data Actions",
    "crm_lookup_action": "Look up customer by external id",
    "crm_ticket_action": "Create ticket for conversation",
    "contacts_category": "stg-Genesys Cloud Data Actions",
    "contacts_lookup_action": "Find external contact by external id",
    "contacts_enrich_action": "Create or enrich external contact by external id",
    "contacts_read_action": "Get the conversation's external contact",
    "contacts_merge_action": "Merge contact into the customer's",
    "error_handling": "\n      disconnect:\n        none: true",
    "default_language": "en-us",
    "supported_languages": "\n    en-us:\n      defaultLanguageSkill:\n        noValue: true",
}
CRM, CONTACTS = "stg-CRM Data Actions", "stg-Genesys Cloud Data Actions"
# Written by hand: the CRM contract the ticketing presets keep (lookup: externalId -> customerId,
# displayName, tier; ticket: conversationId, externalId, site -> ticketId, ticketUrl), and the Genesys
# actions' inputs and outputs as the flow needs them.
STRINGS = "string"
CONTRACTS = {
    (CRM, "Look up customer by external id"): ActionContract(
        {"externalId": STRINGS},
        frozenset({"externalId"}),
        {"customerId": STRINGS, "displayName": STRINGS, "tier": STRINGS},
    ),
    (CRM, "Create ticket for conversation"): ActionContract(
        {"conversationId": STRINGS, "externalId": STRINGS, "site": STRINGS},
        frozenset({"conversationId", "externalId", "site"}),
        {"ticketId": STRINGS, "ticketUrl": STRINGS},
    ),
    (CONTACTS, "Find external contact by external id"): ActionContract(
        {"externalId": STRINGS}, frozenset({"externalId"}), {"externalContactId": STRINGS}
    ),
    (CONTACTS, "Create or enrich external contact by external id"): ActionContract(
        {"externalId": STRINGS, "displayName": STRINGS},
        frozenset({"externalId", "displayName"}),
        {"externalContactId": STRINGS},
    ),
    (CONTACTS, "Get the conversation's external contact"): ActionContract(
        {"conversationId": STRINGS}, frozenset({"conversationId"}), {"conversationContactId": STRINGS}
    ),
    (CONTACTS, "Merge contact into the customer's"): ActionContract(
        {"sourceContactId": STRINGS, "targetContactId": STRINGS},
        frozenset({"sourceContactId", "targetContactId"}),
        {"externalContactId": STRINGS},
    ),
}
REFERENCES = FlowReferences(queue_names=frozenset({"stg-Web Messaging Support"}), data_actions=CONTRACTS)


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


def branches(body):
    """(branch name, actions) of an action: decision and callData outputs, switch cases and default."""
    for branch, output in (body.get("outputs") or {}).items():
        yield branch, output["actions"]
    first_true = (body.get("evaluate") or {}).get("firstTrue") or {}
    for i, case in enumerate(first_true.get("cases", [])):
        yield f"case{i}", case["case"]["actions"]
    if "default" in first_true:
        yield "default", first_true["default"]["actions"]


def walk_actions(actions, path=()):
    """Every (kind, body, path of (kind, branch) pairs above it) in an action list, branches included."""
    for action in actions:
        ((kind, body),) = action.items()
        yield kind, body, path
        for branch, inner in branches(body):
            yield from walk_actions(inner, (*path, (kind, body, branch)))


def seconds(timeout):
    literal = timeout["lit"]
    return literal.get("seconds", 0) + 60 * literal.get("minutes", 0)


def longest_wait(actions):
    """The most seconds of callData timeouts any path through the actions can wait, in order."""
    total = 0
    for action in actions:
        ((kind, body),) = action.items()
        own = seconds(body["timeout"]) if kind == "callData" else 0
        total += own + max((longest_wait(inner) for _, inner in branches(body)), default=0)
    return total


def test_every_data_action_outcome_still_reaches_the_transfer():
    actions = actions_of(render(TEMPLATE, SUBSTITUTIONS).document)
    # The transfer follows the lookups at the state's top level, so every branch falls through to it;
    # after it come only the retry and what to tell the customer when both transfers failed.
    kinds = [next(iter(a)) for a in actions]
    assert kinds[-3:] == ["transferToAcd", "sendResponse", "disconnect"], kinds
    found = list(walk_actions(actions))
    calls = [body for kind, body, _ in found if kind == "callData"]
    assert len(calls) == 6
    for call in calls:
        assert set(call["outputs"]) == {"success", "failure", "timeout"}, call["name"]
    # Nothing on any branch ends the conversation or routes elsewhere.
    nested_exits = [(kind, path) for kind, _, path in found if path and kind in ("disconnect", "transferToAcd")]
    assert not nested_exits, nested_exits


def test_the_worst_case_wait_before_routing_is_the_one_the_readme_states():
    actions = actions_of(render(TEMPLATE, SUBSTITUTIONS).document)
    # Signed in, hand-counted: CRM 10 + contact lookup 5 + create 5 + read 5 + merge 5 + ticket 10.
    assert longest_wait(actions) == 40
    assert "at most 40 seconds" in docs_text.section("What links a conversation to the customer")
    # The customer hears from us before the first data action.
    kinds = [next(iter(a)) for a in actions]
    assert kinds.index("sendResponse") < kinds.index("decision")


def action_files():
    """Every data action definition, presets in subfolders included."""
    return sorted(ACTIONS_DIR.rglob("*.yaml"))


def test_each_data_action_times_out_before_the_flow_step_that_calls_it():
    # A step whose own timeout is not longer than its action's never takes its timeout branch.
    import yaml

    steps = [b for k, b, _ in walk_actions(actions_of(render(TEMPLATE, SUBSTITUTIONS).document)) if k == "callData"]
    genesys_files = {
        "contacts_lookup_action": "contact_lookup.yaml",
        "contacts_enrich_action": "contact_enrich.yaml",
        "contacts_read_action": "conversation_contact.yaml",
        "contacts_merge_action": "contact_merge.yaml",
    }
    file_of = {SUBSTITUTIONS[key]: file for key, file in genesys_files.items()}
    genesys_steps, crm_steps = {}, []
    for step in steps:
        ((category, spec),) = step["category"].items()
        ((action, _),) = spec["dataAction"].items()
        if category == CRM:
            crm_steps.append(seconds(step["timeout"]))
        else:
            genesys_steps[file_of[action]] = seconds(step["timeout"])
    assert set(genesys_steps) == set(genesys_files.values()) and len(crm_steps) == 2
    for path in action_files():
        spec = yaml.safe_load(path.read_text())
        if "contract" not in spec:
            continue  # not a data action the flow calls (the Salesforce preset's custom auth action)
        own = spec["timeoutSeconds"]
        # Every other file is a CRM action (a ticketing preset too): it may stand in for either CRM step.
        genesys = path.parent == ACTIONS_DIR and path.name in genesys_steps
        limit = genesys_steps[path.name] if genesys else min(crm_steps)
        assert own < limit, f"{path}: timeoutSeconds {own} is not below the flow step's {limit}"


def test_every_input_in_a_json_request_body_is_escaped():
    import yaml

    for path in action_files():
        template = (yaml.safe_load(path.read_text())["request"] or {}).get("requestTemplate", "")
        for match in re.finditer(r"\$\{input\.[^}]*\}", template):
            before = template[: match.start()]
            assert before.endswith("$esc.jsonString("), f"{path}: {match[0]} is not inside $esc.jsonString(...)"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        # Every public Archy export found (Genesys' blueprints) uses this shape.
        ("disconnect", {"disconnect": {"none": True}}),
        # The transferToAcd action's own targetQueue shape; unverified as error handling.
        ("transferToAcd", {"transferToAcd": {"targetQueue": {"lit": {"name": SUBSTITUTIONS["queue_name"]}}}}),
    ],
)
def test_flow_level_error_handling_is_the_stacks_choice(choice, expected):
    substitutions = {**SUBSTITUTIONS, "error_handling": error_handling(choice, SUBSTITUTIONS["queue_name"])}
    rendered = render(TEMPLATE, substitutions)
    validate(rendered, REFERENCES)
    assert rendered.document["inboundShortMessage"]["settingsErrorHandling"]["errorHandling"] == expected


def test_flow_level_error_handling_follows_the_stack_setting(run):
    (flow,) = run.of_type(":Flow")
    rendered = render(TEMPLATE, flow.inputs["substitutions"]).document["inboundShortMessage"]
    assert list(rendered["settingsErrorHandling"]["errorHandling"]) == [run.settings.flow_error_handling]


def test_an_unknown_error_handling_choice_is_refused():
    with pytest.raises(ValueError, match="flowErrorHandling 'retry'"):
        error_handling("retry", "q")


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
        *(
            (substitutions["contacts_category"], substitutions[key])
            for key in (
                "contacts_lookup_action",
                "contacts_enrich_action",
                "contacts_read_action",
                "contacts_merge_action",
            )
        ),
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


# What Archy resolves at publish, refused before upload: each mutation names the state and the action.
STATE = "state 'Identify and route'"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda t: re.sub(
                r"(?m)^( +)externalId:(\n +exp: State.externalId\n +successOutputs:\n +customerId:)",
                r"\1externalld:\2",
                t,
                count=1,
            ),
            [
                f"{STATE}, action 'Look up the customer in the CRM' ({CRM} / Look up customer by external id): "
                "input 'externalld' is not in the action's contract; its inputs are ['externalId']",
                f"{STATE}, action 'Look up the customer in the CRM' ({CRM} / Look up customer by external id): "
                "required input 'externalId' is not bound",
            ],
        ),
        (
            lambda t: re.sub(r"\n +site:\n +exp: If\(IsNotSetOrEmpty\(State.siteHint\)[^\n]*", "", t, count=1),
            [
                f"{STATE}, action 'Open the CRM ticket' ({CRM} / Create ticket for conversation): "
                "required input 'site' is not bound"
            ],
        ),
        (
            lambda t: t.replace(
                "ticketUrl:\n                          var: State.ticketUrl",
                "ticketLink:\n                          var: State.ticketUrl",
                1,
            ),
            [
                f"{STATE}, action 'Open the CRM ticket' ({CRM} / Create ticket for conversation): successOutputs "
                "'ticketLink' is not an output of the action; its outputs are ['ticketId', 'ticketUrl']"
            ],
        ),
        (
            lambda t: t.replace(
                "tier:\n                                    var: State.crmTier",
                "tier:\n                                    var: State.crmFailureStatus",
                1,
            ),
            [
                f"{STATE}, action 'Look up the customer in the CRM' ({CRM} / Look up customer by external id): "
                "successOutputs 'tier' is a string, stored in integer variable State.crmFailureStatus"
            ],
        ),
        (
            lambda t: t.replace("exp: Message.IsAuthenticated and", "exp: Message.IsAuthenticatd and", 1),
            [
                f"{STATE}, action 'Is the customer signed in?': Message.IsAuthenticatd is not a built-in of the "
                "inboundShortMessage flow (builtins.json)"
            ],
        ),
        (
            lambda t: t.replace(
                "exp: State.conversationContactId == State.externalContactId",
                "exp: State.conversationContact == State.externalContactId",
                1,
            ),
            [
                f"{STATE}, action 'Is the conversation on the customer's contact?': the expression reads "
                "'State.conversationContact', which is not a declared variable of the state"
            ],
        ),
    ],
    ids=[
        "misspelt-input",
        "missing-required-input",
        "unknown-output",
        "string-into-integer",
        "misspelt-builtin",
        "undeclared-variable",
    ],
)
def test_what_archy_refuses_at_publish_is_refused_before_upload(tmp_path, edit, expected):
    template = broken_copy(tmp_path, edit)
    assert template.read_text() != TEMPLATE.read_text(), "the edit must change the flow"
    assert flow_errors(template) == expected


def test_a_failure_output_the_action_lacks_is_refused(tmp_path):
    template = broken_copy(
        tmp_path,
        lambda t: t.replace(
            "failureOutputs:\n                                  status:",
            "failureOutputs:\n                                  httpStatus:",
            1,
        ),
    )
    (problem,) = flow_errors(template)
    assert "failureOutputs 'httpStatus' is not an output of the action" in problem, problem


def test_the_contracts_checked_are_the_ones_the_stack_wires(run):
    # The plan's flow was validated against the contracts of the actions it declared: every action the
    # flow calls exists with a contract whose inputs cover what the flow binds.
    import json as json_module

    (flow,) = run.of_type(":Flow")
    rendered = render(TEMPLATE, flow.inputs["substitutions"]).document
    declared = {(a.inputs["category"], a.inputs["name"]): a for a in run.of_type(":IntegrationAction")}
    for kind, body, _ in walk_actions(actions_of(rendered)):
        if kind != "callData":
            continue
        ((category, spec),) = body["category"].items()
        ((action, binding),) = spec["dataAction"].items()
        contract = json_module.loads(declared[(category, action)].inputs["contractInput"])
        assert set(binding.get("inputs", {})) <= set(contract["properties"]), (category, action)
        assert set(contract.get("required", [])) <= set(binding.get("inputs", {})), (category, action)


def test_preflight_plan_fails_on_a_publish_mismatch_naming_the_file_state_and_action(tmp_path, monkeypatch, capsys):
    import components.stack as stack
    from preflight.__main__ import main

    broken = broken_copy(tmp_path, lambda t: t.replace("Message.IsAuthenticated and", "Message.IsAuthenticatd and", 1))
    monkeypatch.setattr(stack, "FLOWS_DIR", broken.parent)
    assert main(["plan", "--stack", "staging"]) == 1
    err = capsys.readouterr().err
    assert "inbound_message.yaml" in err
    assert "state 'Identify and route', action 'Is the customer signed in?': Message.IsAuthenticatd" in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("choice", ["disconnect", "transferToAcd"])
def test_the_file_is_yaml_before_and_after_substitution_and_its_header_stays_a_comment(choice):
    import yaml

    # Tools that read the file unsubstituted (preflight's estate view) need it to parse as it is.
    assert list(yaml.safe_load(TEMPLATE.read_text())) == ["inboundShortMessage"]
    substitutions = {**SUBSTITUTIONS, "error_handling": error_handling(choice, SUBSTITUTIONS["queue_name"])}
    text = render(TEMPLATE, substitutions).text
    header = text.split("\ninboundShortMessage:", 1)[0].splitlines()
    assert all(line.startswith("#") for line in header), [line for line in header if not line.startswith("#")]


# --- the participant data the flow owns (flows/participant_data.json) ------------------------------
# Hand-written edits of the committed flow; the keys named are the README's "Participant data the flow owns".
RESET_TIER = '''                - attribute:
                    name:
                      lit: crm.tier
                    value:
                      lit: ""
'''


def test_a_reset_that_drops_an_owned_key_fails(tmp_path):
    template = broken_copy(tmp_path, lambda t: t.replace(RESET_TIER, "", 1))
    problems = flow_errors(template)
    assert any("does not reset 'crm.tier'" in p and "visitor could pre-set" in p for p in problems), problems


def test_a_write_of_a_key_the_flow_does_not_own_fails(tmp_path):
    # The ticket's link written later under a name the reset never cleared.
    lines = TEMPLATE.read_text().splitlines(keepends=True)
    later = next(i for i, line in enumerate(lines) if i > 200 and line.strip() == "lit: crm.ticketUrl")
    lines[later] = lines[later].replace("crm.ticketUrl", "crm.ticketLink")
    template = tmp_path / TEMPLATE.name
    template.write_text("".join(lines))
    problems = flow_errors(template)
    assert any("writes 'crm.ticketLink'" in p and "participant_data.json" in p for p in problems), problems


def test_the_reset_must_come_before_anything_but_reads(tmp_path):
    def move_reset_after_the_greeting(text: str) -> str:
        start = text.index("          - setParticipantData:\n              name: Reset every attribute")
        greeting = text.index("          # Sent before any data action")
        end = text.index("          - decision:\n              name: Is the customer signed in?")
        return text[:start] + text[greeting:end] + text[start:greeting] + text[end:]

    problems = flow_errors(broken_copy(tmp_path, move_reset_after_the_greeting))
    assert any("must reset the participant data the flow owns" in p and "sendResponse" in p for p in problems), (
        problems
    )


def test_an_owned_key_the_flow_never_resets_fails(tmp_path, monkeypatch):
    from components import flow_template

    listed = tmp_path / "participant_data.json"
    listed.write_text('{"owned": ["customer.verified", "customer.loyaltyTier"]}')
    monkeypatch.setattr(flow_template, "PARTICIPANT_DATA_FILE", listed)
    flow_template.owned_participant_data.cache_clear()
    try:
        problems = flow_errors(TEMPLATE)
    finally:
        flow_template.owned_participant_data.cache_clear()
    assert any("does not reset 'customer.loyaltyTier'" in p for p in problems), problems
    # crm.tier is written but no longer listed: refused too.
    assert any("writes 'crm.tier'" in p for p in problems), problems
