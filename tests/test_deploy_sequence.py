"""The README's deployment sequence: what can run here runs; everything else it names exists and agrees."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest
import yaml

from components import provider_binding as binding
from components.settings import secret_paths
from tests.conftest import ROOT

VERSION = (ROOT / ".pulumi-version").read_text().strip()


def sequence() -> list[tuple[str, list[str]]]:
    """(working directory relative to the root, argv) of every command in the block, `cd` followed."""
    section = (ROOT / "README.md").read_text().split("## Deploying for real", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section.split("###", 1)[0], re.S)
    cwd, commands = ".", []
    for line in block.splitlines():
        line = line.split("  #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        argv = shlex.split(line, comments=True)
        if argv[0] == "cd":
            cwd = str((ROOT / cwd / argv[1]).resolve().relative_to(ROOT)) if argv[1] != ".." else "."
            continue
        commands.append((cwd, argv))
    return commands


def pulumi_commands() -> list[tuple[str, list[str]]]:
    return [(cwd, argv) for cwd, argv in sequence() if argv[0] == "pulumi"]


def option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def test_one_cli_version_everywhere():
    section = (ROOT / "README.md").read_text().split("## Deploying for real", 1)[1]
    assert f"({VERSION}, .pulumi-version)" in section, "the README names another Pulumi CLI version"
    pins = re.findall(r"^pulumi==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M)
    assert pins == [VERSION], f"constraints.txt: the SDK must be pinned to the CLI version {VERSION}"
    for requirements, constraints in (
        ("requirements.txt", "constraints.txt"),
        ("policy/requirements.txt", "../constraints.txt"),
    ):
        lines = (ROOT / requirements).read_text().splitlines()
        assert f"-c {constraints}" in lines, f"{requirements}: must take the pins from constraints.txt"
        assert not [line for line in lines if line.startswith("pulumi") and "=" in line], (
            f"{requirements}: pin only in constraints.txt"
        )
    install = next(argv for _, argv in sequence() if argv[:2] == ["curl", "-fsSL"])
    assert "$(cat .pulumi-version)" in " ".join(install)


def test_provider_install_matches_the_binding():
    (install,) = [argv for _, argv in pulumi_commands() if argv[1:3] == ["plugin", "install"]]
    assert install[3:] == ["resource", binding.TERRAFORM_BRIDGE_PLUGIN, binding.TERRAFORM_BRIDGE_PLUGIN_VERSION]
    assert f"MyPureCloud/genesyscloud {binding.TERRAFORM_PROVIDER_VERSION}" in (ROOT / "README.md").read_text()


def test_policy_pack_runs_on_the_venv_the_sequence_creates():
    pack = yaml.safe_load((ROOT / "policy/PulumiPolicy.yaml").read_text())
    venv = os.path.normpath(ROOT / "policy" / pack["runtime"]["options"]["virtualenv"])
    assert venv == str(ROOT / ".venv"), venv
    assert ["make", "venv"] in [argv for _, argv in sequence()]


def test_every_file_stack_and_key_named_exists():
    for cwd, argv in pulumi_commands():
        project = yaml.safe_load((ROOT / cwd / "Pulumi.yaml").read_text())
        config = option(argv, "--policy-pack-config")
        if config:
            assert (ROOT / cwd / config).is_file(), f"{cwd}: {config} does not exist"
        stack = option(argv, "--stack") or (argv[3] if argv[1:3] == ["stack", "init"] else None)
        if stack:
            assert (ROOT / cwd / f"Pulumi.{stack}.yaml").is_file(), f"{cwd}: no stack file for {stack}"
        if argv[1:3] == ["config", "set"]:
            key = next(a for a in argv[3:] if ":" in a and not a.startswith("-"))
            namespace, path = key.split(":", 1)
            assert namespace == project["name"], f"{cwd}: {key} is not in the {project['name']} namespace"
            top = path.split(".")[0]
            assert top in project["config"], f"{cwd}: {key} is not declared in Pulumi.yaml"
            if "--secret" in argv:
                assert path in set(secret_paths()), f"{key} is set as a secret but is not one"


def test_each_stack_previews_deploys_then_previews_clean_with_the_policy_pack():
    for stack in ("staging", "prod"):
        steps = [
            argv for _, argv in pulumi_commands() if option(argv, "--stack") == stack and argv[1] in ("preview", "up")
        ]
        assert [argv[1] for argv in steps] == ["preview", "up", "preview"], f"{stack}: {steps}"
        assert "--expect-no-changes" in steps[-1], f"{stack}: the last preview must expect no changes"
        for argv in steps:
            assert option(argv, "--policy-pack") == "policy", f"{stack}: {argv}"
            assert option(argv, "--policy-pack-config") == f"policy/config.{stack}.json", f"{stack}: {argv}"


def test_bootstrap_runs_before_any_stack_and_its_outputs_exist(committed_bootstrap_outputs):
    commands = sequence()
    first_stack = next(
        i for i, (_, argv) in enumerate(commands) if argv[:3] == ["pulumi", "stack", "init"] and argv[3] != "org"
    )
    bootstrap_up = next(
        i for i, (cwd, argv) in enumerate(commands) if cwd == "bootstrap" and argv[:2] == ["pulumi", "up"]
    )
    assert bootstrap_up < first_stack
    for cwd, argv in commands:
        if argv[:3] == ["pulumi", "stack", "output"]:
            assert cwd == "bootstrap" and argv[-1] in committed_bootstrap_outputs, argv


@pytest.fixture
def committed_bootstrap_outputs():
    from components.stack_file import read_stack_file
    from preflight.inprocess import run_bootstrap

    return run_bootstrap(read_stack_file(ROOT / "bootstrap/Pulumi.org.yaml")).outputs


RUNNABLE = {"make", "python"}


@pytest.mark.parametrize(
    "argv",
    [argv for cwd, argv in sequence() if argv[0] in RUNNABLE and cwd == "."],
    ids=lambda argv: " ".join(argv),
)
def test_commands_that_need_no_cli_or_org_run(argv):
    if argv[:3] == ["python", "-m", "preflight"] and argv[3] == "doctor":
        argv = [*argv, "--help"]  # needs a live org; here: the command and its options exist
    command = [sys.executable, *argv[1:]] if argv[0] == "python" else argv
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (
        f"{' '.join(argv)}: exit {result.returncode}\n{result.stdout[-800:]}{result.stderr[-800:]}"
    )
