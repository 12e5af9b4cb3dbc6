"""Staging and prod in one Genesys org: neither may take the other's object names."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from preflight import promote
from preflight.__main__ import main
from tests.conftest import EXAMPLES

# Each test reads what the program declares; it never changes the program (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cached_runs")

NS = "genesys-messaging"


@pytest.fixture(autouse=True)
def no_policy_violations(monkeypatch):
    monkeypatch.setattr(promote, "_policy_results", lambda run: [])


def stacks_in(tmp_path: Path, **edits: Callable[[dict], None]) -> Path:
    """Both example stacks copied into tmp_path (as a project would hold them), each edited as given."""
    for stack in ("staging", "prod"):
        document = yaml.safe_load((EXAMPLES / f"Pulumi.{stack}.yaml").read_text())
        edits.get(stack, lambda config: None)(document["config"])
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    shutil.copytree(EXAMPLES / "bootstrap", tmp_path / "bootstrap")  # the org's bootstrap stack beside them
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def promote_json(capsys, folder: Path) -> tuple[int, dict]:
    code, out, err = run(
        capsys, "promote", "--from", str(folder / "Pulumi.staging.yaml"), "--to", str(folder / "Pulumi.prod.yaml"),
        "--format", "json",
    )  # fmt: skip
    return code, json.loads(out) if out.strip() else {"error": err}


def plan_json(capsys, path: Path) -> tuple[int, dict]:
    code, out, _ = run(capsys, "plan", "--config-file", str(path), "--format", "json")
    return code, json.loads(out)


def test_example_stacks_share_the_org_safely(capsys, tmp_path):
    folder = stacks_in(tmp_path)
    code, verdict = promote_json(capsys, folder)
    assert code == 0 and not [r for r in verdict["reasons"] if r["check"] == "shared org"], verdict
    for stack in ("staging", "prod"):
        code, plan = plan_json(capsys, folder / f"Pulumi.{stack}.yaml")
        assert code == 0 and not plan["violations"], plan["violations"]


def test_prod_with_stagings_prefix_is_refused_with_the_objects_it_would_fight_over(capsys, tmp_path):
    folder = stacks_in(tmp_path, prod=lambda c: c.update({f"{NS}:namePrefix": "stg-"}))
    code, verdict = promote_json(capsys, folder)
    assert code == 1
    shared = [r for r in verdict["reasons"] if r["check"] == "shared org"]
    assert any("like stack staging's" in r["message"] for r in shared), shared
    # The flow both would publish by the same name is named.
    assert any(r["subject"] == "Flow 'stg-Inbound Web Messaging'" for r in shared), shared


def test_prod_file_saying_staging_is_refused(capsys, tmp_path):
    folder = stacks_in(tmp_path, prod=lambda c: c.update({f"{NS}:environment": "staging"}))
    code, verdict = promote_json(capsys, folder)
    assert code == 1
    assert "genesys-messaging:environment: is 'staging' in the stack named 'prod'" in verdict["error"]
    assert "pulumi config set genesys-messaging:environment prod" in verdict["error"]


def test_prod_file_copied_from_staging_is_refused(capsys, tmp_path):
    folder = stacks_in(tmp_path)
    (folder / "Pulumi.prod.yaml").write_text((folder / "Pulumi.staging.yaml").read_text())
    code, verdict = promote_json(capsys, folder)
    assert code == 1 and "in the stack named 'prod'" in verdict["error"]


def test_unprefixed_staging_in_the_shared_org_fails_the_plan(capsys, tmp_path):
    folder = stacks_in(tmp_path, staging=lambda c: c.pop(f"{NS}:namePrefix"))
    code, plan = plan_json(capsys, folder / "Pulumi.staging.yaml")
    assert code == 1
    (violation,) = plan["violations"]
    assert violation["rule"] == "shared-org" and violation["level"] == "mandatory"
    assert "is empty in a staging stack that shares the same org" in violation["message"]
    assert "namePrefix" in violation["message"] and "genesys-messaging:org" in violation["message"]


@pytest.mark.parametrize(
    "separate",
    [
        {f"{NS}:org": "acme-test"},  # labelled as another org
        {f"{NS}:region": "eu-central-1"},  # another region is another org
    ],
    ids=["org-label", "region"],
)
def test_unprefixed_staging_in_its_own_org_is_fine(capsys, tmp_path, separate):
    def edit(config: dict) -> None:
        config.pop(f"{NS}:namePrefix")
        config.update(separate)

    folder = stacks_in(tmp_path, staging=edit)
    code, plan = plan_json(capsys, folder / "Pulumi.staging.yaml")
    # Its own org has no bootstrap stack file beside it: only the advisory bootstrap-org note says so.
    problems = [v for v in plan["violations"] if (v["rule"], v["level"]) != ("bootstrap-org", "advisory")]
    assert code == 0 and not problems, problems


def test_a_prefix_change_of_one_stack_shows_as_renames(capsys, tmp_path):
    before = stacks_in(tmp_path)
    after = tmp_path / "candidate"
    after.mkdir()
    document = yaml.safe_load((before / "Pulumi.staging.yaml").read_text())
    document["config"][f"{NS}:namePrefix"] = "qa-"
    (after / "Pulumi.staging.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    code, out, _ = run(capsys, "diff", str(before / "Pulumi.staging.yaml"), str(after / "Pulumi.staging.yaml"))
    assert code == 0
    assert 'name (rename): "stg-Inbound Web Messaging" -> "qa-Inbound Web Messaging"' in out
    assert "two versions of one stack" in out
    code, out, _ = run(
        capsys, "diff", str(before / "Pulumi.staging.yaml"), str(after / "Pulumi.staging.yaml"), "--format", "json"
    )
    renamed = [c for r in json.loads(out)["resources"] for c in r["inputs"] if c["kind"] == "renamed"]
    assert any(c["before"] == "stg-Inbound Web Messaging" and c["after"] == "qa-Inbound Web Messaging" for c in renamed)
