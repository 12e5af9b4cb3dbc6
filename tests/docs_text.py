"""The project's documents as the tests read them: a section is found by its heading wherever it lives.

The README is the user's document and docs/*.md the operators', reviewers' and contributors'; a section
moves between them without its tests changing. Exactly one document may hold a heading.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def document_of(title: str) -> Path:
    """The one document with a `## title` or `### title` heading."""
    heading = re.compile(rf"^#{{2,3}} {re.escape(title)}$", re.M)
    found = [path for path in documents() if heading.search(path.read_text())]
    assert len(found) == 1, f"heading {title!r}: in {[str(p.relative_to(ROOT)) for p in found]}, expected one document"
    return found[0]


def section(title: str, subsections: bool = True) -> str:
    """A section's text up to the next heading of its level or above; without `subsections`, up to its first
    subsection."""
    text = document_of(title).read_text()
    match = re.search(rf"^(#{{2,3}}) {re.escape(title)}$", text, re.M)
    level = len(match[1])
    rest = text[match.end() :]
    # From level 2: a `# comment` line of a fenced shell block is no heading.
    end = re.search(rf"^#{{2,{level}}} ", rest, re.M)
    body = rest[: end.start()] if end else rest
    if not subsections:
        body = re.split(rf"^#{{{level + 1},}} ", body, maxsplit=1, flags=re.M)[0]
    return body
