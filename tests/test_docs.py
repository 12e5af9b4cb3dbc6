"""The README's configuration table agrees with Pulumi.yaml and the settings schema."""

from __future__ import annotations

import re

from components.settings import project_config_declarations, settings_schema
from tests.conftest import ROOT


def readme_config_rows() -> dict[str, list[str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
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
