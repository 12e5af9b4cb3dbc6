"""Untrusted text made safe to show in the comment: inert, in a code fence it cannot close, within a budget.

Used by the snapshot section and by the comment's assembly; it imports nothing of this package.
"""

from __future__ import annotations

import re

SECTION_BYTES = 10_000  # per fenced plan or preview block: 4 of them, with headings and notes, < 42,000
BODY_BYTES = 60_000  # GitHub rejects comment bodies over 65536 characters; bytes >= characters
ZWJ = "\u200d"
# C0/C1 controls except tab and newline, and the bidi overrides and isolates that can make text read
# differently from what it is ("Trojan Source").
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MENTION = re.compile(r"@(?=[A-Za-z0-9])")
BACKTICKS = re.compile(r"`+")


def neutralise(text: str) -> str:
    """Untrusted text made inert: one kind of line ending, no controls, no HTML comment, no @mention."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = CONTROLS.sub("\ufffd", text)
    text = text.replace("<!--", f"<!{ZWJ}--")
    return MENTION.sub(f"@{ZWJ}", text)


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run in `text`, so no line of it can close the fence."""
    longest = max((len(run) for run in BACKTICKS.findall(text)), default=0)
    return "`" * max(3, longest + 1)


def fenced(text: str, info: str, budget: int = SECTION_BYTES) -> str:
    """`text` in a code block of at most `budget` bytes, clipped (with a trusted note) to fit."""
    text = text.rstrip("\n")
    original = len(text)
    while True:  # twice at most: clipping can only shorten the fence
        fence = fence_for(text)
        room = max(0, budget - 2 * len(fence) - len(info) - 2)
        if size(text) <= room:
            break
        # By bytes, not characters (a multi-byte text would be cut to nothing), whole characters kept.
        text = text.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    block = f"{fence}{info}\n{text}\n{fence}"
    if len(text) < original:
        block += (
            f"\n\n_Truncated: the first {len(text)} of {original} characters are shown; "
            "the full text is in the run's artifacts._"
        )
    return block
