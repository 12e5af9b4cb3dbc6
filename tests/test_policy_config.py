"""policy/config.<stack>.json follows the stack: `preflight policy-config` writes it, `plan` refuses a stale one.

The expected context is read from the stack file with plain YAML (what a reviewer reads), never from the
code under test; the moved region is picked by hand from the Genesys regions, unlike the committed one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from preflight.__main__ import main
from tests.conftest import ROOT

NS = "genesys-messaging"
# Two Genesys regions (help.mypurecloud.com "Genesys Cloud regions"); whichever the stack is not in.
OTHER_REGIONS = ("eu-central-1", "ap-southeast-2")


def _copy_project(tmp_path: Path, stack: str) -> Path:
    """The stack file and the policy pack (with its committed config) in a scratch project."""
    shutil.copy2(ROOT / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    shutil.copytree(ROOT / "policy", tmp_path / "policy", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / f"Pulumi.{stack}.yaml"


def _move_region(path: Path) -> str:
    document = yaml.safe_load(path.read_text())
    current = document["config"][f"{NS}:region"]
    moved = next(region for region in OTHER_REGIONS if region != current)
    document["config"][f"{NS}:region"] = moved
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return moved


def _plan_violations(capsys, path: Path) -> tuple[int, list[dict[str, str]]]:
    code = main(["plan", "--config-file", str(path), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)["violations"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_committed_policy_config_is_what_the_command_writes(capsys, stack):
    stack_file = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    assert main(["policy-config", "--stack", stack]) == 0, capsys.readouterr().err
    printed = json.loads(capsys.readouterr().out)
    context = {"region": stack_file[f"{NS}:region"], "environment": stack_file[f"{NS}:environment"]}
    assert printed and all(values == context for values in printed.values()), printed
    committed = (ROOT / "policy" / f"config.{stack}.json").read_text()
    assert json.loads(committed) == printed


def test_a_moved_region_makes_plan_name_the_stale_file_and_the_command_that_fixes_it(capsys, tmp_path):
    path = _copy_project(tmp_path, "staging")
    moved = _move_region(path)
    code, violations = _plan_violations(capsys, path)
    stale = [v for v in violations if v["rule"] == "policy-config"]
    assert code == 1 and len(stale) == 1, violations
    assert stale[0]["level"] == "mandatory"
    assert "policy/config.staging.json" in stale[0]["message"] and repr(moved) in stale[0]["message"], stale
    assert "python -m preflight policy-config --stack staging --write" in stale[0]["fix"], stale
    # The command the fix names (given the scratch file's path) rewrites the file, and plan no longer refuses it.
    assert main(["policy-config", "--stack", str(path)]) == 1, "a stale file must fail the check"
    assert "policy/config.staging.json" in capsys.readouterr().err
    assert main(["policy-config", "--stack", str(path), "--write"]) == 0
    capsys.readouterr()
    written = json.loads((tmp_path / "policy" / "config.staging.json").read_text())
    assert written and all(v == {"region": moved, "environment": "staging"} for v in written.values()), written
    _, violations = _plan_violations(capsys, path)
    assert not [v for v in violations if v["rule"] == "policy-config"], violations


@pytest.mark.parametrize(
    "content, reason",
    [(None, "is missing"), ("{not json", "cannot be read as JSON"), ('{"region-consistency": {}}', "disagrees")],
)
def test_a_missing_or_broken_policy_config_is_refused(capsys, tmp_path, content, reason):
    path = _copy_project(tmp_path, "prod")
    config = tmp_path / "policy" / "config.prod.json"
    if content is None:
        config.unlink()
    else:
        config.write_text(content)
    code, violations = _plan_violations(capsys, path)
    stale = [v for v in violations if v["rule"] == "policy-config"]
    assert code == 1 and stale and reason in stale[0]["message"], violations


def test_a_candidate_file_without_a_policy_pack_beside_it_is_not_asked_for_one(capsys, tmp_path):
    shutil.copy2(ROOT / "Pulumi.prod.yaml", tmp_path / "Pulumi.prod.yaml")
    _, violations = _plan_violations(capsys, tmp_path / "Pulumi.prod.yaml")
    assert not [v for v in violations if v["rule"] == "policy-config"], violations


def test_an_invalid_stack_is_refused_without_writing(capsys, tmp_path):
    path = _copy_project(tmp_path, "prod")
    document = yaml.safe_load(path.read_text())
    document["config"][f"{NS}:region"] = "eu-west-9"
    path.write_text(yaml.safe_dump(document))
    before = (tmp_path / "policy" / "config.prod.json").read_text()
    assert main(["policy-config", "--stack", str(path), "--write"]) == 1
    assert "region" in capsys.readouterr().err
    assert (tmp_path / "policy" / "config.prod.json").read_text() == before
