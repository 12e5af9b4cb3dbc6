"""Normalise two stacks' plans so they can be compared, and diff them resource by resource.

Resources are matched by (type, logical name): logical names are the same in every stack. Values
are normalised per stack: a string that starts with the stack's `namePrefix` loses it, a secret
becomes SECRET (its value is never kept), references to other resources become their logical
names. What remains differs only where the stacks really differ.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.output import Unknown

from components.settings_model import SecretText
from preflight.inprocess import Run, is_secret_value

SECRET = "[secret]"
UNKNOWN = "[unknown]"
STACK_PARENT = "(stack)"


class _Absent:
    """Stands for a value one side does not have (distinct from None / null)."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()

Key = tuple[str, str]
"""(type token, logical name): how a resource is matched across stacks."""


def normalise_value(value: Any, prefix: str) -> Any:
    """The value with secrets hidden, unknowns marked, the stack's name prefix stripped, 3600.0 as 3600."""
    if is_secret_value(value) or isinstance(value, SecretText):
        return SECRET
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, str):
        return value.removeprefix(prefix) if prefix else value
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the engine's wire format makes every number a float
    if isinstance(value, Mapping):
        return {k: normalise_value(v, prefix) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise_value(v, prefix) for v in value]
    return value


def _logical_name(urn: str) -> str:
    """`urn:pulumi:stack::project::a$b::name` -> `name`; the Stack resource -> STACK_PARENT."""
    if not urn:
        return ""
    qualified_type = urn.split("::")[2] if urn.count("::") >= 3 else ""
    if qualified_type.rsplit("$", 1)[-1] == "pulumi:pulumi:Stack":
        return STACK_PARENT
    return urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class Normalised:
    """A declared resource as compared: normalised inputs and the options that matter."""

    type: str
    name: str
    inputs: dict[str, Any]
    options: dict[str, Any]


def normalise(run: Run, strip_prefix: bool = True) -> dict[Key, Normalised]:
    prefix = run.settings.name_prefix if strip_prefix else ""
    out = {}
    for resource in run.resources:
        out[(resource.type, resource.name)] = Normalised(
            type=resource.type,
            name=resource.name,
            inputs=normalise_value(resource.inputs, prefix),
            options={
                "protect": resource.protect,
                "parent": _logical_name(resource.parent),
                # A provider reference is `<urn>::<id>`; compare the provider's logical name.
                "provider": _logical_name(resource.provider.rsplit("::", 1)[0]) if resource.provider else "",
            },
        )
    return out


def flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, leaf) pairs. A list of scalars is one leaf; a list of objects is indexed."""
    if isinstance(value, Mapping) and value:
        for key, sub in value.items():
            yield from flatten(sub, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and any(isinstance(v, Mapping | list) for v in value):
        for i, sub in enumerate(value):
            yield from flatten(sub, f"{path}[{i}]")
    else:
        yield path, value


RENAME_PATHS = ("name", "config.name", "category")


@dataclass(frozen=True)
class Change:
    """One value that differs: `before` (first stack) and `after` (second), ABSENT where missing."""

    path: str
    before: Any
    after: Any

    @property
    def is_rename(self) -> bool:
        """A changed Genesys object name: `up` renames the object (a flow is even re-created)."""
        return self.path in RENAME_PATHS and self.before is not ABSENT and self.after is not ABSENT

    @property
    def kind(self) -> str:
        if self.before is ABSENT:
            return "added"
        return "removed" if self.after is ABSENT else "changed"


def diff_values(before: Any, after: Any) -> list[Change]:
    left, right = dict(flatten(before)), dict(flatten(after))
    paths = sorted(set(left) | set(right))
    return [
        Change(path, left.get(path, ABSENT), right.get(path, ABSENT))
        for path in paths
        if left.get(path, ABSENT) != right.get(path, ABSENT)
    ]


@dataclass(frozen=True)
class ResourceDiff:
    """One resource that is added, removed or changed between the two stacks."""

    status: str
    """'added' (only in the second stack), 'removed' (only in the first) or 'changed'."""
    type: str
    name: str
    inputs: list[Change] = field(default_factory=list)
    """Input differences by dotted path (all inputs of an added or removed resource)."""
    options: list[Change] = field(default_factory=list)
    """Differences in resource options (protect, parent, provider)."""

    @property
    def short_type(self) -> str:
        return short_type(self.type)


def short_type(token: str) -> str:
    """`genesyscloud:index/flow:Flow` -> `Flow`."""
    return token.rsplit(":", 1)[-1]


def diff_plans(first: Run, second: Run, strip_prefix: bool = True) -> list[ResourceDiff]:
    """Every resource that differs, by type token and logical name.

    Two stacks are compared without their prefixes; two versions of one stack with them, so a prefix
    change shows as what it is, a rename of every object.
    """
    left, right = normalise(first, strip_prefix), normalise(second, strip_prefix)
    out = []
    # Sorted: the engine records registrations in the order they complete, which varies run to run.
    for key in sorted(set(left) | set(right)):
        a, b = left.get(key), right.get(key)
        if a is None:
            out.append(ResourceDiff("added", *key, diff_values({}, b.inputs), diff_values({}, b.options)))
        elif b is None:
            out.append(ResourceDiff("removed", *key, diff_values(a.inputs, {}), diff_values(a.options, {})))
        else:
            inputs, options = diff_values(a.inputs, b.inputs), diff_values(a.options, b.options)
            if inputs or options:
                out.append(ResourceDiff("changed", *key, inputs, options))
    return out


def show(value: Any) -> str:
    """A normalised value as one line of text."""
    return "(absent)" if value is ABSENT else json.dumps(value, ensure_ascii=False)


def as_json(value: Any) -> Any:
    """A normalised value for JSON output (ABSENT -> None)."""
    return None if value is ABSENT else value
