"""`{{key}}` substitution exactly as the provider does it (genesyscloud_flow `substitutions`): a
plain string replacement of `{{key}}`, no spaces inside the braces. Anything else that looks like
a placeholder is reported, because the provider would publish it literally."""

from __future__ import annotations

import re

_LOOKS_LIKE_PLACEHOLDER = re.compile(r"\{\{[^{}\n]*\}\}")
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z0-9_.-]+)\}\}")


def placeholders(text: str) -> set[str]:
    """Keys the provider would substitute in the text."""
    return set(_PLACEHOLDER.findall(text))


def substitute(text: str, substitutions: dict[str, str]) -> str:
    for key, value in substitutions.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def leftovers(text: str) -> list[str]:
    """Placeholder-like strings still in the text (unknown keys, or `{{ key }}` with spaces)."""
    return sorted(set(_LOOKS_LIKE_PLACEHOLDER.findall(text)))
