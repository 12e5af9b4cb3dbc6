"""Unit tests of the strict Architect flow interpreter (tests/flow_interpreter.py) on small hand-written flows."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.flow_interpreter import NOT_SET, FlowInterpreterError, Outcome, Scenario, parse_expression, run_flow

AUTH = "Message.IsAuthenticated"
SUB = "Message.Message.senderAddressInfo.addressDisplayable"
ACTIONS0 = r"inboundShortMessage\.states\[0\]\.state\.actions"


# ---- builders for small flows, shaped like the real Archy exports
def var(name: str, kind: str = "string", init: dict | None = None) -> dict:
    return {f"{kind}Variable": {"name": name, "initialValue": init or {"noValue": True}, "isInput": False,
                                "isOutput": False}}


def flow(*actions: dict, variables: tuple = (), error_handling: dict | None = None, states: tuple = ()) -> dict:
    main = {"name": "Main", "refId": "Main_10", "actions": list(actions)}
    if variables:
        main["variables"] = list(variables)
    return {"inboundShortMessage": {
        "name": "test", "division": "Home", "startUpRef": "/inboundShortMessage/states/state[Main_10]",
        "defaultLanguage": "en-us", "supportedLanguages": {"en-us": {"defaultLanguageSkill": {"noValue": True}}},
        "settingsErrorHandling": {"errorHandling": error_handling or {"disconnect": {"none": True}}},
        "states": [{"state": main}, *({"state": s} for s in states)]}}


def set_pd(name: str, **attributes: dict) -> dict:
    return {"setParticipantData": {"name": name, "attributes": [
        {"attribute": {"name": {"lit": key}, "value": value}} for key, value in attributes.items()]}}


def get_pd(name: str, key: str, variable: str) -> dict:
    return {"getParticipantData": {"name": name, "attributes": [
        {"attribute": {"name": {"lit": key}, "variable": variable}}]}}


def decision(name: str, exp: str, yes: list | None = None, no: list | None = None) -> dict:
    outputs = {k: {"actions": v} for k, v in (("yes", yes), ("no", no)) if v}
    return {"decision": {"name": name, "condition": {"exp": exp}, "outputs": outputs}}


def update(name: str, kind: str, variable: str, value: dict) -> dict:
    return {"updateData": {"name": name, "statements": [{kind: {"variable": variable, "value": value}}]}}


def call(name: str, inputs: dict | None = None, success_out: dict | None = None, failure_out: dict | None = None,
         **branches: list) -> dict:
    config: dict[str, Any] = {"inputs": inputs or {"id": {"exp": '"42"'}}}
    if success_out:
        config["successOutputs"] = {k: {"var": v} for k, v in success_out.items()}
    if failure_out:
        config["failureOutputs"] = {k: {"var": v} for k, v in failure_out.items()}
    body = {"name": name, "timeout": {"lit": {"seconds": 10}},
            "category": {"CRM": {"dataAction": {"Lookup": config}}}}
    if branches:
        body["outputs"] = {k: {"actions": v} for k, v in branches.items()}
    return {"callData": body}


def transfer(name: str = "Transfer", queue: str = "Web") -> dict:
    return {"transferToAcd": {"name": name, "targetQueue": {"lit": {"name": queue}}, "priority": {"lit": 0},
                              "preferredAgents": {"noValue": True}, "languageSkill": {"noValue": True}}}


def disconnect(name: str = "Disconnect") -> dict:
    return {"disconnect": {"name": name}}


def lit(value: object) -> dict:
    return {"lit": value}


def exp(text: str) -> dict:
    return {"exp": text}


def run(document: dict, **scenario: Any) -> Any:
    return run_flow(document, Scenario(**scenario))


# ---- constructs
def test_participant_data_round_trip_and_transfer():
    doc = flow(
        get_pd("Read id", "customerId", "State.id"),
        get_pd("Read missing", "absent", "State.missing"),
        set_pd("Write", copied=exp("State.id"), verified=exp(f'If({AUTH}, "true", "false")'), fixed=lit("x")),
        transfer(),
        disconnect(),
        variables=(var("State.id"), var("State.missing")),
    )
    result = run(doc, builtins={AUTH: False}, participant_data={"customerId": "c-1"})
    assert result.route == ("queue", "Web")
    assert result.trace == ["Read id", "Read missing", "Write", "Transfer"]
    assert result.participant_data == {"customerId": "c-1", "copied": "c-1", "verified": "false", "fixed": "x"}
    assert result.variables == {"State.id": "c-1", "State.missing": NOT_SET}
    assert result.calls == [] and result.error is None


def test_decision_takes_the_matching_branch_and_a_missing_branch_continues():
    doc = flow(
        decision("Signed in?", AUTH, yes=[set_pd("Yes", who=exp(SUB))], no=[set_pd("No", who=lit("anon"))]),
        decision("Only yes", f"!{AUTH}", yes=[set_pd("Negated", negated=lit("yes"))]),
        disconnect(),
    )
    signed_in = run(doc, builtins={AUTH: True, SUB: "sub-7"})
    assert signed_in.participant_data == {"who": "sub-7"}
    assert signed_in.trace == ["Signed in?", "Yes", "Only yes", "Disconnect"]
    assert signed_in.route == ("disconnected",)
    anonymous = run(doc, builtins={AUTH: False, SUB: "ignored"})
    assert anonymous.participant_data == {"who": "anon", "negated": "yes"}


def test_update_data_sets_each_variable_type_and_initial_values():
    doc = flow(
        update("Set text", "string", "State.text", exp('Append("a", "b", Trim("  c "))')),
        update("Set flag", "boolean", "State.flag", exp('State.text == "abc" and State.count == 3')),
        update("Set count", "integer", "State.count", lit(4)),
        disconnect(),
        variables=(var("State.text"), var("State.flag", "boolean"), var("State.count", "integer", lit(3))),
    )
    assert run(doc).variables == {"State.text": "abc", "State.flag": True, "State.count": 4}


def test_switch_first_true_case_wins_else_default():
    def switch(*cases: tuple[str, str], default: str | None = None) -> dict:
        first_true: dict = {"cases": [{"case": {"value": exp(cond), "actions": [set_pd(name, hit=lit(name))]}}
                                      for cond, name in cases]}
        if default:
            first_true["default"] = {"actions": [set_pd(default, hit=lit(default))]}
        return {"switch": {"name": "Switch", "evaluate": {"firstTrue": first_true}}}

    doc = flow(switch(("false", "A"), ("true", "B"), ("true", "C"), default="D"), disconnect())
    assert run(doc).participant_data == {"hit": "B"}
    assert run(flow(switch(("false", "A"), default="D"), disconnect())).participant_data == {"hit": "D"}
    no_default = run(flow(switch(("false", "A")), disconnect()))
    assert no_default.participant_data == {} and no_default.trace == ["Switch", "Disconnect"]


CALL_FLOW = flow(
    call("Lookup", inputs={"externalId": exp("State.id"), "blank": {"noValue": True}},
         success_out={"customerId": "State.found"}, failure_out={"errorCode": "State.code", "userMessage": "State.why"},
         success=[set_pd("Found", status=lit("found"))], failure=[set_pd("Failed", status=lit("failed"))]),
    transfer(),
    variables=(var("State.id", init=lit("x-1")), var("State.found"), var("State.code"), var("State.why")),
)


def test_call_data_success_binds_outputs_and_records_inputs():
    result = run(CALL_FLOW, data_actions={("CRM", "Lookup"): Outcome.success(customerId="c-9")})
    assert result.calls == [("CRM", "Lookup", {"externalId": "x-1", "blank": NOT_SET})]
    assert result.variables["State.found"] == "c-9"
    assert result.participant_data == {"status": "found"}
    assert result.trace == ["Lookup", "Found", "Transfer"] and result.route == ("queue", "Web")


def test_call_data_success_without_an_output_leaves_it_not_set():
    result = run(CALL_FLOW, data_actions={("CRM", "Lookup"): Outcome.success()})
    assert result.variables["State.found"] is NOT_SET


def test_call_data_failure_binds_failure_outputs():
    result = run(CALL_FLOW, data_actions={("CRM", "Lookup"): Outcome.failure(error_type="bad.request", message="no")})
    assert (result.variables["State.code"], result.variables["State.why"]) == ("bad.request", "no")
    assert result.participant_data == {"status": "failed"}


def test_call_data_timeout_without_a_branch_continues():
    result = run(CALL_FLOW, data_actions={("CRM", "Lookup"): Outcome.timeout()})
    assert result.trace == ["Lookup", "Transfer"] and result.participant_data == {}
    assert result.variables["State.found"] is NOT_SET


def test_send_response_and_change_state():
    second = {"name": "Second", "refId": "Second_11", "variables": [var("State.n", "integer", lit(1))],
              "actions": [{"sendResponse": {"name": "Reply", "messageBody": exp('Append("n=", ToString(State.n))')}},
                          disconnect()]}
    doc = flow({"changeState": {"name": "Go", "targetStateRef": "/inboundShortMessage/states/state[Second_11]"}},
               states=(second,))
    result = run(doc)
    assert result.responses == ["n=1"] and result.trace == ["Go", "Reply", "Disconnect"]


def test_change_state_loop_is_refused():
    doc = flow({"changeState": {"name": "Again", "targetStateRef": "/inboundShortMessage/states/state[Main_10]"}})
    with pytest.raises(FlowInterpreterError, match="changeState loop"):
        run(doc)


# ---- endings, transfer failure, error handling
def test_falling_off_the_end_of_a_state_is_reported():
    assert run(flow(set_pd("Only", a=lit("b")))).route == ("ended",)


def test_failed_transfer_continues_with_the_next_action():
    result = run(flow(transfer(), set_pd("Fallback", routed=lit("no")), disconnect()), transfer_fails=True)
    assert result.route == ("disconnected",) and result.participant_data == {"routed": "no"}


def test_failed_transfer_without_a_following_action_is_transfer_failed():
    assert run(flow(transfer()), transfer_fails=True).route == ("transfer-failed",)
    nested = flow(decision("Always", "true", yes=[transfer()]))
    assert run(nested, transfer_fails=True).route == ("transfer-failed",)


def test_error_at_goes_to_flow_error_handling_disconnect():
    result = run(flow(set_pd("First", a=lit("1")), set_pd("Boom", b=lit("2")), transfer()), error_at="Boom")
    assert result.route == ("disconnected",)
    assert result.trace == ["First", "Boom"] and result.participant_data == {"a": "1"}
    assert "Boom" in (result.error or "")


def test_error_handling_can_transfer_to_a_queue():
    doc = flow(set_pd("Boom", a=lit("1")), disconnect(),
               error_handling={"transferToAcd": {"targetQueue": {"lit": {"name": "Fallback"}}}})
    assert run(doc, error_at="Boom").route == ("queue", "Fallback")
    assert run(doc, error_at="Boom", transfer_fails=True).route == ("transfer-failed",)


# ---- NOT_SET
@pytest.mark.parametrize(("expression", "expected"), [
    ('State.x == ""', False),
    ("State.x == NOT_SET", True),
    ('State.x != "a"', True),
    ('ToString(NOT_SET) == ""', False),
    ("IsSet(State.x)", False),
    ("IsNotSetOrEmpty(State.x)", True),
    ('IsNotSetOrEmpty("")', True),
    ('IsNotSetOrEmpty(" ")', False),
    ('IsSet(State.x) and State.x == "a"', False),
    ('If(IsSet(State.x), State.x, "fallback") == "fallback"', True),
])
def test_not_set_is_accepted_where_architect_allows_it(expression: str, expected: bool):
    doc = flow(update("Eval", "boolean", "State.out", exp(expression)), disconnect(),
               variables=(var("State.x"), var("State.out", "boolean")))
    assert run(doc).variables["State.out"] is expected


@pytest.mark.parametrize("expression", ['Append("a", State.x) == "a"', "Trim(State.x) == State.x",
                                        "State.flag", "!State.flag", "State.flag or true", "State.n > 1"])
def test_not_set_where_a_value_is_needed_is_a_runtime_error(expression: str):
    doc = flow(decision("Check", expression, yes=[transfer()], no=[transfer()]),
               variables=(var("State.x"), var("State.flag", "boolean"), var("State.n", "integer")))
    result = run(doc)
    assert result.route == ("disconnected",) and "NOT_SET" in (result.error or "")


def test_not_set_participant_value_policy():
    doc = flow(set_pd("Write", keep=exp("State.x")), disconnect(), variables=(var("State.x"),))
    assert run(doc).route == ("disconnected",)  # default: runtime error -> flow error handling
    assert run(doc, not_set_participant_value="skip").participant_data == {}
    assert run(doc, not_set_participant_value="empty").participant_data == {"keep": ""}


# ---- expression parser
@pytest.mark.parametrize(("text", "ast"), [
    ("true or false and false", ("or", ("lit", True), ("and", ("lit", False), ("lit", False)))),
    ("!a == b", ("cmp", "==", ("not", ("var", "a")), ("var", "b"))),
    ('"say \\"hi\\" \\\\ ok"', ("lit", 'say "hi" \\ ok')),
    ("append(\"a\", 12)", ("call", "append", [("lit", "a"), ("lit", 12)])),
    ("(a or b) and c", ("and", ("or", ("var", "a"), ("var", "b")), ("var", "c"))),
])
def test_parse_expression(text: str, ast: tuple):
    assert parse_expression(text, "here") == ast


@pytest.mark.parametrize(("text", "message"), [
    ("Lower(a)", r"unknown function Lower\(\)"),
    ("If(a, b)", "takes 3..3 arguments"),
    ('"a\\n"', "escapes"),
    ("a + b", "cannot read expression"),
    ("a and", "unexpected"),
    ("(a", "expected \\)"),
    ('If(a, b, ")"', "expected \\)"),
])
def test_parse_expression_refuses_the_unknown(text: str, message: str):
    with pytest.raises(FlowInterpreterError, match=f"^here: .*{message}"):
        parse_expression(text, "here")


# ---- refusals: each names the YAML path
def refuses(document: dict, pattern: str, **scenario: Any) -> None:
    with pytest.raises(FlowInterpreterError, match=pattern):
        run(document, **scenario)


def test_unknown_action_is_refused_even_on_an_untaken_branch():
    doc = flow(decision("Never", "false", yes=[{"playAudio": {"name": "Play"}}]), disconnect())
    refuses(doc, rf"{ACTIONS0}\[0\]\.decision\.outputs\.yes\.actions\[0\]: unknown action 'playAudio'")


def test_unknown_key_on_a_known_action_is_refused():
    doc = flow(transfer(), disconnect())
    doc["inboundShortMessage"]["states"][0]["state"]["actions"][0]["transferToAcd"]["outputs"] = {}
    refuses(doc, rf"{ACTIONS0}\[0\]\.transferToAcd: unknown key 'outputs'")


def test_unknown_function_is_refused():
    refuses(flow(decision("Odd", "Contains(\"a\", \"b\")", yes=[disconnect()]), disconnect()),
            rf"{ACTIONS0}\[0\]\.decision\.condition\.exp: unknown function Contains")


def test_undeclared_variable_is_refused_even_on_an_untaken_branch():
    doc = flow(decision("Never", "false", yes=[set_pd("Write", a=exp("State.typo"))]), disconnect())
    refuses(doc, "undeclared variable 'State.typo'")
    refuses(flow(get_pd("Read", "a", "Flow.nope"), disconnect()), "undeclared variable 'Flow.nope'")


def test_missing_builtin_is_refused():
    refuses(flow(decision("Auth?", AUTH, yes=[disconnect()]), disconnect()),
            f"builtin {AUTH} not given in scenario")


def test_only_listed_builtins_of_their_listed_type_are_accepted():
    # Hand-written from the Resource Center's "Authenticated web messaging attributes": IsAuthenticated is a
    # Boolean; a misspelt name is no built-in at all, whatever the scenario supplies.
    doc = flow(decision("Auth?", "Message.IsAuthenticatd", yes=[disconnect()]), disconnect())
    refuses(doc, "Message.IsAuthenticatd is not a built-in of the inboundShortMessage flow",
            builtins={"Message.IsAuthenticated": True})
    refuses(flow(disconnect()), "Message.IsAuthenticatd=True: that built-in is not in builtins.json",
            builtins={"Message.IsAuthenticatd": True})
    refuses(flow(disconnect()), "Message.IsAuthenticated='true': that built-in is a bool",
            builtins={AUTH: "true"})


def test_a_sign_in_during_the_run_changes_no_builtin():
    doc = flow(set_pd("First", a=lit("x")), decision("Auth?", AUTH, yes=[transfer()], no=[disconnect()]))
    result = run(doc, builtins={AUTH: False}, signs_in_after="First")
    assert result.route == ("disconnected",)
    assert any("signs in" in step for step in result.trace)
    refuses(doc, "scenario.signs_in_after: no action is named 'Nope'", builtins={AUTH: False}, signs_in_after="Nope")


def test_scenario_data_actions_must_match_the_flow():
    refuses(CALL_FLOW, r"scenario gives no Outcome for data action \('CRM', 'Lookup'\)")
    refuses(CALL_FLOW, r"scenario\.data_actions: \('CRM', 'Typo'\) is not called",
            data_actions={("CRM", "Lookup"): Outcome.timeout(), ("CRM", "Typo"): Outcome.timeout()})
    refuses(CALL_FLOW, "does not bind: \\['extra'\\]",
            data_actions={("CRM", "Lookup"): Outcome.success(customerId="c", extra="x")})


def test_call_data_failure_outputs_must_be_real_ones():
    doc = copy.deepcopy(CALL_FLOW)
    config = doc["inboundShortMessage"]["states"][0]["state"]["actions"][0]["callData"]["category"]["CRM"]
    config["dataAction"]["Lookup"]["failureOutputs"] = {"errorType": {"var": "State.code"}}
    refuses(doc, r"failureOutputs: unknown key 'errorType'")


def test_error_at_must_name_an_action():
    refuses(flow(disconnect()), r"scenario\.error_at: no action is named 'Nope'", error_at="Nope")


def test_other_flow_types_and_type_errors_are_refused():
    refuses({"inboundCall": {}}, r"^\(top\): only a single 'inboundShortMessage' flow")
    refuses(flow(update("Bad", "string", "State.s", lit(3)), disconnect(), variables=(var("State.s"),)),
            "cannot assign 3 to str variable State.s")
    refuses(flow(decision("Mixed", 'true == "true"', yes=[disconnect()]), disconnect()), "cannot compare")
    refuses(flow(update("Wrong kind", "boolean", "State.s", lit(True)), disconnect(), variables=(var("State.s"),)),
            "boolean statement for State.s of another type")


def test_bad_state_references_are_refused():
    doc = flow(disconnect())
    doc["inboundShortMessage"]["startUpRef"] = "/inboundShortMessage/states/state[Missing]"
    refuses(doc, r"inboundShortMessage\.startUpRef: .*names no state")


def test_flow_variables_start_once_and_survive_a_state_change():
    second = {"name": "Second", "refId": "Second_11", "actions": [
        update("Count", "integer", "Flow.n", exp("If(Flow.n == 1, 2, 0)")), disconnect()]}
    doc = flow({"changeState": {"name": "Go", "targetStateRef": "/inboundShortMessage/states/state[Second_11]"}},
               states=(second,))
    doc["inboundShortMessage"]["variables"] = [var("Flow.n", "integer", lit(1))]
    assert run(doc).variables == {"Flow.n": 2}
    refuses(flow(get_pd("Read", "a", "Task.x"), disconnect()), "undeclared variable 'Task.x'")
