"""A small, STRICT interpreter for the Architect (Archy) inboundShortMessage YAML this project uses.

archy cannot run in tests, so the flow's behaviour is checked by running the rendered document through
this interpreter with a scenario table. Anything it does not model makes it refuse
(FlowInterpreterError naming the YAML path); it never guesses. Before running, the whole flow is
checked (every branch, taken or not), so an unknown action or name on an untaken path still refuses.

Real export shapes relied on (GenesysCloudBlueprints repositories unless noted):
- flow skeleton, state `variables:` (stringVariable/booleanVariable noValue), `settingsErrorHandling:
  errorHandling: disconnect: none: true`, transferToAcd `targetQueue: lit: name` + `priority: lit: 0` +
  `preferredAgents/languageSkill/directAgent: noValue: true`:
  merge-ephemeral-message-to-external-contact-blueprint
  modules/inbound-message-flow/MergeExternalContactMessageFlow.yaml
- decision `condition: exp` + `outputs: "yes"/"no": actions`, callData `timeout: lit: minutes`,
  `category: <c>: dataAction: <a>: inputs/successOutputs/failureOutputs`, `outputs: success/failure/timeout`,
  transferToAcd followed by a `disconnect`:
  web-messaging-triage-bot-blueprint terraform/modules/flow/web-messaging-triage-bot.yaml
- callData failure outputs are errorCode, status, correlationId, entityId, entityName, userMessage, ... (NOT
  errorType/errorMessage, which belong to transfer and dataTableLookup actions): same file, and the DataAction
  errorBindings in merge-ephemeral-...-blueprint exports/MergeExternalContactMessageFlow.i3InboundMessage
- updateData `statements: - string: variable: value: lit|exp`, setParticipantData/getParticipantData
  `attributes: - attribute: name: lit ... value: exp | variable:`:
  send-message-transcript-by-email terraform/modules/flow/message-conv-with-transcript.yaml and
  switch-voice-to-web-messaging terraform/modules/inbound-message-flow/Switch from Voice Channel with Context.yaml
- switch `evaluate: firstTrue: default: actions, cases: - case: value: exp, actions`:
  dr-webmessaging-blueprint blueprint/webmessage-emergency-group/modules/flows/MyWebMessenger.yaml
- changeState `targetStateRef: "/<flow type>/states/state[<refId>]"`:
  send-message-transcript-by-email terraform/modules/flow/send-message-transcript-to-customer-by-email.yaml
- transfer failure = the NEXT action: in design-architect-flow-data-actions-for-resiliency
  blueprint/src/CacheExample.i3InboundFlow the TransferPureMatchAction's only path is "Failure" (-> the next
  action), and CacheExampleFlow.yaml puts a "no representatives available" prompt after the transfer. Archy YAML
  has no `outputs:` on transferToAcd, so any is refused; falling off the end after a failed transfer routes
  ("transfer-failed",).
- `errorHandling: transferToAcd:` for message flows is documented ("Transfer the email, message, or chat to a
  queue", help.mypurecloud.com set-default-error-handling-behavior) but no export was found: the shape here
  (`transferToAcd: targetQueue: lit: name:`) mirrors the action and is UNVERIFIED.
Built-ins: only those flows/builtins.json lists (each cited there), with the listed type; a scenario that
sets another, or one of another type, is refused, and so is a flow that reads one not listed. They describe
the message that started the flow (help.mypurecloud.com "Authenticated web messaging attributes":
Message.IsAuthenticated is "True if the authentication was requested for the message when it enters the
queue"), so they hold still for the whole run: a scenario's `signs_in_after` (the customer signs in once
the named action ran) is recorded in the trace and changes nothing the flow reads.
Expressions (help.mypurecloud.com): string literals use backslash escapes; `!`, `==`/`!=`, `<`..`>=`, `and`,
`or` with the documented precedence; `ToString(NOT_SET) == ""` is false (comparing NOT_SET is legal); a NOT_SET
where a function or operator needs a value is a runtime error that invokes the flow's error handler.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

FLOW_TYPE = "inboundShortMessage"
BUILTINS_FILE = Path(__file__).resolve().parent.parent / "flows" / "builtins.json"
BUILTIN_TYPES: dict[str, type] = {
    name: {"string": str, "boolean": bool, "integer": int}[entry["type"]]
    for name, entry in json.loads(BUILTINS_FILE.read_text())["variables"].items()
}
MAX_STEPS = 10_000  # changeState loops would otherwise never end


class FlowInterpreterError(Exception):
    """The flow or the scenario uses something this interpreter does not model (refusal, not a flow outcome)."""


class _NotSet:
    def __repr__(self) -> str:
        return "NOT_SET"


NOT_SET: Any = _NotSet()  # Architect's NOT_SET; scenarios may use it as a builtin value


class _RuntimeFlowError(Exception):
    """An Architect runtime error: the flow's settingsErrorHandling takes over."""


class _Ended(Exception):
    def __init__(self, route: tuple[str, ...]) -> None:
        self.route = route


class _ChangeState(Exception):
    def __init__(self, ref: str) -> None:
        self.ref = ref


@dataclass(frozen=True)
class Outcome:
    kind: Literal["success", "failure", "timeout"]
    outputs: dict[str, object] = field(default_factory=dict)

    @classmethod
    def success(cls, **outputs: object) -> Outcome:
        return cls("success", dict(outputs))

    @classmethod
    def failure(cls, error_type: str = "", message: str = "", **fields: object) -> Outcome:
        # callData failure outputs are errorCode/userMessage/status/...; extra ones go in **fields.
        return cls("failure", {"errorCode": error_type, "userMessage": message, **fields})

    @classmethod
    def timeout(cls) -> Outcome:
        return cls("timeout")


@dataclass
class Scenario:
    builtins: dict[str, object] = field(default_factory=dict)
    participant_data: dict[str, str] = field(default_factory=dict)
    data_actions: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    transfer_fails: bool = False
    error_at: str | None = None
    # Not documented anywhere found: what setParticipantData does with a NOT_SET value. Default treats it
    # as a runtime error (loudest); "skip" leaves the attribute untouched, "empty" writes "".
    not_set_participant_value: Literal["error", "skip", "empty"] = "error"
    signs_in_after: str | None = None  # the customer's session becomes authenticated after this action


@dataclass
class Result:
    route: tuple[str, ...]
    calls: list[tuple[str, str, dict[str, object]]]
    participant_data: dict[str, str]
    trace: list[str]
    variables: dict[str, object]
    responses: list[str] = field(default_factory=list)
    error: str | None = None  # the runtime error that sent the flow to settingsErrorHandling


# ---- shapes: dict = exact keys ("k?" optional); [s] = non-empty list; ("oneof", {k: s}) = one of those keys;
# ("one", s) = exactly one key of any name; ("map", s, allowed|None) = any keys; markers below.
VALUE, VAR, ACTIONS, STATE_REF = "<value>", "<variable>", "<actions>", "<state ref>"
BRANCH = {"actions": ACTIONS}
NO_VALUE = {"noValue": True}
OUT = ("oneof", {"var": VAR, "noValue": True})
FAILURE_KEYS = set(json.loads(BUILTINS_FILE.read_text())["callDataFailureOutputs"]["outputs"])
STATEMENT = {"variable": VAR, "value": VALUE}
SPECS: dict[str, dict[str, Any]] = {
    "setParticipantData": {"name": str, "attributes": [{"attribute": {"name": VALUE, "value": VALUE}}]},
    "getParticipantData": {"name": str, "attributes": [{"attribute": {"name": VALUE, "variable": VAR}}]},
    "updateData": {"name": str, "statements": [("oneof", {"string": STATEMENT, "boolean": STATEMENT,
                                                          "integer": STATEMENT})]},
    "decision": {"name": str, "condition": VALUE, "outputs": {"yes?": BRANCH, "no?": BRANCH}},
    "switch": {"name": str, "evaluate": {"firstTrue": {"cases": [{"case": {"value": VALUE, "actions": ACTIONS}}],
                                                       "default?": BRANCH}}},
    "callData": {"name": str, "timeout": {"lit": ("oneof", {"seconds": int, "minutes": int})},
                 "category": ("one", {"dataAction": ("one", {"inputs?": ("map", VALUE, None),
                                                             "successOutputs?": ("map", OUT, None),
                                                             "failureOutputs?": ("map", OUT, FAILURE_KEYS)})}),
                 "outputs?": {"success?": BRANCH, "failure?": BRANCH, "timeout?": BRANCH}},
    "transferToAcd": {"name": str, "targetQueue": {"lit": {"name": str}}, "priority?": {"lit": int},
                      "preferredAgents?": NO_VALUE, "languageSkill?": NO_VALUE, "directAgent?": NO_VALUE},
    "sendResponse": {"name": str, "messageBody": VALUE},
    "disconnect": {"name": str},
    "changeState": {"name": str, "targetStateRef": STATE_REF},
}
DECL = {"name": str, "initialValue": VALUE, "isInput?": bool, "isOutput?": bool}
VARIABLES = [("oneof", {"stringVariable": DECL, "booleanVariable": DECL, "integerVariable": DECL})]
VAR_TYPES = {"stringVariable": str, "booleanVariable": bool, "integerVariable": int, "string": str,
             "boolean": bool, "integer": int}
FLOW_SHAPE = {"name": str, "division?": str, "description?": str, "startUpRef": STATE_REF, "defaultLanguage?": str,
              "supportedLanguages?": ("map", {"defaultLanguageSkill": NO_VALUE}, None), "variables?": VARIABLES,
              "settingsErrorHandling": {"errorHandling": ("oneof", {"disconnect": {"none": True},
                                                                    "transferToAcd": {"targetQueue":
                                                                                      {"lit": {"name": str}}}})},
              "states": [{"state": {"name": str, "refId": str, "variables?": VARIABLES, "actions": ACTIONS}}]}
_STATE_REF = re.compile(rf"^/{FLOW_TYPE}/states/state\[(?P<ref>[^\]]+)\]$")

# ---- expressions
_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<int>\d+)|(?P<op>==|!=|<=|>=|[!(),<>])|'
                    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*))")
FUNCTIONS = {"if": (3, 3), "isset": (1, 1), "isnotsetorempty": (1, 1), "tostring": (1, 1), "append": (1, 99),
             "trim": (1, 1)}  # Architect function names are case-insensitive (e.g. `contains(` in ani-blacklist)
_LITERALS = {"true": True, "false": False, "NOT_SET": NOT_SET}


def _refuse(path: str, message: str) -> FlowInterpreterError:
    return FlowInterpreterError(f"{path}: {message}")


def parse_expression(text: str, path: str) -> tuple:
    """Tokenize and parse an Architect expression into a tuple AST; refuse anything outside the subset."""
    tokens: list[tuple[str, Any]] = []
    pos = 0
    while text[pos:].strip():
        m = _TOKEN.match(text, pos)
        if not m:
            raise _refuse(path, f"cannot read expression {text!r} at {text[pos:].strip()[:10]!r}")
        kind = m.lastgroup or ""
        value: Any = m[kind]
        if kind == "str":
            if any(escaped not in '"\\' for escaped in re.findall(r"\\(.)", value[1:-1])):
                raise _refuse(path, f'only \\" and \\\\ escapes are modelled: {value}')
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, int(value) if kind == "int" else value))
        pos = m.end()
    tokens.append(("end", None))
    at = [0]

    def peek() -> tuple[str, Any]:
        return tokens[at[0]]

    def take(*ops: str) -> Any:
        kind, value = tokens[at[0]]
        if ops and (kind != "op" or value not in ops):
            raise _refuse(path, f"expected {' or '.join(ops)} in {text!r}, found {value!r}")
        at[0] += 1
        return value

    def binary(tag: str, keyword: str, operand: Any) -> tuple:
        node = operand()
        while peek() == ("name", keyword):
            take()
            node = (tag, node, operand())
        return node

    def equality() -> tuple:
        node = relation()
        while peek()[1] in ("==", "!=") and peek()[0] == "op":
            node = ("cmp", take(), node, relation())
        return node

    def relation() -> tuple:
        node = unary()
        if peek()[0] == "op" and peek()[1] in ("<", "<=", ">", ">="):
            node = ("cmp", take(), node, unary())
        return node

    def unary() -> tuple:
        if peek() == ("op", "!"):
            take()
            return ("not", unary())
        kind, value = peek()
        take()
        if kind in ("str", "int"):
            return ("lit", value)
        if (kind, value) == ("op", "("):
            node = disjunction()
            take(")")
            return node
        if kind != "name" or value in ("and", "or"):
            raise _refuse(path, f"unexpected {value!r} in {text!r}")
        if value in _LITERALS:
            return ("lit", _LITERALS[value])
        if peek() != ("op", "("):
            return ("var", value)
        take()
        args = [] if peek() == ("op", ")") else [disjunction()]
        while peek() == ("op", ","):
            take()
            args.append(disjunction())
        take(")")
        low, high = FUNCTIONS.get(value.lower(), (None, None))
        if low is None:
            raise _refuse(path, f"unknown function {value}() in {text!r}")
        if not low <= len(args) <= high:
            raise _refuse(path, f"{value}() takes {low}..{high} arguments, got {len(args)}")
        return ("call", value.lower(), args)

    def disjunction() -> tuple:
        return binary("or", "or", lambda: binary("and", "and", equality))

    node = disjunction()
    if peek()[0] != "end":
        raise _refuse(path, f"unexpected {peek()[1]!r} in {text!r}")
    return node


def _names(node: tuple) -> list[str]:
    if node[0] == "var":
        return [node[1]]
    children = node[2] if node[0] == "call" else [n for n in node[1:] if isinstance(n, tuple)]
    return [name for child in children for name in _names(child)]


def run_flow(document: dict, scenario: Scenario) -> Result:
    return _Run(document, scenario).run()


class _Run:
    def __init__(self, document: dict, scenario: Scenario) -> None:
        if not isinstance(document, dict) or list(document) != [FLOW_TYPE]:
            found = list(document) if isinstance(document, dict) else type(document).__name__
            raise _refuse("(top)", f"only a single '{FLOW_TYPE}' flow is modelled, found {found}")
        self.s, self.flow = scenario, document[FLOW_TYPE]
        if not isinstance(self.flow, dict):
            raise _refuse(FLOW_TYPE, f"expected a mapping, found {self.flow!r}")
        self.states: dict[str, tuple[dict, str]] = {}
        for i, item in enumerate(self.flow.get("states") or []):
            state = item.get("state", {}) if isinstance(item, dict) else {}
            self.states[str(state.get("refId"))] = (state, f"{FLOW_TYPE}.states[{i}].state")
        self.names: list[str] = []
        self.used_actions: set[tuple[str, str]] = set()
        self.flow_vars = self._declare(self.flow.get("variables") or [], f"{FLOW_TYPE}.variables", "Flow.")
        self.scope: dict[str, type] = {}
        self._shape(self.flow, FLOW_SHAPE, FLOW_TYPE)  # checks every state and branch, taken or not
        for name, value in scenario.builtins.items():
            expected = BUILTIN_TYPES.get(name)
            if expected is None or (value is not NOT_SET and type(value) is not expected):
                wanted = f"a {expected.__name__}" if expected else f"not in {BUILTINS_FILE.name}"
                raise _refuse("scenario.builtins", f"{name}={value!r}: that built-in is {wanted}")
        for field_name in ("error_at", "signs_in_after"):
            if getattr(scenario, field_name) not in (None, *self.names):
                raise _refuse(f"scenario.{field_name}", f"no action is named {getattr(scenario, field_name)!r}")
        for key in set(scenario.data_actions) - self.used_actions:
            raise _refuse("scenario.data_actions", f"{key} is not called by any callData in the flow")
        self.values: dict[str, object] = {}
        self.participant_data = dict(scenario.participant_data)
        self.calls: list[tuple[str, str, dict[str, object]]] = []
        self.trace: list[str] = []
        self.responses: list[str] = []
        self.transfer_failed = False
        self.started = False  # flow variables are initialised once, state variables on every entry

    # ---- static checks
    def _declare(self, decls: list, path: str, prefix: str) -> dict[str, tuple[type, dict]]:
        out: dict[str, tuple[type, dict]] = {}
        for i, item in enumerate(decls if isinstance(decls, list) else []):
            (kind, decl), = item.items() if isinstance(item, dict) and len(item) == 1 else [("?", {})]
            name = decl.get("name") if isinstance(decl, dict) else None
            if not isinstance(name, str) or not name.startswith(prefix) or not kind.endswith("Variable") \
                    or kind not in VAR_TYPES or name in out:
                raise _refuse(f"{path}[{i}]", f"expected a new {prefix}* string/boolean/integer variable: {item!r}")
            out[name] = (VAR_TYPES[kind], decl.get("initialValue"))
        return out

    def _shape(self, node: Any, spec: Any, path: str) -> None:
        if spec is True or spec in (str, int, bool):
            if node is not True if spec is True else type(node) is not spec:
                raise _refuse(path, f"expected {'true' if spec is True else spec.__name__}, found {node!r}")
        elif spec == VALUE:
            self._shape(node, ("oneof", {"lit": "<scalar>", "exp": str, "noValue": True}), path)
            if "exp" in node:
                for name in _names(parse_expression(node["exp"], f"{path}.exp")):
                    self._resolve(name, f"{path}.exp", check_only=True)
        elif spec == "<scalar>":
            if not isinstance(node, str | int | bool):
                raise _refuse(path, f"expected a string/integer/boolean literal, found {node!r}")
        elif spec == VAR:
            if node not in self.scope:
                raise _refuse(path, f"undeclared variable {node!r}")
        elif spec == STATE_REF:
            m = _STATE_REF.match(str(node))
            if not m or m["ref"] not in self.states:
                raise _refuse(path, f"{node!r} names no state; refIds are {sorted(self.states)}")
        elif spec == ACTIONS:
            self._check_actions(node, path)
        elif isinstance(spec, list):
            if not isinstance(node, list) or not node:
                raise _refuse(path, f"expected a non-empty list, found {node!r}")
            for i, item in enumerate(node):
                self._shape(item, spec[0], f"{path}[{i}]")
        elif isinstance(spec, tuple):
            if not isinstance(node, dict) or (spec[0] != "map" and len(node) != 1):
                raise _refuse(path, f"expected a mapping with exactly one key, found {node!r}")
            for key, value in node.items():
                allowed = spec[1] if spec[0] == "oneof" else (spec[2] if spec[0] == "map" else None)
                if allowed is not None and key not in allowed:
                    raise _refuse(path, f"unknown key {key!r} (expected one of {sorted(allowed)})")
                self._shape(value, spec[1][key] if spec[0] == "oneof" else spec[1], f"{path}.{key}")
        elif isinstance(spec, dict):
            if not isinstance(node, dict):
                raise _refuse(path, f"expected a mapping, found {node!r}")
            keys = {k.rstrip("?"): k for k in spec}
            for key in node:
                if key not in keys:
                    raise _refuse(path, f"unknown key {key!r} (expected {sorted(keys)})")
            for key, spec_key in keys.items():
                if key in node:
                    if key == "states":  # each state gets its own scope
                        self._check_states(node[key], f"{path}.states")
                    else:
                        self._shape(node[key], spec[spec_key], f"{path}.{key}")
                elif not spec_key.endswith("?"):
                    raise _refuse(path, f"missing key {key!r}")

    def _check_states(self, states: Any, path: str) -> None:
        if not isinstance(states, list) or not states:
            raise _refuse(path, "expected a non-empty list of states")
        for i, item in enumerate(states):
            state = item.get("state") if isinstance(item, dict) and list(item) == ["state"] else None
            if not isinstance(state, dict):
                raise _refuse(f"{path}[{i}]", f"expected {{state: {{...}}}}, found {item!r}")
            local = self._declare(state.get("variables") or [], f"{path}[{i}].state.variables", "State.")
            self.scope = {n: t for n, (t, _) in {**self.flow_vars, **local}.items()}
            self._shape(state, FLOW_SHAPE["states"][0]["state"], f"{path}[{i}].state")

    def _check_actions(self, actions: Any, path: str) -> None:
        if not isinstance(actions, list) or not actions:
            raise _refuse(path, "expected a non-empty list of actions")
        for i, item in enumerate(actions):
            kind = next(iter(item)) if isinstance(item, dict) and len(item) == 1 else None
            if kind not in SPECS:
                raise _refuse(f"{path}[{i}]", f"unknown action {kind or item!r} (modelled: {sorted(SPECS)})")
            self._shape(item[kind], SPECS[kind], f"{path}[{i}].{kind}")
            self.names.append(item[kind]["name"])
            if kind == "callData":
                (category, spec), = item[kind]["category"].items()
                self.used_actions.add((category, next(iter(spec["dataAction"]))))

    # ---- execution
    def run(self) -> Result:
        ref = _STATE_REF.match(self.flow["startUpRef"])["ref"]  # type: ignore[index]
        error = None
        try:
            try:
                while True:
                    try:
                        self._run_state(ref)
                    except _ChangeState as change:
                        ref = change.ref
            except _RuntimeFlowError as e:
                error = str(e)
                self._error_handling()
        except _Ended as end:
            return Result(end.route, self.calls, self.participant_data, self.trace, self.values, self.responses, error)
        raise AssertionError("unreachable")

    def _run_state(self, ref: str) -> None:
        state, path = self.states[ref]
        local = self._declare(state.get("variables") or [], f"{path}.variables", "State.")
        declared = local if self.started else {**self.flow_vars, **local}
        self.started = True
        self.scope = {n: t for n, (t, _) in {**self.flow_vars, **local}.items()}
        for name, (_, initial) in declared.items():
            self._assign(name, self._value(initial, f"{path}.variables.{name}"), f"{path}.variables.{name}")
        self._run_actions(state["actions"], f"{path}.actions")
        # Archy states need an explicit exit; falling off the end is reported, not papered over.
        raise _Ended(("transfer-failed",) if self.transfer_failed else ("ended",))

    def _run_actions(self, actions: list, path: str) -> None:
        for i, item in enumerate(actions):
            (kind, body), = item.items()
            if len(self.trace) >= MAX_STEPS:
                raise _refuse(path, f"more than {MAX_STEPS} actions executed (changeState loop?)")
            self.trace.append(body["name"])
            self.transfer_failed = False
            if body["name"] == self.s.error_at:
                raise _RuntimeFlowError(f"{path}[{i}].{kind}: scenario error_at {body['name']!r}")
            getattr(self, f"_do_{kind}")(body, f"{path}[{i}].{kind}")
            if body["name"] == self.s.signs_in_after:
                self.trace.append("(the customer signs in; the flow's built-ins stay those of the first message)")

    def _do_setParticipantData(self, body: dict, path: str) -> None:
        for i, item in enumerate(body["attributes"]):
            at = f"{path}.attributes[{i}].attribute"
            name = self._string(item["attribute"]["name"], f"{at}.name", allow_not_set=False)
            value = self._string(item["attribute"]["value"], f"{at}.value", allow_not_set=True)
            if value is NOT_SET and self.s.not_set_participant_value == "error":
                raise _RuntimeFlowError(f"{at}.value: NOT_SET value for participant attribute {name!r}")
            if value is not NOT_SET or self.s.not_set_participant_value == "empty":
                self.participant_data[name] = "" if value is NOT_SET else value

    def _do_getParticipantData(self, body: dict, path: str) -> None:
        for i, item in enumerate(body["attributes"]):
            at = f"{path}.attributes[{i}].attribute"
            name = self._string(item["attribute"]["name"], f"{at}.name", allow_not_set=False)
            if self.scope[item["attribute"]["variable"]] is not str:
                raise _refuse(f"{at}.variable", "participant data can only be read into a string variable")
            self._assign(item["attribute"]["variable"], self.participant_data.get(name, NOT_SET), f"{at}.variable")

    def _do_updateData(self, body: dict, path: str) -> None:
        for i, item in enumerate(body["statements"]):
            (kind, statement), = item.items()
            at = f"{path}.statements[{i}].{kind}"
            if self.scope[statement["variable"]] is not VAR_TYPES[kind]:
                raise _refuse(at, f"{kind} statement for {statement['variable']} of another type")
            self._assign(statement["variable"], self._value(statement["value"], f"{at}.value"), at)

    def _do_decision(self, body: dict, path: str) -> None:
        output = "yes" if self._boolean(body["condition"], f"{path}.condition") else "no"
        if output in body["outputs"]:  # a missing output simply continues with the next action
            self._run_actions(body["outputs"][output]["actions"], f"{path}.outputs.{output}.actions")

    def _do_switch(self, body: dict, path: str) -> None:
        first_true = body["evaluate"]["firstTrue"]
        for i, item in enumerate(first_true["cases"]):
            at = f"{path}.evaluate.firstTrue.cases[{i}].case"
            if self._boolean(item["case"]["value"], f"{at}.value"):
                return self._run_actions(item["case"]["actions"], f"{at}.actions")
        if "default" in first_true:
            self._run_actions(first_true["default"]["actions"], f"{path}.evaluate.firstTrue.default.actions")

    def _do_callData(self, body: dict, path: str) -> None:
        (category, spec), = body["category"].items()
        (action, config), = spec["dataAction"].items()
        at = f"{path}.category.{category}.dataAction.{action}"
        inputs = {k: self._value(v, f"{at}.inputs.{k}") for k, v in (config.get("inputs") or {}).items()}
        self.calls.append((category, action, inputs))
        outcome = self.s.data_actions.get((category, action))
        if not isinstance(outcome, Outcome):
            raise _refuse(at, f"scenario gives no Outcome for data action ({category!r}, {action!r})")
        bindings = config.get(f"{outcome.kind}Outputs") or {} if outcome.kind != "timeout" else {}
        unbound = sorted(set(outcome.outputs) - set(bindings))
        if outcome.kind == "success" and unbound:  # most likely a typo in the scenario table
            raise _refuse(f"{at}.successOutputs", f"scenario returns outputs the flow does not bind: {unbound}")
        for key, binding in bindings.items():
            if "var" in binding:
                self._assign(binding["var"], outcome.outputs.get(key, NOT_SET), f"{at}.{outcome.kind}Outputs.{key}")
        branch = (body.get("outputs") or {}).get(outcome.kind)
        if branch:  # a missing branch continues with the next action
            self._run_actions(branch["actions"], f"{path}.outputs.{outcome.kind}.actions")

    def _do_transferToAcd(self, body: dict, path: str) -> None:
        if not self.s.transfer_fails:
            raise _Ended(("queue", body["targetQueue"]["lit"]["name"]))
        self.transfer_failed = True  # Architect continues with the next action (its Failure path)

    def _do_sendResponse(self, body: dict, path: str) -> None:
        self.responses.append(self._string(body["messageBody"], f"{path}.messageBody", allow_not_set=False))

    def _do_disconnect(self, body: dict, path: str) -> None:
        raise _Ended(("disconnected",))

    def _do_changeState(self, body: dict, path: str) -> None:
        raise _ChangeState(_STATE_REF.match(body["targetStateRef"])["ref"])  # type: ignore[index]

    def _error_handling(self) -> None:
        (kind, spec), = self.flow["settingsErrorHandling"]["errorHandling"].items()
        if kind == "disconnect":
            raise _Ended(("disconnected",))
        raise _Ended(("transfer-failed",) if self.s.transfer_fails else ("queue", spec["targetQueue"]["lit"]["name"]))

    # ---- values
    def _assign(self, name: str, value: object, path: str) -> None:
        expected = self.scope[name]
        if value is not NOT_SET and type(value) is not expected:
            raise _refuse(path, f"cannot assign {value!r} to {expected.__name__} variable {name}")
        self.values[name] = value

    def _value(self, node: dict, path: str) -> object:
        if "lit" in node:
            return node["lit"]
        if "exp" in node:
            return self._eval(parse_expression(node["exp"], f"{path}.exp"), f"{path}.exp")
        return NOT_SET

    def _string(self, node: dict, path: str, *, allow_not_set: bool) -> Any:
        value = self._value(node, path)
        if value is NOT_SET and not allow_not_set:
            raise _RuntimeFlowError(f"{path}: NOT_SET where a string is required")
        if value is not NOT_SET and not isinstance(value, str):
            raise _refuse(path, f"expected a string, found {value!r}")
        return value

    def _boolean(self, node: dict, path: str) -> bool:
        return self._check_bool(self._value(node, path), path)

    def _check_bool(self, value: object, path: str) -> bool:
        if value is NOT_SET:
            raise _RuntimeFlowError(f"{path}: NOT_SET where a boolean is required")
        if type(value) is not bool:
            raise _refuse(path, f"expected a boolean, found {value!r}")
        return value

    def _resolve(self, name: str, path: str, check_only: bool = False) -> object:
        if name.split(".")[0] in ("State", "Flow", "Task"):
            if name not in self.scope:
                raise _refuse(path, f"undeclared variable {name!r}")
            return None if check_only else self.values.get(name, NOT_SET)
        if name not in BUILTIN_TYPES:
            raise _refuse(path, f"{name} is not a built-in of the {FLOW_TYPE} flow ({BUILTINS_FILE.name})")
        if name not in self.s.builtins:
            raise _refuse(path, f"builtin {name} not given in scenario")
        return self.s.builtins[name]

    def _eval(self, node: tuple, path: str) -> object:
        tag = node[0]
        if tag == "lit":
            return node[1]
        if tag == "var":
            return self._resolve(node[1], path)
        if tag == "not":
            return not self._check_bool(self._eval(node[1], path), path)
        if tag in ("and", "or"):  # short-circuit, so `IsSet(x) and x == "a"` guards work
            left = self._check_bool(self._eval(node[1], path), path)
            return left if left == (tag == "or") else self._check_bool(self._eval(node[2], path), path)
        if tag == "cmp":
            op, a, b = node[1], self._eval(node[2], path), self._eval(node[3], path)
            if op in ("==", "!="):
                if NOT_SET not in (a, b) and type(a) is not type(b):
                    raise _refuse(path, f"cannot compare {a!r} {op} {b!r}")
                return (a == b) == (op == "==")  # NOT_SET equals only NOT_SET (docs: ToString(NOT_SET) == "" is false)
            if NOT_SET in (a, b):
                raise _RuntimeFlowError(f"{path}: NOT_SET operand of {op}")
            if type(a) is not int or type(b) is not int:
                raise _refuse(path, f"{op} compares integers only, found {a!r}, {b!r}")
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]  # type: ignore[operator]
        name, args = node[1], node[2]
        if name == "if":  # only the chosen branch is evaluated, like the documented If(IsSet(x), x, 0) guard
            return self._eval(args[1] if self._check_bool(self._eval(args[0], path), path) else args[2], path)
        values = [self._eval(arg, path) for arg in args]
        if name == "isset":
            return values[0] is not NOT_SET
        if name == "tostring":
            v = values[0]
            return v if v is NOT_SET or isinstance(v, str) else str(v).lower() if type(v) is bool else str(v)
        if name == "isnotsetorempty" and values[0] is NOT_SET:
            return True
        if NOT_SET in values:  # Append/Trim with NOT_SET: not documented as allowed, so treated as an error
            raise _RuntimeFlowError(f"{path}: NOT_SET argument to {name}()")
        if not all(isinstance(v, str) for v in values):
            raise _refuse(path, f"{name}() takes strings, found {values!r}")
        return {"isnotsetorempty": lambda: values[0] == "", "append": lambda: "".join(values),  # type: ignore[arg-type]
                "trim": lambda: values[0].strip()}[name]()  # type: ignore[union-attr]
