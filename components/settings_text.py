"""Text every string setting may hold: no character a reader cannot see.

A control character (a newline, ESC) or a format character (a bidirectional override, a zero-width space)
in a setting reaches Genesys object names, deployed values and the plan a reviewer reads, where it is
invisible or reorders what is shown: `Home\\u200b` is not the division `Home`, and a value ending in a
newline still passes a `^...$` pattern, whose `$` matches before a final newline. One walk over every
`genesys-messaging:*` value and key, before schema validation, refuses them all
(components/visible_text.py says which characters); bootstrap's settings go through the same walk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from components.settings_model import NAMESPACE, SecretText
from components.visible_text import hidden_characters, printable

FIX = "retype the value without it (a copied value can carry a trailing newline or a zero-width space)"
KEY_FIX = "rename the key without it"


def hidden_text_problems(values: dict[str, Any], namespace: str = NAMESPACE) -> Iterator[tuple[str, str, str]]:
    """(key, what is wrong, fix) for every setting or key holding a hidden character; `values` without the
    namespace, as the loader decoded them (secrets wrapped in SecretText, never shown)."""
    yield from _walk(values, [], namespace)


def _walk(value: Any, path: list[str | int], namespace: str) -> Iterator[tuple[str, str, str]]:
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(key, str) and hidden_characters(key):
                yield _key(namespace, [*path, key]), f"the key has {_names(key)}", KEY_FIX
            yield from _walk(child, [*path, key], namespace)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _walk(child, [*path, i], namespace)
    elif isinstance(value, SecretText):
        if hidden_characters(value.reveal()):
            yield _key(namespace, path), "is a secret holding a control or format character", FIX
    elif isinstance(value, str) and hidden_characters(value):
        yield _key(namespace, path), f"'{printable(value)}' has {_names(value)}", FIX


def _names(text: str) -> str:
    names = hidden_characters(text)
    kind = "a control or format character" if len(names) == 1 else "control or format characters"
    return f"{kind} ({', '.join(names)})"


def _key(namespace: str, path: list[str | int]) -> str:
    """The key as problems name it (`genesys-messaging:sites.www.domains[0]`), hidden characters escaped."""
    key = namespace + ":"
    for i, part in enumerate(path):
        key += f"[{part}]" if isinstance(part, int) else (part if i == 0 else f".{part}")
    return printable(key)
