"""The README's configuration table agrees with Pulumi.yaml and the settings schema."""

from __future__ import annotations

import re

from components.settings import project_config_declarations, settings_schema
from tests import docs_text


def readme_config_rows() -> dict[str, list[str]]:
    section = docs_text.section("Configuration")
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([A-Za-z]+)` \|(.*)\|$", line)
        if match:
            rows[match[1]] = [cell.strip() for cell in re.split(r"(?<!\\)\|", match[2])]
    return rows


def test_every_declared_key_is_documented_with_its_default():
    rows = readme_config_rows()
    declarations = project_config_declarations()
    assert set(rows) == set(declarations) == set(settings_schema()["properties"])
    for key, declaration in declarations.items():
        default = rows[key][1]
        if "default" in declaration:
            assert default == f"`{declaration['default']}`" or (declaration["default"] == "" and default == '`""`'), key
        else:
            assert default == "required", f"{key}: README says default {default!r}, Pulumi.yaml declares none"


def test_no_document_runs_a_python_a_fresh_clone_lacks():
    # A fresh clone's `python` lacks the requirements: every command says `.venv/bin/python` (which the
    # make targets create) or is a make target.
    bare = re.compile(r"(?<![\w/.-])python3?(?:\.\d+)? (?:-m |scripts/)")
    found = [
        f"{path.relative_to(docs_text.ROOT)}:{number}: {line.strip()}"
        for path in docs_text.documents()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if bare.search(line)
    ]
    assert not found, "\n".join(found)


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_between_the_documents_resolves():
    # The README and docs/ link into each other by file and heading; a moved or renamed section breaks them.
    broken = []
    for path in docs_text.documents():
        text = path.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            if not linked.is_file():
                broken.append(f"{path.name}: {target} (no such file)")
            elif anchor and linked.suffix == ".md":
                headings = re.findall(r"^#{1,6} (.+)$", linked.read_text(), re.M)
                if anchor not in {_anchor(h) for h in headings}:
                    broken.append(f"{path.name}: {target} (no such heading)")
    assert not broken, "\n".join(broken)
