"""Finds a secret in output in any recognisable form, written apart from the client's redaction (issue 25).

The text is unescaped (HTML entities, percent-encoding, the `\\u200b` escapes the tools print), stripped of
format characters and whitespace, read forwards and reversed, casefolded, and every run that decodes as base64
(any alignment), hex or base32 is decoded too; then any WINDOW characters of the secret are searched for.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
import re
import unicodedata
from urllib.parse import unquote_plus

WINDOW = 12
"""This many consecutive characters of a secret are a recognisable part of it (what a cut echo leaves)."""
_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|U[0-9a-fA-F]{8})")
_B64 = re.compile(r"[A-Za-z0-9+/_-]{8,}")
_HEX = re.compile(r"[0-9a-fA-F]{8,}")
_B32 = re.compile(r"[A-Za-z2-7]{8,}")


def _squeezed(text: str) -> str:
    text = _ESCAPE.sub("", text)
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) not in ("Cf", "Cc"))


def _decoded(text: str) -> list[str]:
    found = []
    for run in _B64.findall(text):
        for start in range(4):
            chunk = run[start:]
            chunk = chunk[: len(chunk) // 4 * 4]
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                with contextlib.suppress(binascii.Error, ValueError):
                    found.append(decode(chunk).decode("latin-1"))
    for run in _HEX.findall(text):
        for start in range(2):
            chunk = run[start:]
            found.append(bytes.fromhex(chunk[: len(chunk) // 2 * 2]).decode("latin-1"))
    for run in _B32.findall(text):
        for start in range(8):
            chunk = run[start:].upper()
            with contextlib.suppress(binascii.Error, ValueError):
                found.append(base64.b32decode(chunk[: len(chunk) // 8 * 8]).decode("latin-1"))
    return found


def readings(text: str) -> list[str]:
    """Every way the text can be read, normalised (squeezed, casefolded), forwards and reversed."""
    first = [text, html.unescape(text), unquote_plus(text), unquote_plus(html.unescape(text))]
    first += [_squeezed(t) for t in first]
    every = list(first)
    for t in first:
        every += _decoded(t)
    normal = [_squeezed(t).casefold() for t in every]
    return normal + [t[::-1] for t in normal]


def recognisable_form(text: str, secret: str) -> str | None:
    """A part of `secret` found in `text` in some form (None when none is)."""
    needle = _squeezed(secret).casefold()
    windows = {needle[i : i + WINDOW] for i in range(max(1, len(needle) - WINDOW + 1))}
    for reading in readings(text):
        for window in windows:
            if window in reading:
                return window
    return None
