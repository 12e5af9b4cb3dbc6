"""A quick "this document is valid" for the JSON Schema keywords the project's schemas use.

Importing jsonschema and running it costs about 100 ms of every command, while nearly every document
it sees is valid. So a document is first checked here; only when this check cannot prove it valid
does the caller run jsonschema, which finds and words every problem. This check never has the last
word on an invalid document: it answers True only when it is sure, and False on any doubt (a keyword
it does not implement, a `$ref` outside the schema). tests/test_schema_check.py holds it to
jsonschema (Draft 2020-12) on the committed documents and on thousands of mutated ones.

Why not fastjsonschema (issue 27; 2.22.3 measured 2026-12-04 on the 2-core machine): it agrees with
jsonschema on every committed document and on all 400 mutations of each (0 disagreements), but it is
slower here in every form the program could use it:
- importing it costs 8 ms inside a plan (this module: under 1 ms);
- compiling costs 45 ms for settings.schema.json (16 ms generating 216k characters of Python, 29 ms
  compiling that), 80 ms for flows/architect.schema.json (368k characters) and about 25 ms for the
  data files' schemas: 150 ms a process, half of plan `prod`, so it needs compiled code cached on disk;
- with cached bytecode (0.3 ms to load) a plan still pays the 8 ms import for a validation that takes
  about 1 ms here in all (settings 0.12 ms here, 0.03 ms compiled; access.yaml 0.59 ms, 0.29 ms).
It also needs care this check does not: its default `use_default=True` writes schema defaults into
the document; it rewrites every `$` of a pattern to `\\Z`, inside a character class too (re.error on
the email pattern of settings.schema.json); it applies draft-07's rule that `$ref` overrides sibling
keywords (2020-12 applies both; none of the schemas has such siblings today); and
`detailed_exceptions=False` raises KeyError on `const`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples"})


class _Undecided(Exception):
    """A keyword or reference this check does not implement: leave the answer to jsonschema."""


def proven_valid(document: Any, schema: Mapping[str, Any]) -> bool:
    """True only if `document` satisfies `schema`; False means "not proven" (run jsonschema)."""
    try:
        return _valid(document, schema, schema)
    except _Undecided:
        return False


@cache
def _pattern(expression: str) -> re.Pattern[str]:
    return re.compile(expression)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise _Undecided(type(value).__name__)


def _is_type(value: Any, name: str) -> bool:
    kind = _json_type(value)
    if name == "number":
        return kind in ("integer", "number")
    if name == "integer":
        return kind == "integer" or (kind == "number" and value.is_integer())
    return kind == name


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: true and 1 differ (Python says they are equal), 1 and 1.0 do not."""
    kinds = {_json_type(a), _json_type(b)}
    if kinds <= {"integer", "number"}:
        return a == b
    if len(kinds) != 1:
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return a == b


def _resolve(reference: str, root: Mapping[str, Any]) -> Any:
    if not reference.startswith("#/"):
        raise _Undecided(reference)
    node: Any = root
    for part in reference[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            raise _Undecided(reference)
        node = node[part]
    return node


def _valid(value: Any, schema: Any, root: Mapping[str, Any]) -> bool:
    if schema is True or schema is False:
        return schema
    if not isinstance(schema, Mapping):
        raise _Undecided("schema")
    for keyword, expected in schema.items():
        if keyword in _ANNOTATIONS or keyword.startswith("x-"):
            continue
        check = _KEYWORDS.get(keyword)
        if check is None:
            raise _Undecided(keyword)
        if not check(value, expected, schema, root):
            return False
    return True


def _type(value: Any, expected: Any, _schema: Any, _root: Any) -> bool:
    names = [expected] if isinstance(expected, str) else expected
    return any(_is_type(value, name) for name in names)


def _properties(value: Any, expected: Any, _schema: Any, root: Any) -> bool:
    if not isinstance(value, dict):
        return True
    return all(_valid(value[key], sub, root) for key, sub in expected.items() if key in value)


def _additional(value: Any, expected: Any, schema: Any, root: Any) -> bool:
    if not isinstance(value, dict):
        return True
    if "patternProperties" in schema:
        raise _Undecided("patternProperties")
    known = schema.get("properties", {})
    return all(_valid(item, expected, root) for key, item in value.items() if key not in known)


def _items(value: Any, expected: Any, schema: Any, root: Any) -> bool:
    if "prefixItems" in schema or not isinstance(expected, Mapping | bool):
        raise _Undecided("items")
    return not isinstance(value, list) or all(_valid(item, expected, root) for item in value)


def _unique(value: Any, expected: Any, _schema: Any, _root: Any) -> bool:
    if not expected or not isinstance(value, list):
        return True
    return not any(_equal(a, b) for i, a in enumerate(value) for b in value[i + 1 :])


def _string(test: Any) -> Any:
    return lambda value, expected, _schema, _root: not isinstance(value, str) or test(value, expected)


def _number(test: Any) -> Any:
    def check(value: Any, expected: Any, _schema: Any, _root: Any) -> bool:
        return _json_type(value) not in ("integer", "number") or test(value, expected)

    return check


def _size(kind: type, test: Any) -> Any:
    return lambda value, expected, _schema, _root: not isinstance(value, kind) or test(len(value), expected)


def _if(value: Any, expected: Any, schema: Any, root: Any) -> bool:
    """`if` with its `then`/`else` (Draft 2020-12: `if` alone asserts nothing)."""
    branch = schema.get("then", True) if _valid(value, expected, root) else schema.get("else", True)
    return _valid(value, branch, root)


_KEYWORDS = {
    "allOf": lambda value, expected, _schema, root: all(_valid(value, sub, root) for sub in expected),
    "if": _if,
    "then": lambda *_: True,
    "else": lambda *_: True,
    "$ref": lambda value, expected, _schema, root: _valid(value, _resolve(expected, root), root),
    "type": _type,
    "enum": lambda value, expected, _schema, _root: any(_equal(value, option) for option in expected),
    "const": lambda value, expected, _schema, _root: _equal(value, expected),
    "properties": _properties,
    "additionalProperties": _additional,
    "required": lambda value, expected, _s, _r: not isinstance(value, dict) or all(k in value for k in expected),
    "propertyNames": lambda value, expected, _s, root: (
        not isinstance(value, dict) or all(_valid(key, expected, root) for key in value)
    ),
    "minProperties": _size(dict, lambda n, limit: n >= limit),
    "maxProperties": _size(dict, lambda n, limit: n <= limit),
    "items": _items,
    "minItems": _size(list, lambda n, limit: n >= limit),
    "maxItems": _size(list, lambda n, limit: n <= limit),
    "uniqueItems": _unique,
    "minLength": _string(lambda text, limit: len(text) >= limit),
    "maxLength": _string(lambda text, limit: len(text) <= limit),
    "pattern": _string(lambda text, expression: _pattern(expression).search(text) is not None),
    "minimum": _number(lambda number, limit: number >= limit),
    "maximum": _number(lambda number, limit: number <= limit),
}
"""Each keyword the check implements, applied as Draft 2020-12 applies it (only to its own instance type)."""
