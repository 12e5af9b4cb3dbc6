"""The flow's settings: session upgrade refused with profile linking, the flow-level error handling choice.

Kept apart from tests/test_settings.py (whose helpers it uses) so each slice's settings tests stay together.
"""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import ROOT
from tests.test_settings import NS, one, problems_for, staging_object


def test_session_upgrade_is_refused_naming_the_file_the_key_and_the_choice():
    idp = staging_object("identityProvider") | {"allowSessionUpgrade": True}
    problem = one(problems_for({"identityProvider": idp}), f"{NS}:identityProvider.allowSessionUpgrade")
    assert problem.source == "Pulumi.staging.yaml"
    # The reason (a later sign-in is never linked) and the choice, in the message and the fix.
    assert "signs in later would stay unidentified" in problem.message
    assert problem.fix.startswith("set it to false")
    assert "session upgrade, or every signed-in conversation on the customer's profile" in problem.fix


def test_session_upgrade_off_is_accepted_on_every_committed_stack():
    for name in ("Pulumi.staging.yaml", "Pulumi.prod.yaml", "tests/fixtures/Pulumi.prod.yaml"):
        config = yaml.safe_load((ROOT / name).read_text())["config"]
        assert config[f"{NS}:identityProvider"].get("allowSessionUpgrade", False) is False, name


@pytest.mark.parametrize("value", ["retry", "transfertoacd", ""])
def test_an_unknown_flow_error_handling_is_refused_with_the_choices(value):
    problem = one(problems_for({"flowErrorHandling": value}), f"{NS}:flowErrorHandling")
    assert "disconnect" in problem.fix and "transferToAcd" in problem.fix


def test_flow_error_handling_defaults_to_the_proven_disconnect():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]["flowErrorHandling"]
    assert (declared["type"], declared["default"]) == ("string", "disconnect")
