"""What differs between a Messenger configuration as the stack declares it and as Genesys serves it.

The declaration is the WebdeploymentsConfiguration's inputs from the estate, keyed by Pulumi property names
(components/provider_schema.json maps each provider attribute to its property); the live side is a
WebDeploymentConfigurationVersion as the API returns it (platform SDK WebDeploymentsApi.md,
GET /api/v2/webdeployments/configurations/{configurationId}/versions/{versionId}). Between the two sit the
provider's build/flatten functions, which put most attributes at the lowerCamelCase of their name and a few
elsewhere (preflight/messenger_api_fields.json, each with its source line).

The walk follows the provider's schema, not a list of blocks: whatever the program declares is compared, and
whatever it leaves out is looked for on the live side, because the provider reads every block back
(resource_genesyscloud_webdeployments_configuration.go:136-155 at v1.84.1) and a block or value the server
holds that the stack does not declare shows as a change on every preview.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

from components.provider_binding import provider_schema
from preflight.inprocess import is_secret_value

FIELDS_FILE = Path(__file__).with_name("messenger_api_fields.json")
VALUE_CHARS = 80
"""Where a value shown in a report is cut."""


class _Missing:
    def __repr__(self) -> str:
        return "none"


MISSING: Any = _Missing()
"""A value absent on one side (not declared, or not in the answer)."""


@dataclass(frozen=True)
class Difference:
    path: str
    """Where, in the API's names (messenger.fileUpload.modes[0].maxFileSizeKB)."""
    attribute: str
    """The provider attribute it is (messenger.file_upload.mode.max_file_size_kb)."""
    declared: Any
    """The declared value, or MISSING."""
    live: Any
    """The live value, or MISSING."""

    def describe(self) -> str:
        where = self.path if self.path == self.attribute else f"{self.path} ({self.attribute})"
        if self.declared is MISSING:
            return f"{where}: live {shown(self.live)}, the stack declares none"
        if self.live is MISSING:
            return f"{where}: the stack declares {shown(self.declared)}, the live version has none"
        return f"{where}: live {shown(self.live)}, the stack declares {shown(self.declared)}"


@dataclass(frozen=True)
class Comparison:
    differences: list[Difference]
    notes: list[str]
    """What was not compared, and why."""


@cache
def field_table() -> dict[str, Any]:
    """preflight/messenger_api_fields.json, read once."""
    return json.loads(FIELDS_FILE.read_text())


def shown(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def camel(name: str) -> str:
    """The SDK's JSON name of a provider attribute that is not renamed: lowerCamelCase of its snake_case name."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def _at(value: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(value, Mapping) or value.get(key) is None:
            return MISSING
        value = value[key]
    return value


def _is_set(value: Any, shape: str) -> bool:
    """Whether a live value the stack does not declare would be read back as something: any block (flatten
    returns a one-element list for it), a non-empty list, a scalar other than its zero value."""
    if value is MISSING or value is None:
        return False
    if shape in ("object", "objects") and isinstance(value, Mapping):
        return True
    return value not in (False, 0, "", [], {})


def _hidden(value: Any) -> bool:
    """Whether a declared value is or holds a secret or an unknown: never shown, never compared."""
    if is_secret_value(value) or value == rpc.UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(_hidden(v) for v in value.values())
    if isinstance(value, list):
        return any(_hidden(v) for v in value)
    return False


def equal(declared: Any, live: Any) -> bool:
    """JSON equality that tells a boolean from a number (Python's True == 1 does not)."""
    if isinstance(declared, bool) or isinstance(live, bool):
        return type(declared) is type(live) and declared == live
    if isinstance(declared, (int, float)) and isinstance(live, (int, float)):
        return declared == live
    if isinstance(declared, list) and isinstance(live, list):
        return len(declared) == len(live) and all(equal(d, v) for d, v in zip(declared, live, strict=True))
    if isinstance(declared, Mapping) and isinstance(live, Mapping):
        return declared.keys() == live.keys() and all(equal(declared[k], live[k]) for k in declared)
    return type(declared) is type(live) and declared == live


class _Walk:
    def __init__(self, references: Mapping[str, str]) -> None:
        table = field_table()
        self.renamed = {path: entry["api"] for path, entry in table["renamed"].items()}
        self.not_compared: dict[str, str] = table["not_compared"]
        self.references = references
        self.differences: list[Difference] = []
        self.notes: list[str] = []

    def block(self, attributes: Mapping[str, Any], declared: Mapping[str, Any], live: Any, tf: str, api: str) -> None:
        known = {a["property"] for a in attributes.values()}
        for key in declared:
            if key not in known and declared[key] is not None:
                self.notes.append(f"{api}{key}: not a provider attribute here, not compared")
        for name, attribute in attributes.items():
            path = tf + name
            given = declared.get(attribute["property"])
            given = MISSING if given is None else given
            if path in self.not_compared:
                if given is not MISSING:
                    self.notes.append(f"{path}: not compared ({self.not_compared[path]})")
                continue
            if attribute["presence"] == "computed":
                continue
            where = api + self.renamed.get(path, camel(name))
            self.value(attribute, path, where, given, _at(live, self.renamed.get(path, camel(name))))

    def value(self, attribute: Mapping[str, Any], path: str, where: str, given: Any, live: Any) -> None:
        shape = attribute["shape"]
        if given is MISSING:
            if _is_set(live, shape):
                self.differences.append(Difference(where, path, MISSING, live))
            return
        if is_secret_value(given) or given == rpc.UNKNOWN:
            self.notes.append(f"{path}: a secret or a value known only after deploy, not compared")
            return
        if isinstance(given, str) and given in self.references:
            # An id known only after deploy; the checks that find the object by name compare it.
            self.notes.append(f"{path}: a reference to {self.references[given]}, not compared here")
            return
        nested = attribute.get("attributes")
        if shape == "object" and nested is not None and isinstance(given, Mapping):
            if not isinstance(live, Mapping):
                self.differences.append(Difference(where, path, given, live))
            else:
                self.block(nested, given, live, path + ".", where + ".")
        elif shape == "objects" and nested is not None and isinstance(given, list):
            if not isinstance(live, list) or len(live) != len(given):
                self.differences.append(Difference(where, path, given, live))
                return
            for index, (item, found) in enumerate(zip(given, live, strict=True)):
                if isinstance(item, Mapping) and not is_secret_value(item):
                    self.block(nested, item, found, path + ".", f"{where}[{index}].")
                elif _hidden(item):
                    self.notes.append(f"{path}[{index}]: a secret or a value known only after deploy, not compared")
                elif not equal(item, found):
                    self.differences.append(Difference(f"{where}[{index}]", path, item, found))
        elif _hidden(given):
            self.notes.append(f"{path}: holds a secret or a value known only after deploy, not compared")
        elif not equal(given, live):
            self.differences.append(Difference(where, path, given, live))


def compare(declared: Mapping[str, Any], live: Mapping[str, Any], references: Mapping[str, str]) -> Comparison:
    """Every place where `live` (a WebDeploymentConfigurationVersion) differs from `declared` (the
    configuration's Pulumi inputs), as the provider would see it; `references` maps the offline ids of declared
    resources to what they are (they stand for ids known only after deploy)."""
    table = field_table()
    attributes = provider_schema()[table["resource"]]["attributes"]
    walk = _Walk(references)
    walk.block(attributes, declared, live, "", "")
    return Comparison(walk.differences, walk.notes)
