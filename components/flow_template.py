"""Render an Architect flow template and validate it locally, before the provider publishes it.

The provider substitutes `{{key}}` by plain string replacement and uploads the result to archy's
job API; an error then surfaces minutes into `pulumi up`. Here the same rendering is checked
first: every placeholder substituted, the YAML parses, it matches flows/architect.schema.json, the
start-up reference resolves, the flow points only at the queue and data actions this stack
declares, and what Archy resolves at publish holds: each callData binding against the contract of
the action the stack wires (input names, required inputs, outputs, the type of the variable each
output lands in), each variable declared, each built-in in flows/builtins.json with its type; and the
participant data the flow owns (flows/participant_data.json) is reset at flow start and is all it writes.
Errors name the file, the state and the action (or the YAML path).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from components import yaml_loading
from components.errors import InvalidConfiguration
from components.schema_check import proven_valid
from components.templating import leftovers, placeholders, substitute

FLOWS_DIR = Path(__file__).resolve().parent.parent / "flows"
SCHEMA_FILE = FLOWS_DIR / "architect.schema.json"
BUILTINS_FILE = FLOWS_DIR / "builtins.json"
PARTICIPANT_DATA_FILE = FLOWS_DIR / "participant_data.json"
FLOW_TYPE = "inboundShortMessage"
_STARTUP_REF = re.compile(rf"^/{FLOW_TYPE}/states/state\[(?P<ref>[^\]]+)\]$")


class FlowError(InvalidConfiguration):
    """The flow template is not a flow this stack can publish."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        super().__init__(f"{file}: invalid Architect flow:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class ActionContract:
    """What Architect reads of a data action at publish: its contract's inputs and outputs."""

    inputs: Mapping[str, str]
    """Input name -> JSON Schema type."""
    required: frozenset[str]
    outputs: Mapping[str, str]
    """Success output name -> JSON Schema type."""

    @classmethod
    def of(cls, contract: Mapping[str, Any]) -> ActionContract:
        """From a data action file's `contract` ({input, output} JSON Schemas)."""

        def types(schema: Mapping[str, Any]) -> dict[str, str]:
            return {name: str(prop.get("type")) for name, prop in (schema.get("properties") or {}).items()}

        required = frozenset(contract["input"].get("required", ()))
        return cls(types(contract["input"]), required, types(contract["output"]))


@dataclass(frozen=True)
class FlowReferences:
    """What the rendered flow must point at: this stack's queue and data actions."""

    queue_names: frozenset[str]
    data_actions: Mapping[tuple[str, str], ActionContract]
    """(category, action name) -> contract of each data action the stack declares."""


@dataclass(frozen=True)
class RenderedFlow:
    template: Path
    text: str
    document: dict[str, Any]

    @property
    def content_hash(self) -> str:
        """SHA-256 of the rendered text: changes with the YAML and with any substitution."""
        return hashlib.sha256(self.text.encode()).hexdigest()


@cache
def architect_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())


@cache
def builtins() -> dict[str, Any]:
    """flows/builtins.json: the built-in variables (name -> type) and callData failure outputs."""
    data = json.loads(BUILTINS_FILE.read_text())
    return {
        "variables": {name: entry["type"] for name, entry in data["variables"].items()},
        "failureOutputs": dict(data["callDataFailureOutputs"]["outputs"]),
    }


@cache
def owned_participant_data() -> tuple[str, ...]:
    """flows/participant_data.json: the participant data keys the inbound flow owns, in the file's order."""
    return tuple(json.loads(PARTICIPANT_DATA_FILE.read_text())["owned"])


# Architect variable declarations -> the JSON Schema type a contract uses for the same values.
_DECLARED_TYPES = {"stringVariable": "string", "integerVariable": "integer", "booleanVariable": "boolean"}
_STATEMENT_TYPES = {"string": "string", "integer": "integer", "boolean": "boolean"}
_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
_DOTTED_NAME = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)")
_SCOPES = ("State.", "Flow.", "Task.")


def expression_names(expression: str) -> list[str]:
    """Every dotted name an Architect expression reads (variables and built-ins), string literals aside."""
    return _DOTTED_NAME.findall(_STRING_LITERAL.sub('""', expression))


ERROR_HANDLING_CHOICES = ("disconnect", "transferToAcd")
_ERROR_HANDLING_INDENT = 6  # the placeholder's column under `settingsErrorHandling: errorHandling:`


def error_handling(choice: str, queue_name: str) -> str:
    """The {{error_handling}} substitution: the flow-level error handling block, under `errorHandling:`.

    The template holds the placeholder in a comment line (`#{{error_handling}}`) so the file parses as
    YAML unsubstituted; the value starts with a line break, which ends the comment. `disconnect: none:
    true` is the shape of every public Archy export found (Genesys' blueprints); `transferToAcd` mirrors the
    transferToAcd action's own `targetQueue` and is unverified: no export of it was found (docs/how-it-works.md "What
    links a conversation to the customer"). The queue name is a validated setting (no quote, backslash or
    control character), quoted here as a YAML double-quoted scalar.
    """
    indent = "\n" + " " * _ERROR_HANDLING_INDENT
    if choice == "disconnect":
        return f"{indent}disconnect:{indent}  none: true"
    if choice == "transferToAcd":
        queue = json.dumps(queue_name)
        return f"{indent}transferToAcd:{indent}  targetQueue:{indent}    lit:{indent}      name: {queue}"
    raise ValueError(f"flowErrorHandling {choice!r} is not one of {ERROR_HANDLING_CHOICES}")


LANGUAGE_TAG = re.compile(r"[a-z]{2}(-[a-z]{2})?")
"""The language codes the settings schema accepts (components/settings.schema.json sites.*.languages): lower
case `ll` or `ll-cc`, the form of every public Archy export found (`en-us`: the blueprint's
MergeExternalContactMessageFlow.yaml, the provider's examples/resources/genesyscloud_architect_ivr/*.yaml).
A code lands as a YAML mapping key and a quoted scalar, which this form cannot break. Whether Architect
publishes a flow in each such code (e.g. bare `de` rather than `de-de`) is unverified until a publish accepts it."""
_LANGUAGES_INDENT = 4  # the placeholder's column under `supportedLanguages:`


def flow_languages(sites: Sequence[tuple[Sequence[str], str]]) -> tuple[str, tuple[str, ...]]:
    """The flow's default and supported languages from the sites' (languages, defaultLanguage).

    Supported: the union of every site's languages, sorted. Default: the default most sites share; when
    sites disagree evenly, the alphabetically first of the tied ones, so the result never depends on the
    order of the sites map. Raises ValueError for a code the flow cannot hold.
    """
    supported = sorted({language for languages, _ in sites for language in languages})
    defaults = Counter(default for _, default in sites)
    if not supported or not defaults:
        raise ValueError("no site declares a language")
    most = max(defaults.values())
    default = min(language for language, count in defaults.items() if count == most)
    bad = [code for code in [*supported, default] if not LANGUAGE_TAG.fullmatch(code)]
    if bad:
        raise ValueError(f"language code(s) {bad} are not lower-case ll or ll-cc (e.g. en-us, de)")
    if default not in supported:
        raise ValueError(f"default language {default!r} is not among the sites' languages {supported}")
    return default, tuple(supported)


def supported_languages(languages: Sequence[str]) -> str:
    """The {{supported_languages}} substitution: one entry per language under `supportedLanguages:`, with no
    default language skill (the blueprint's shape). Like error_handling, it sits in a comment line and starts
    with a line break."""
    indent = "\n" + " " * _LANGUAGES_INDENT
    for code in languages:
        if not LANGUAGE_TAG.fullmatch(code):
            raise ValueError(f"language code {code!r} is not lower-case ll or ll-cc")
    return "".join(f"{indent}{code}:{indent}  defaultLanguageSkill:{indent}    noValue: true" for code in languages)


def _yaml_path(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def _walk(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, str, Any]]:
    """Every (path, action type, action body) in the document, nested branches included."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("transferToAcd", "callData") and isinstance(value, dict):
                yield (*path, key), key, value
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*path, i))


def render(template: Path, substitutions: dict[str, str]) -> RenderedFlow:
    """Substitute like the provider does, then parse. Raises FlowError naming the file."""
    name = template.name
    try:
        raw = template.read_text()
    except OSError as error:
        raise FlowError(name, [f"cannot read the flow template ({error.strerror})"]) from None
    # The header comment documents the placeholders; the rest (comment lines in it too, where the
    # provider substitutes as well) must be fully substituted.
    lines = raw.splitlines()
    header = next((i for i, line in enumerate(lines) if not line.lstrip().startswith("#")), len(lines))
    body = "\n".join(lines[header:])
    body_placeholders = placeholders(body)
    problems = [
        f"placeholder {{{{{key}}}}} has no substitution" for key in sorted(body_placeholders - set(substitutions))
    ]
    problems += [
        f"substitution '{key}' is not used by the template" for key in sorted(set(substitutions) - body_placeholders)
    ]
    # Malformed ones ({{ key }}, odd characters) would be published literally by the provider.
    problems += [
        f"{leftover} is not a placeholder the provider substitutes: write {{{{key}}}} (letters, digits, _ . -)"
        for leftover in leftovers(substitute(body, substitutions))
        if leftover[2:-2] not in body_placeholders
    ]
    text = substitute(raw, substitutions)
    if problems:
        raise FlowError(name, problems)
    try:
        document = yaml_loading.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise FlowError(name, [f"YAML syntax error{where}: {getattr(error, 'problem', error)}"]) from None
    return RenderedFlow(template=template, text=text, document=document)


def _schema_problems(document: Any) -> list[str]:
    """Every way the flow breaks the schema; run only when the quick check could not prove it valid."""
    import jsonschema  # about 40 ms to import: a valid flow never pays it

    validator = jsonschema.Draft202012Validator(architect_schema())
    return [
        f"{_yaml_path(error.absolute_path)}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


def validate(flow: RenderedFlow, references: FlowReferences) -> None:
    """Check the rendered flow against the schema and this stack's references; raise FlowError."""
    document, name = flow.document, flow.template.name
    if not isinstance(document, dict) or FLOW_TYPE not in document:
        found = ", ".join(document) if isinstance(document, dict) else type(document).__name__
        raise FlowError(name, [f"(top): wrong flow type: expected '{FLOW_TYPE}', found {found}"])
    problems = [] if proven_valid(document, architect_schema()) else _schema_problems(document)
    if problems:
        raise FlowError(name, problems)

    flow_doc = document[FLOW_TYPE]
    ref_ids = [state["state"]["refId"] for state in flow_doc["states"]]
    match = _STARTUP_REF.match(flow_doc["startUpRef"])
    if not match or match["ref"] not in ref_ids:
        problems.append(
            f"{FLOW_TYPE}.startUpRef: {flow_doc['startUpRef']!r} does not name a state; refIds are {ref_ids}"
        )
    for path, kind, body in _walk(document):
        where = _yaml_path(path)
        if kind == "transferToAcd":
            queue = body.get("targetQueue", {}).get("lit", {}).get("name")
            if queue not in references.queue_names:
                problems.append(f"{where}.targetQueue: queue {queue!r} is not declared by this stack")
        else:
            for category, spec in body.get("category", {}).items():
                for action in spec.get("dataAction", {}):
                    if (category, action) not in references.data_actions:
                        problems.append(
                            f"{where}.category: data action {category!r} / {action!r} is not declared by this stack"
                        )
    flow_variables = _declared(flow_doc.get("variables"))
    for item in flow_doc["states"]:
        problems += _state_problems(item["state"], flow_variables, references)
    start = next((s["state"] for s in flow_doc["states"] if match and s["state"]["refId"] == match["ref"]), None)
    problems += _owned_data_problems(flow_doc["states"], start)
    if problems:
        raise FlowError(name, problems)


def _declared(variables: list[dict[str, Any]]) -> dict[str, str]:
    return {body["name"]: _DECLARED_TYPES[kind] for item in variables or [] for kind, body in item.items()}


def _nodes(node: Any, path: str, skip: tuple[str, ...] = ()) -> Iterator[tuple[str, Any, Any]]:
    """Every (path, key, value) pair below node, not descending into the keys in skip."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", key, value
            if key not in skip:
                yield from _nodes(value, f"{path}.{key}", skip)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _nodes(value, f"{path}[{i}]", skip)


def _actions(actions: Any, path: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (path, kind, body) action of a list, the ones in branches included."""
    for i, item in enumerate(actions or []):
        for kind, body in item.items():
            here = f"{path}[{i}].{kind}"
            yield here, kind, body
            for at, key, value in _nodes(body, here, skip=("actions",)):
                if key == "actions" and isinstance(value, list):
                    yield from _actions(value, at)


def _state_problems(state: dict[str, Any], flow_variables: dict[str, str], references: FlowReferences) -> list[str]:
    """What Archy would refuse at publish in one state: bindings, variables and built-ins."""
    known = builtins()
    variables = {**flow_variables, **_declared(state.get("variables"))}
    path = f"{FLOW_TYPE}.states[{state['refId']}]"
    problems: list[str] = []
    for action_path, kind, body in _actions(state.get("actions"), f"{path}.actions"):
        where = f"state '{state['name']}', action '{body.get('name')}'"
        # The action's own expressions; the actions in its branches are visited on their own.
        for _, key, value in _nodes(body, action_path, skip=("actions", "outputs")):
            if key == "exp" and isinstance(value, str):
                for used in expression_names(value):
                    if used.startswith(_SCOPES):
                        problems += _variable_problems(variables, where, used, None, "the expression reads")
                    elif used not in known["variables"]:
                        problems.append(
                            f"{where}: {used} is not a built-in of the {FLOW_TYPE} flow ({BUILTINS_FILE.name})"
                        )
        if kind == "updateData":
            for statement in body.get("statements", []):
                for statement_kind, detail in statement.items():
                    expected = _STATEMENT_TYPES.get(statement_kind)
                    problems += _variable_problems(variables, where, detail["variable"], expected, "the statement")
        if kind == "getParticipantData":
            for item in body.get("attributes", []):
                problems += _variable_problems(
                    variables, where, item["attribute"]["variable"], "string", "participant data"
                )
        if kind != "callData":
            continue
        for category, spec in body.get("category", {}).items():
            for action, binding in spec.get("dataAction", {}).items():
                contract = references.data_actions.get((category, action))
                if contract is None:
                    continue  # reported above as not declared by this stack
                at = f"{where} ({category} / {action})"
                inputs = binding.get("inputs") or {}
                problems += [
                    f"{at}: input {key!r} is not in the action's contract; its inputs are {sorted(contract.inputs)}"
                    for key in sorted(set(inputs) - set(contract.inputs))
                ]
                problems += [
                    f"{at}: required input {key!r} is not bound" for key in sorted(contract.required - set(inputs))
                ]
                for outputs_key, allowed in (
                    ("successOutputs", contract.outputs),
                    ("failureOutputs", known["failureOutputs"]),
                ):
                    for key, out in (binding.get(outputs_key) or {}).items():
                        if key not in allowed:
                            problems.append(
                                f"{at}: {outputs_key} {key!r} is not an output of the action; "
                                f"its outputs are {sorted(allowed)}"
                            )
                        elif isinstance(out, dict) and "var" in out:
                            problems += _variable_problems(
                                variables, at, out["var"], allowed[key], f"{outputs_key} {key!r}"
                            )
    return problems


def _owned_data_problems(states: list[dict[str, Any]], start: dict[str, Any] | None) -> list[str]:
    """The flow resets every key it owns at flow start and writes no other: a key it wrote without resetting it
    first could be pre-set by the visitor (custom attributes land as participant data under their own names)."""
    owned = owned_participant_data()
    source = f"{PARTICIPANT_DATA_FILE.parent.name}/{PARTICIPANT_DATA_FILE.name}"
    problems: list[str] = []
    for item in states:
        state = item["state"]
        for _, kind, body in _actions(state.get("actions"), ""):
            if kind != "setParticipantData":
                continue
            for written in body["attributes"]:
                name = written["attribute"]["name"]
                where = f"state '{state['name']}', action '{body['name']}'"
                if "lit" not in name:
                    problems.append(f"{where}: a participant data name must be a literal (lit), not {name}")
                elif name["lit"] not in owned:
                    problems.append(
                        f"{where}: writes {name['lit']!r}, which {source} does not list as owned; add it there "
                        "and to the reset at flow start"
                    )
    if start is None:
        return problems  # the start-up reference is reported above
    # Only reads may come before the reset: the first action that is not one must be it, before any branch.
    first = next((item for item in start.get("actions") or [] if "getParticipantData" not in item), {})
    reset = first.get("setParticipantData")
    if reset is None:
        return [
            *problems,
            f"state '{start['name']}': its first action after reads must reset the participant data the flow "
            f"owns ({source}), so a visitor cannot pre-set it; found {next(iter(first), 'none')}",
        ]
    names = [written["attribute"]["name"].get("lit") for written in reset["attributes"]]
    where = f"state '{start['name']}', action '{reset['name']}'"
    problems += [
        f"{where}: does not reset {key!r}, which {source} lists as owned; a visitor could pre-set it"
        for key in owned
        if key not in names
    ]
    problems += [
        f"{where}: resets {key!r} twice" for key in dict.fromkeys(n for n in names if n and names.count(n) > 1)
    ]
    return problems


def _variable_problems(variables: dict[str, str], where: str, name: str, expected: str | None, what: str) -> list[str]:
    """A variable the flow reads or writes is declared, and of the type the value has."""
    declared = variables.get(name)
    if declared is None:
        return [f"{where}: {what} {name!r}, which is not a declared variable of the state"]
    if expected is not None and declared != expected:
        return [f"{where}: {what} is a {expected}, stored in {declared} variable {name}"]
    return []
