"""The Makefile as a new user meets it: the Python version checked first, no half-built venv, clean output."""

from __future__ import annotations

import json
import os
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
