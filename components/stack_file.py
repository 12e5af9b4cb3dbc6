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
    environments: tuple[str, ...] = ()
    """The Pulumi ESC environments the stack file imports (`environment:`), whose values it lacks here."""


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
    imported = document.get("environment") or []
    # `environment:` is a list of environment names, or an inline definition with `imports:` (stack settings file
    # reference: https://www.pulumi.com/docs/iac/concepts/projects/stack-settings-file).
    if isinstance(imported, dict):
        imported = imported.get("imports") or []
    environments = tuple(str(e) for e in imported if isinstance(e, str)) if isinstance(imported, list) else ()
    return StackConfig(
        stack=stack,
        source=name,
        config=config,
        secret_keys=frozenset(secret_keys),
        encrypted=frozenset(path for path, _ in found),
        placeholders=frozenset(path for path, placeholder in found if placeholder),
        environments=environments,
    )


# --- values an ESC user has, without the CLI ---------------------------------------------------------
#
# A stack whose settings live in a Pulumi ESC environment (`environment:` in the stack file) holds few keys of
# its own. What the user can produce is one of two JSON documents:
#
# - `pulumi config --json --open --stack <stack>`: key -> {"value"?, "objectValue"?, "secret": bool}; "When the
#   value is encrypted and --show-secrets was not passed, the value will not be set" (pulumi/pulumi
#   pkg/cmd/pulumi/config.go, configValueJSON), and a secret inside an object reads "[secret]" (the blinding
#   decrypter). Nothing secret is in the file.
# - `pulumi env open <org>/<env>` (JSON, the default format: https://www.pulumi.com/docs/iac/cli/commands/pulumi_env_open/):
#   the evaluated environment, whose `pulumiConfig` holds the stack config it exposes
#   (https://www.pulumi.com/docs/esc/integrations/infrastructure/pulumi-iac/). It shows secrets in plain text and
#   does not mark them, so every value at a secret setting's path is taken as set and replaced on reading.
#
# Either way a secret is known as set, never kept: its value becomes OPAQUE_SECRET before anything else sees it.
# Keys without a namespace take the project's (https://www.pulumi.com/docs/iac/concepts/config/), and a key the
# stack file sets itself wins, as Pulumi resolves pulumiConfig against explicit stack configuration
# (https://www.pulumi.com/docs/esc/environments/syntax/reserved-properties/environment-variables/, Precedence).


@dataclass(frozen=True)
class ExternalValues:
    """Config a stack receives from outside its file (an ESC environment), as read from a values file."""

    source: str
    config: dict[str, Any]
    """Full key -> value (objects as objects); every secret already OPAQUE_SECRET."""
    secrets: frozenset[str]
    """Dotted paths of the secrets known as set, e.g. `genesys-messaging:crm.apiToken`."""


def _mask(node: Any, path: str, secret_paths: frozenset[str], found: set[str]) -> Any:
    """The value with every secret leaf replaced by OPAQUE_SECRET: at a secret setting's path, or blinded."""
    if (path in secret_paths or node == OPAQUE_SECRET) and node is not None:
        found.add(path)
        return OPAQUE_SECRET
    if isinstance(node, dict):
        return {k: _mask(v, f"{path}.{k}", secret_paths, found) for k, v in node.items()}
    if isinstance(node, list):
        return [_mask(v, f"{path}[{i}]", secret_paths, found) for i, v in enumerate(node)]
    return node


def _full_key(key: Any, namespace: str, source: str) -> str:
    if not isinstance(key, str) or not key:
        raise StackFileError(f"{source}: a config key is not a name; fix: produce the file with pulumi config --json")
    return key if ":" in key else f"{namespace}:{key}"


def read_values_file(path: Path, namespace: str, secret_paths: frozenset[str]) -> ExternalValues:
    """Read the JSON of `pulumi config --json` or `pulumi env open`; `secret_paths` are the dotted paths
    (`<namespace>:crm.apiToken`) of the settings that are secrets. Raises StackFileError naming the file."""
    name = path.name
    try:
        document = json.loads(_read_text(path))
    except ValueError as error:
        raise StackFileError(
            f"{name}: not JSON ({error.__class__.__name__}); fix: give the output of "
            "pulumi config --json --open --stack <stack>, or of pulumi env open <env>"
        ) from None
    if not isinstance(document, dict):
        raise StackFileError(f"{name}: expected a JSON object; fix: give the output of pulumi config --json")
    found: set[str] = set()
    config: dict[str, Any] = {}
    if "pulumiConfig" in document:  # pulumi env open
        exposed = document["pulumiConfig"]
        if not isinstance(exposed, dict):
            raise StackFileError(f"{name}: pulumiConfig is not an object; fix: give the output of pulumi env open")
        for key, value in exposed.items():
            full = _full_key(key, namespace, name)
            config[full] = _mask(value, full, secret_paths, found)
    else:  # pulumi config --json
        for key, entry in document.items():
            full = _full_key(key, namespace, name)
            if not isinstance(entry, dict) or "secret" not in entry:
                raise StackFileError(
                    f"{name}: {printable(full)} is not a pulumi config --json entry "
                    '({"value": ..., "secret": ...}); fix: give the output of pulumi config --json'
                )
            if "objectValue" in entry:
                value = entry["objectValue"]
            elif "value" in entry:
                value = entry["value"]
            elif entry["secret"]:
                value = OPAQUE_SECRET  # set, and not shown without --show-secrets
            else:
                raise StackFileError(f"{name}: {printable(full)} has no value; fix: regenerate the file")
            if entry["secret"] and not isinstance(value, dict | list):
                value = OPAQUE_SECRET
            config[full] = _mask(value, full, secret_paths, found)
    _refuse_values_config_cannot_hold(name, config)
    return ExternalValues(source=name, config=config, secrets=frozenset(found))


def with_external_values(stack: StackConfig, values: ExternalValues) -> StackConfig:
    """The stack as the CLI would run it with its environment opened: the file's own keys win."""
    config = dict(stack.config)
    secret_keys = set(stack.secret_keys)
    encrypted = set(stack.encrypted)
    for key, value in values.config.items():
        if key in config:
            continue
        config[key] = value if isinstance(value, str) else json.dumps(value)
        mine = {p for p in values.secrets if p == key or p.startswith((key + ".", key + "["))}
        if mine:
            secret_keys.add(key)
            encrypted |= mine
    return StackConfig(
        stack=stack.stack,
        source=f"{stack.source} + {values.source}",
        config=config,
        secret_keys=frozenset(secret_keys),
        encrypted=frozenset(encrypted),
        placeholders=stack.placeholders,
        environments=stack.environments,
    )
