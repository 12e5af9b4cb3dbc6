"""YAML parsing through libyaml when PyYAML was built with it: the pure-Python parser costs more
than everything else the offline plan does (measured by scripts/benchmark_plan.py).

`JsonValuesLoader` is for files whose values become Pulumi config (stack files): config is text and
JSON, so a YAML value JSON has no form for (a date, `!!binary`, `!!set`, an integer too long to write
in decimal) is kept as a `NotJson` marker that says where it is and how to fix it, for the caller to
report by key, instead of failing later in `json.dumps` with a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # type: ignore[assignment]
"""The same safe schema either way: CSafeLoader only swaps the scanner and parser for libyaml's."""


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=SafeLoader)


@dataclass(frozen=True)
class NotJson:
    """A YAML value with no JSON form, where it was, and how to write it instead."""

    what: str
    fix: str
    line: int


def _quote(text: str) -> str:
    """The scalar as a single-quoted YAML string (what the stack file should say instead)."""
    return "'" + text.replace("'", "''") + "'"


class JsonValuesLoader(SafeLoader):  # type: ignore[misc,valid-type]
    """The safe schema, with every value JSON cannot hold constructed as a `NotJson` marker."""

    def _marker(self, node: yaml.Node, what: str, fix: str) -> NotJson:
        return NotJson(what, fix, node.start_mark.line + 1)

    def construct_not_text_date(self, node: yaml.ScalarNode) -> NotJson:
        # PyYAML reads an unquoted 2026-01-01 as a date (YAML 1.1); config is text, so say what to write.
        return self._marker(node, "is read by YAML as a date or time, not as text", f"quote it: {_quote(node.value)}")

    def construct_not_text_binary(self, node: yaml.ScalarNode) -> NotJson:
        return self._marker(node, "is !!binary data, which config cannot hold", "remove the !!binary tag (write text)")

    def construct_not_text_set(self, node: yaml.MappingNode) -> NotJson:
        return self._marker(node, "is a !!set, which config cannot hold", "write a list instead: [a, b]")

    def construct_checked_int(self, node: yaml.ScalarNode) -> int | NotJson:
        # int() refuses more than sys.get_int_max_str_digits() decimal digits (4300 by default), and str()
        # refuses to write a hexadecimal or octal integer that long in decimal.
        limit = sys.get_int_max_str_digits()
        try:
            value = self.construct_yaml_int(node)
            str(value)
        except ValueError:
            what, fix = f"is an integer of more than {limit} digits", "use a number in the range the key allows"
            return self._marker(node, what, fix + " (quote it if it is text)")
        return value


JsonValuesLoader.add_constructor("tag:yaml.org,2002:timestamp", JsonValuesLoader.construct_not_text_date)
JsonValuesLoader.add_constructor("tag:yaml.org,2002:binary", JsonValuesLoader.construct_not_text_binary)
JsonValuesLoader.add_constructor("tag:yaml.org,2002:set", JsonValuesLoader.construct_not_text_set)
JsonValuesLoader.add_constructor("tag:yaml.org,2002:int", JsonValuesLoader.construct_checked_int)


def not_json(value: Any, path: str) -> Iterator[tuple[str, NotJson]]:
    """Every `NotJson` marker in a constructed value (keys included), with its dotted path under `path`."""
    if isinstance(value, NotJson):
        yield path, value
    elif isinstance(value, dict):
        for key, child in value.items():
            if isinstance(key, NotJson):
                yield f"{path} (a key)", key
            else:
                yield from not_json(child, f"{path}.{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from not_json(child, f"{path}[{i}]")
