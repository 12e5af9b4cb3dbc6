"""Render an Architect flow template and validate it locally, before the provider publishes it.

The provider substitutes `{{key}}` by plain string replacement and uploads the result to archy's
job API; an error then surfaces minutes into `pulumi up`. Here the same rendering is checked
first: every placeholder substituted, the YAML parses, it matches flows/architect.schema.json, the
start-up reference resolves, and the flow points only at the queue and data actions this stack
declares. Errors name the file and the YAML path.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
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
FLOW_TYPE = "inboundShortMessage"
_STARTUP_REF = re.compile(rf"^/{FLOW_TYPE}/states/state\[(?P<ref>[^\]]+)\]$")


class FlowError(InvalidConfiguration):
    """The flow template is not a flow this stack can publish."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        super().__init__(f"{file}: invalid Architect flow:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class FlowReferences:
    """What the rendered flow must point at: this stack's queue and data actions."""

    queue_names: frozenset[str]
    data_actions: frozenset[tuple[str, str]]
    """(category, action name) pairs the stack declares."""


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
    # The header comment documents the placeholders; only the YAML body must be fully substituted.
    body = "\n".join(line for line in raw.splitlines() if not line.lstrip().startswith("#"))
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
    if problems:
        raise FlowError(name, problems)
