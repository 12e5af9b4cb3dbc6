"""components/schema_check.py never calls a document valid that jsonschema (the reference) calls invalid.

The documents: every committed one each schema validates (the example and committed stack settings, the
data files, the rendered flow), and thousands of mutations of them (keys removed, added, renamed; values
of another type, empty, altered). Expected answers come from jsonschema, not from the code under test.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from components import yaml_loading
from components.schema_check import proven_valid
from tests.conftest import ROOT, STACKS, example_config, stack_config

NS = "genesys-messaging:"
MUTATIONS_PER_DOCUMENT = 400


def settings_document(config: dict[str, str]) -> dict[str, Any]:
    """The settings object the loader validates: the namespace's keys, decoded as the loader decodes them."""
    from components.settings import _decode

    return {
        key.removeprefix(NS): _decode(key.removeprefix(NS), value)
        for key, value in config.items()
        if key.startswith(NS)
    }


def rendered_flow() -> Any:
    from components.flow_template import render
    from tests.test_flow import SUBSTITUTIONS, TEMPLATE

    return render(TEMPLATE, SUBSTITUTIONS).document


def cases() -> Iterator[tuple[str, Path, Any]]:
    settings = ROOT / "components" / "settings.schema.json"
    for stack in STACKS:
        yield f"settings-{stack}-example", settings, settings_document(example_config(stack).config)
        yield f"settings-{stack}-committed", settings, settings_document(stack_config(stack).config)
    schemas = ROOT / "components" / "schemas"
    yield (
        "access",
        schemas / "access.schema.json",
        yaml_loading.safe_load((ROOT / "components/access.yaml").read_text()),
    )
    yield (
        "oidc",
        schemas / "oidc_integration.schema.json",
        yaml_loading.safe_load((ROOT / "components/oidc_integration.yaml").read_text()),
    )
    yield (
        "web-messaging",
        schemas / "web_messaging.schema.json",
        yaml_loading.safe_load((ROOT / "components/web_messaging.yaml").read_text()),
    )
    for action in sorted((ROOT / "components" / "data_actions").glob("*.yaml")):
        yield action.stem, schemas / "data_action.schema.json", yaml_loading.safe_load(action.read_text())
    yield "flow", ROOT / "flows" / "architect.schema.json", rendered_flow()


CASES = list(cases())

ODD_VALUES: list[Any] = [None, True, False, 0, 1, -1, 1.5, 2.0, "", " ", "x", "*", "https://", [], [""], {}, {"": 1}]


def paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, (*prefix, i))


def mutated(document: Any, rng: random.Random) -> Any:
    """The document with one to three random changes."""
    result = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(list(paths(result)))
        parent, last = (None, None) if not path else (_at(result, path[:-1]), path[-1])
        target = _at(result, path)
        move = rng.randrange(6)
        if move == 0 and parent is not None:  # remove it
            del parent[last]
        elif move == 1 and isinstance(target, dict):  # an unknown key, or a known one renamed
            key = rng.choice([*target, "unknownKey"]) if target else "unknownKey"
            target[key + rng.choice(["", "s", "X"])] = rng.choice(ODD_VALUES)
        elif move == 2 and parent is not None:  # a value of another type or shape
            parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif move == 3 and isinstance(target, str) and parent is not None:  # a string altered
            parent[last] = rng.choice(["", target.upper(), target + " ", "http://" + target, target[:1], "{{x}}"])
        elif move == 4 and isinstance(target, list):  # an item repeated, or the list emptied
            if target and rng.random() < 0.5:
                target.append(copy.deepcopy(target[0]))
            else:
                target.clear()
        elif move == 5 and isinstance(target, int | float) and not isinstance(target, bool) and parent is not None:
            parent[last] = rng.choice([target - 1, target + 1, -target, 0, 10**9])
        if not path:
            result = target
    return result


def _at(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


def reference_valid(document: Any, schema: dict) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(document)


@pytest.mark.parametrize(("name", "schema_file", "document"), CASES, ids=[c[0] for c in CASES])
def test_committed_documents_are_proven_valid_without_jsonschema(name, schema_file, document):
    schema = json.loads(schema_file.read_text())
    assert reference_valid(document, schema), f"{name}: the reference itself refuses the committed document"
    assert proven_valid(document, schema), f"{name}: the quick check cannot prove a valid document valid"


@pytest.mark.parametrize(("name", "schema_file", "document"), CASES, ids=[c[0] for c in CASES])
def test_a_mutated_document_is_never_proven_valid_when_the_reference_refuses_it(name, schema_file, document):
    schema = json.loads(schema_file.read_text())
    rng = random.Random(f"schema-check-{name}")
    refused = 0
    for _ in range(MUTATIONS_PER_DOCUMENT):
        candidate = mutated(document, rng)
        if not reference_valid(candidate, schema):
            refused += 1
            assert not proven_valid(candidate, schema), f"{name}: proven valid, refused by jsonschema: {candidate!r}"
    assert refused > MUTATIONS_PER_DOCUMENT // 4, f"{name}: too few mutations were invalid ({refused}) to mean much"


@pytest.mark.parametrize(
    ("document", "schema"),
    [
        (True, {"type": "integer"}),  # a boolean is not an integer, whatever Python says
        (1, {"enum": [True]}),
        ([1, 1.0], {"uniqueItems": True}),  # 1 and 1.0 are the same JSON number
        ({"a": 1}, {"patternProperties": {"a": {"type": "string"}}}),  # not implemented: never "valid"
        ("x", {"format": "email"}),  # not implemented: never "valid"
        ({"a": 1}, {"$ref": "https://example.com/schema"}),  # outside the schema: never "valid"
        (1.0, {"type": "string"}),
        ({}, {"required": ["a"]}),
        ("ab", {"pattern": "^a$"}),
    ],
)
def test_hand_written_cases_the_check_must_not_call_valid(document, schema):
    assert not proven_valid(document, schema)


@pytest.mark.parametrize(
    ("document", "schema"),
    [
        (1.0, {"type": "integer"}),  # Draft 2020-12: a number with no fraction is an integer
        (1, {"const": 1.0}),
        ([1, True], {"uniqueItems": True}),
        ("xay", {"pattern": "a"}),  # pattern searches, it does not match the whole string
        ({"b": 1}, {"properties": {"a": {"type": "string"}}}),
    ],
)
def test_hand_written_cases_the_check_proves_valid(document, schema):
    assert reference_valid(document, schema)
    assert proven_valid(document, schema)


def test_a_valid_plan_never_imports_jsonschema():
    import subprocess
    import sys

    script = (
        "import sys, runpy; sys.argv = ['preflight', 'plan', '--stack', 'prod', '--format', 'json'];\n"
        "try:\n    runpy.run_module('preflight', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print('jsonschema' in sys.modules, file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stderr.strip().splitlines()[-1] == "False", result.stderr
