"""The full example stack files of docs/ticketing.md are valid and plan: the README's examples stay true."""

from __future__ import annotations

import re

import pytest

from components.settings import load_from_stack_file
from components.stack_file import read_stack_file
from preflight.inprocess import run_program
from tests.conftest import ROOT, sentinel

EXAMPLES = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "ticketing.md").read_text(), re.S)


def test_there_is_one_example_per_preset():
    kinds = [re.search(r"\n    kind: (\w+)", text).group(1) for text in EXAMPLES]
    assert kinds == ["zendesk", "salesforce", "custom"]


@pytest.mark.parametrize("text", EXAMPLES, ids=["zendesk", "salesforce", "custom"])
def test_each_example_is_a_valid_stack_that_plans(text, tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(text)
    stack = read_stack_file(path, reveal=sentinel)
    settings = load_from_stack_file(stack)
    assert settings.crm.kind == re.search(r"\n    kind: (\w+)", text).group(1)
    secret_command = re.search(r"--path '(genesys-messaging:crm\.\w+)'", text).group(1)
    assert f"{secret_command}" in stack.encrypted, f"the header's command sets {secret_command}, a secure: value"
    run = run_program(stack)
    assert len([r for r in run.of_type("IntegrationAction") if r.name.startswith("crm-")]) == 2
