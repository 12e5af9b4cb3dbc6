"""Turn a stack file (Pulumi.<stack>.yaml) into the config map Pulumi would hand the program.

Used where the Pulumi CLI is not: `preflight` and the tests. Encrypted values (`secure:`) cannot be
decrypted without the stack's secrets provider, so they become opaque stand-ins (or, in tests,
known sentinels) and their keys are marked secret, exactly as the CLI marks decrypted ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.visible_text import printable
from components.yaml_loading import JsonValuesLoader, NotJson, not_json

OPAQUE_SECRET = "[secret]"
PLACEHOLDER_CIPHERTEXT = "v1:cGxhY2Vob2xkZXI="
"""How the committed example secrets begin (the salt is base64 of "placeholder"): not a real secret."""


class StackFileError(Exception):
    """The stack file cannot be read or parsed (a usage error, not an invalid setting)."""


@dataclass(frozen=True)
class StackConfig:
    """A stack file's config as the Pulumi runtime sees it."""

    stack: str
    source: str
    config: dict[str, str]
    secret_keys: frozenset[str]
    encrypted: frozenset[str] = frozenset()
    """Dotted paths of the `secure:` values, e.g. `genesys-messaging:crm.password`."""
    placeholders: frozenset[str] = frozenset()
    """Dotted paths of `secure:` values that are still the committed placeholder, not a real secret."""


def _is_secure(node: Any) -> bool:
    return isinstance(node, dict) and set(node) == {"secure"}


def _resolve(node: Any, path: str, reveal: Callable[[str], str], found: list[tuple[str, bool]]) -> Any:
    """The node with each `secure:` entry revealed; `found` collects (path, is the placeholder)."""
    if _is_secure(node):
        found.append((path, str(node["secure"]).startswith(PLACEHOLDER_CIPHERTEXT + ":")))
        return reveal(path)
    if isinstance(node, dict):
        return {k: _resolve(v, f"{path}.{k}", reveal, found) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, f"{path}[{i}]", reveal, found) for i, v in enumerate(node)]
    return node


MAX_BYTES = 256 * 1024
"""A stack file holds a few dozen settings; anything near this is a mistake or an attack."""
MAX_NODES = 10_000
"""Values after aliases are expanded: a 1.6 KB alias bomb expands to billions."""


class _UniqueKeyLoader(JsonValuesLoader):
    """YAML that refuses a key given twice in one mapping, as the Pulumi CLI does (PyYAML keeps the last),
    and a key that is a list or a mapping; values JSON cannot hold are kept as markers (yaml_loading)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if isinstance(key, list | dict):
                raise StackFileError(f"line {line}: a key is a list or a mapping; fix: use a plain name as the key")
            if key in seen:
                raise StackFileError(
                    f"line {line}: key {key!r} is given twice (first at line {seen[key]}); fix: keep one of them"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _count_nodes(node: yaml.Node, budget: list[int]) -> None:
    """Walk the composed document as it expands (an alias counts every time), within the budget."""
    budget[0] -= 1
    if budget[0] < 0:
        raise StackFileError(f"expands to more than {MAX_NODES} values (YAML aliases); fix: write the values out")
    children = node.value if isinstance(node, yaml.SequenceNode) else ()
    if isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    for child in children:
        _count_nodes(child, budget)


def _read_text(path: Path) -> str:
    """The file's text, at most MAX_BYTES, UTF-8; every failure a StackFileError naming the file."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as error:
        raise StackFileError(f"{path}: cannot read the stack file ({error.strerror})") from None
    if len(data) > MAX_BYTES:
        raise StackFileError(
            f"{path.name}: larger than {MAX_BYTES // 1024} KiB, which no stack file needs; fix: check the path"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise StackFileError(
            f"{path.name}: line {line}: byte 0x{data[error.start]:02x} is not UTF-8; fix: save the file as UTF-8"
        ) from None


def _refuse_values_config_cannot_hold(name: str, config: dict[Any, Any]) -> None:
    """Config keys are `namespace:key` text and values are text or JSON: name every other key and value."""
    problems = []
    for key, value in config.items():
        if isinstance(key, NotJson):
            problems.append(f"line {key.line}: a config key {key.what}; fix: {key.fix}")
        elif not isinstance(key, str):
            problems.append(f"config key {key!r} is not a name; fix: use <namespace>:<key>, e.g. genesys-messaging:org")
        else:
            problems += [f"line {m.line}: {path}: {m.what}; fix: {m.fix}" for path, m in not_json(value, key)]
    if problems:
        raise StackFileError("\n".join(f"{name}: {printable(problem)}" for problem in problems))


def read_stack_file(path: Path, reveal: Callable[[str], str] = lambda _path: OPAQUE_SECRET) -> StackConfig:
    """Read a stack file; `reveal(path)` supplies the value of each `secure:` entry."""
    name = path.name
    stack = name.removeprefix("Pulumi.").removesuffix(".yaml").removesuffix(".yml")
    text = _read_text(path)
    loader = _UniqueKeyLoader(text)
    try:
        # Parsed once: composed, measured (aliases expanded within the budget), then constructed.
        node = loader.get_single_node()
        if node is not None:
            _count_nodes(node, [MAX_NODES])
        document = (loader.construct_document(node) if node is not None else None) or {}
    except StackFileError as error:
        raise StackFileError(f"{name}: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise StackFileError(f"{name}: YAML syntax error{where}: {problem}") from None
    finally:
        loader.dispose()
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise StackFileError(f"{name}: expected a mapping with a 'config:' mapping at the top")
    _refuse_values_config_cannot_hold(name, document.get("config") or {})
    config: dict[str, str] = {}
    secret_keys: set[str] = set()
    found: list[tuple[str, bool]] = []
    for key, value in (document.get("config") or {}).items():
        before = len(found)
        resolved = _resolve(value, key, reveal, found)
        if len(found) > before:
            secret_keys.add(key)
        # Pulumi hands strings through as they are and every other value JSON-encoded.
        config[key] = resolved if isinstance(resolved, str) else json.dumps(resolved)
    return StackConfig(
        stack=stack,
        source=name,
        config=config,
        secret_keys=frozenset(secret_keys),
        encrypted=frozenset(path for path, _ in found),
        placeholders=frozenset(path for path, placeholder in found if placeholder),
    )
