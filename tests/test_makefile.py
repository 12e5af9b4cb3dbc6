"""The Makefile as a new user meets it: the Python version checked first, no half-built venv, clean output,
and each target running exactly the preflight command the README says it does."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def test_an_old_python_is_named_before_anything_is_built(tmp_path: Path):
    # A stand-in interpreter that reports 3.10 and would otherwise work.
    fake = tmp_path / "python3.10"
    fake.write_text(
        f"#!/bin/sh\nexec {sys.executable} -c \"import sys; sys.version_info = (3, 10, 12, 'final', 0); "
        'exec(sys.argv[1])" "$2"\n'
    )
    fake.chmod(0o755)
    venv = tmp_path / "venv"
    result = subprocess.run(
        [MAKE, "venv", f"PYTHON={fake}", f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "needs Python >= 3.11, found 3.10" in result.stderr
    assert not venv.exists(), "nothing may be left for a later run to reuse"


def test_a_failed_install_leaves_no_venv(tmp_path: Path):
    # A real interpreter, but the install fails (pip cannot run inside this venv: it is removed).
    fake = tmp_path / "python3"
    only_make_the_folder = 'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then mkdir -p "$3/bin"; exit 0; fi'
    fake.write_text(f'#!/bin/sh\n{only_make_the_folder}\nexec {sys.executable} "$@"\n')
    fake.chmod(0o755)
    venv = tmp_path / "venv"
    result = subprocess.run(
        [MAKE, "venv", f"PYTHON={fake}", f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "nothing was left behind" in result.stderr
    assert not venv.exists()


def test_make_plan_json_writes_only_json():
    if not (ROOT / ".venv" / ".installed").exists():
        pytest.skip("needs the project's .venv (make venv)")
    # As a user runs it: not as a sub-make of `make test` (which would print "Entering directory").
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    result = subprocess.run(
        [MAKE, "plan", "FORMAT=json", "STACK=prod"], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["stack"] == "prod"


# --- the targets over preflight: exact command lines, accepted by the command's own parser ---------------

# Never rebuild the virtualenv the tests run on: `-o` treats it as built.
OFFLINE = ["-o", ".venv/.installed"]
PREFLIGHT = [".venv/bin/python", "-m", "preflight"]


def as_a_user_runs_it() -> dict[str, str]:
    # Not as a sub-make of `make test` (which would print "Entering directory").
    return {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}


def recipe(*args: str) -> list[list[str]]:
    """The command lines `make` would run, without running them."""
    result = subprocess.run(
        [MAKE, "-n", *OFFLINE, *args], cwd=ROOT, capture_output=True, text=True, timeout=60, env=as_a_user_runs_it()
    )
    assert result.returncode == 0, result.stderr
    return [shlex.split(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["doctor"], "doctor --stack staging --format text"),
        (["doctor", "STACK=prod", "FORMAT=json"], "doctor --stack prod --format json"),
        (["doctor", "STACK=prod", "ARGS=--before-up"], "doctor --stack prod --format text --before-up"),
        (["adopt", "STACK=prod"], "adopt --stack prod --format text"),
        (["adopt", "STACK=staging", "FORMAT=json"], "adopt --stack staging --format json"),
        (["diff"], "diff staging prod --format text"),
        (
            ["diff", "FROM=prod", "TO=tests/fixtures/Pulumi.prod.yaml", "FORMAT=markdown"],
            "diff prod tests/fixtures/Pulumi.prod.yaml --format markdown",
        ),
        (["promote"], "promote --from staging --to prod --format text"),
        (["promote", "FROM=staging", "TO=prod", "FORMAT=json"], "promote --from staging --to prod --format json"),
        (["plan", "STACK=prod", "FORMAT=markdown"], "plan --stack prod --format markdown"),
        (["policy-config", "STACK=prod"], "policy-config --stack prod --write"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_each_target_runs_its_preflight_command(args: list[str], expected: str):
    (command,) = recipe(*args)
    assert command == [*PREFLIGHT, *expected.split()], command
    # The command's own parser accepts it: the options exist and the values are among its choices.
    module = importlib.import_module(f"preflight.{command[3].replace('-', '_')}")
    parser = argparse.ArgumentParser(exit_on_error=False)
    module.add_arguments(parser)
    parser.parse_args(command[4:])


def test_every_target_is_listed_by_make_help_and_every_listed_one_exists():
    result = subprocess.run(
        [MAKE, "-pRrq", *OFFLINE, "help"], cwd=ROOT, capture_output=True, text=True, timeout=60, env=as_a_user_runs_it()
    )
    (phony,) = re.findall(r"^\.PHONY: (.*)$", result.stdout, re.M)
    listed = subprocess.run(
        [MAKE, "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60, env=as_a_user_runs_it()
    )
    assert listed.returncode == 0, listed.stderr
    helped = [line.split(":", 1)[0] for line in listed.stdout.splitlines()]
    assert sorted(helped) == sorted(phony.split()), f"make help lists {helped}; the targets are {phony}"
    assert {"doctor", "adopt", "diff", "promote", "plan"} <= set(helped), helped


def _needs_venv() -> None:
    if not (ROOT / ".venv" / ".installed").exists():
        pytest.skip("needs the project's .venv (make venv)")


@pytest.mark.parametrize("target", [["diff", "FORMAT=json"], ["promote", "FORMAT=json"]], ids=" ".join)
def test_offline_targets_write_only_their_json(target: list[str]):
    _needs_venv()
    result = subprocess.run(
        [MAKE, *OFFLINE, *target], cwd=ROOT, capture_output=True, text=True, timeout=120, env=as_a_user_runs_it()
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["from"] and document["to"], document


@pytest.mark.parametrize("target", ["doctor", "adopt"])
def test_live_targets_echo_no_command_and_fail_without_credentials(target: str):
    _needs_venv()
    env = {k: v for k, v in as_a_user_runs_it().items() if not k.startswith("GENESYSCLOUD_")}
    result = subprocess.run(
        [MAKE, *OFFLINE, target, "FORMAT=json"], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )
    # Nothing is sent anywhere without credentials (or with the committed placeholders): a usage error.
    assert result.returncode != 0
    assert "preflight" not in result.stdout, f"the recipe echoed itself into the report: {result.stdout[:300]}"
