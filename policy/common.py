"""What every rule module of the pack shares: its data, the type tokens, reading props, and `Rule`.

The pack never imports program code (`components/`, `preflight/`): what the rules need is in
`policy_data.json` beside this module. The facts it shares with the program (the region table, the type
tokens, the token-lifetime range, the environments) are generated into that file from the program's data
(`make policy-data`, scripts/generate_policy_data.py), so they are stated once.

A value a rule needs but a preview cannot know is unproven: the rule reports it (see `unproven`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pulumi_policy.proxy import UnknownValueError

DATA: dict[str, Any] = json.loads(Path(__file__).with_name("policy_data.json").read_text())

# The type tokens, keyed by Terraform type; a name the binding no longer has fails here, at import.
_TOKENS: dict[str, str] = DATA["typeTokens"]
PROVIDER_TYPE: str = DATA["providerType"]
OAUTH_CLIENT = _TOKENS["genesyscloud_oauth_client"]
AUTH_ROLE = _TOKENS["genesyscloud_auth_role"]
DEPLOYMENT = _TOKENS["genesyscloud_webdeployments_deployment"]
CONFIGURATION = _TOKENS["genesyscloud_webdeployments_configuration"]
INTEGRATION_ACTION = _TOKENS["genesyscloud_integration_action"]
CUSTOM_AUTH_ACTION = _TOKENS["genesyscloud_integration_custom_auth_action"]
FLOW = _TOKENS["genesyscloud_flow"]
ROUTING_QUEUE = _TOKENS["genesyscloud_routing_queue"]

# Pulumi's unknown-value sentinels (pulumi_policy.proxy; the Python SDK's rpc.UNKNOWN is the string one).
_UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)


class _Unknown:
    """A value a preview cannot know yet."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()

ReportViolation = Callable[..., None]


# --- reading props: plain or proxied (pack), unknowns -----------------------------------------------


def _items(value: Any) -> Iterator[tuple[Any, Any]]:
    """(key, child) of a mapping or sequence; children a preview cannot know come back as UNKNOWN."""
    keys = list(value) if isinstance(value, Mapping) else range(len(value))
    for key in keys:
        try:
            yield key, value[key]
        except UnknownValueError:
            yield key, UNKNOWN


def plain(value: Any) -> Any:
    """The value as plain dicts, lists and scalars, unknowns as UNKNOWN."""
    if isinstance(value, str):
        return UNKNOWN if value in _UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        return {key: plain(child) for key, child in _items(value)}
    if isinstance(value, Sequence):
        return [plain(child) for _, child in _items(value)]
    return value


def known(value: Any) -> bool:
    return value is not UNKNOWN


def unproven(report_violation: ReportViolation, urn: str, field: str, fix: str) -> None:
    """A mandatory rule cannot judge a value a preview does not know: unknown means unproven, so it fails and
    says so. The program gives every value these rules read as a literal, so a first preview knows them."""
    report_violation(f"{urn}: {field} is not known before deploy, so this rule cannot verify it. {fix}")


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, string) in a plain value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, child in value.items():
            yield from strings(child, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from strings(child, f"{path}[{i}]")


# --- a rule ----------------------------------------------------------------------------------------

Level = Literal["mandatory", "advisory"]
LEVELS: tuple[Level, ...] = ("mandatory", "advisory")
"""mandatory blocks the update; advisory warns."""


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One rule: a policy in the pack, a check in preflight. Declared beside its validator, with its level."""

    id: str
    level: Level
    """'mandatory' (blocks the update) or 'advisory' (warns)."""
    description: str
    """Starts with a verb; the pack shows it above every message."""
    fix: str
    validator: Callable[..., None]
    stack: bool = False
    """A stack policy (needs all resources) rather than a resource policy."""
    context: bool = False
    """Reads the stack context (region, environment) from policy config."""

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"rule {self.id}: level {self.level!r} is not one of {', '.join(LEVELS)}")
