"""Characters a reader cannot see, and text shown with them escaped.

Control characters (Cc: ESC, CSI, BEL, newlines...), format characters (Cf: bidirectional overrides and
isolates, zero-width spaces and joiners, the byte-order mark), lone surrogates (Cs) and the line and
paragraph separators (Zl, Zp) either act on a terminal or a renderer, or make two different texts look
the same (`Home` and `Ho\\u200bme`). They are shown as visible escapes, `\\x1b` or `\\u202e`, as the
doctor escapes what an org returns.
"""

from __future__ import annotations

import unicodedata

HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def is_hidden(char: str) -> bool:
    return unicodedata.category(char) in HIDDEN_CATEGORIES


def escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """The text with every hidden character shown as its escape (and nothing else changed)."""
    if text.isprintable():  # the common case, in C: isprintable() is False for every hidden category
        return text
    return "".join(escaped(c) if is_hidden(c) else c for c in text)


def printable_lines(text: str) -> str:
    """A multi-line message with each line made printable (its own newlines kept)."""
    return "\n".join(printable(line) for line in text.split("\n"))


def hidden_characters(text: str) -> list[str]:
    """The hidden characters of the text, each named once, in order: ['U+202E RIGHT-TO-LEFT OVERRIDE']."""
    seen: dict[str, None] = {}
    for char in text:
        if is_hidden(char):
            seen.setdefault(f"U+{ord(char):04X} {unicodedata.name(char, 'control character')}", None)
    return list(seen)
