"""The README's commands as a new user copies them: what can run here runs; everything else they name exists.

The "Deploying for real" block is also run as a whole in bash with every tool stubbed (each stub records
its working directory and which Genesys variables it sees), so the shell itself says what each command's
environment holds: a variable exported once stays exported, an assignment in front of a command does not.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from components import provider_binding as binding
from components.settings import secret_paths
from tests import docs_text
from tests.conftest import ROOT

VERSION = (ROOT / ".pulumi-version").read_text().strip()
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# The preflight commands that need a live org; the others plan offline and run here.
LIVE = {"doctor", "adopt"}
PREFLIGHT = [".venv/bin/python", "-m", "preflight"]
# Never rebuild the virtualenv these tests run on: make treats it as built (it is, or the test skips).
MAKE = ["make", "-o", ".venv/.installed"]
TOKEN = "GENESYSCLOUD_ACCESS_TOKEN"
CLIENT = ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET")


def section(title: str) -> str:
    """A section's own text (README.md or docs/*.md), up to its first subsection."""
    return docs_text.section(title, subsections=False)


def block(title: str) -> str:
    (found,) = re.findall(r"```bash\n(.*?)```", section(title), re.S)
    return found


def commands(text: str) -> list[tuple[str, list[str]]]:
    """(working directory relative to the root, argv) of every command in a block, `cd` followed; the
    `NAME=value` assignments in front of a command are left out of its argv (they hold for it alone)."""
    cwd, found = ".", []
    for line in text.splitlines():
        line = line.split("  #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        argv = shlex.split(line, comments=True)
        while argv and ASSIGNMENT.match(argv[0]):
            argv = argv[1:]
        if argv[0] == "cd":
            cwd = str((ROOT / cwd / argv[1]).resolve().relative_to(ROOT)) if argv[1] != ".." else "."
            continue
        found.append((cwd, argv))
    return found


def sequence() -> list[tuple[str, list[str]]]:
    return commands(block("Deploying for real"))


def pulumi_commands() -> list[tuple[str, list[str]]]:
    return [(cwd, argv) for cwd, argv in sequence() if argv[0] == "pulumi"]


def option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def test_one_cli_version_everywhere():
    named = section("Deploying for real")
    assert f"({VERSION}, .pulumi-version)" in named, "the README names another Pulumi CLI version"
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
    assert (
        f"MyPureCloud/genesyscloud {binding.TERRAFORM_PROVIDER_VERSION}"
        in docs_text.document_of("Provider routes").read_text()
    )


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


# --- every command runs as written from a fresh clone ----------------------------------------------------

# The sections (README.md or docs/*.md) whose commands this file checks, and the block each one holds.
CHECKED_BLOCKS = ("Deploying for real", "Diff and promotion")
needs_venv = pytest.mark.skipif(
    not (ROOT / ".venv" / ".installed").exists() or shutil.which("make") is None,
    reason="needs make and the project's .venv (make venv)",
)


def preflight_argv(cwd: str, argv: list[str]) -> list[str]:
    """The preflight command a README command runs: itself, or the one its make target's recipe runs."""
    if argv[0] != "make":
        return argv
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    shown = subprocess.run(
        [*MAKE, "-n", *argv[1:]], cwd=ROOT / cwd, capture_output=True, text=True, timeout=60, env=env
    )
    assert shown.returncode == 0, f"{' '.join(argv)}: {shown.stderr}"
    lines = [shlex.split(line) for line in shown.stdout.splitlines() if line.strip()]
    return next((line for line in lines if line[:3] == PREFLIGHT), [])


def runnable() -> list[tuple[str, list[str]]]:
    return [
        (cwd, argv)
        for title in CHECKED_BLOCKS
        for cwd, argv in commands(block(title))
        if argv[0] in ("make", PREFLIGHT[0])
    ]


def test_no_command_needs_a_python_the_clone_does_not_have():
    for title in CHECKED_BLOCKS:
        used = [argv for _, argv in commands(block(title))]
        bare = [argv for argv in used if re.fullmatch(r"python3?(\.\d+)?", argv[0])]
        assert not bare, f"{title}: {bare}: a fresh clone's python lacks the requirements; use .venv/bin/python or make"
        first_make = next((i for i, argv in enumerate(used) if argv[0] == "make"), len(used))
        first_venv = next((i for i, argv in enumerate(used) if argv[0] == PREFLIGHT[0]), len(used))
        assert first_make <= first_venv, f"{title}: .venv/bin/python before any make target has created .venv"


@needs_venv
@pytest.mark.parametrize("cwd_argv", runnable(), ids=lambda c: " ".join(c[1]))
def test_commands_that_need_no_cli_or_org_run(cwd_argv):
    cwd, argv = cwd_argv
    command = preflight_argv(cwd, argv)
    if argv[0] == "make" and not command:  # a target of its own (make venv): it must run
        command = argv
    if command[:3] == PREFLIGHT and command[3] in LIVE:
        # Needs a live org; here: the command line is one its own parser accepts (names, options, choices).
        module = importlib.import_module(f"preflight.{command[3]}")
        parser = argparse.ArgumentParser(exit_on_error=False)
        module.add_arguments(parser)
        parser.parse_args(command[4:])
        return
    run = [*MAKE, *argv[1:]] if argv[0] == "make" else argv
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    result = subprocess.run(run, cwd=ROOT / cwd, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, (
        f"{' '.join(argv)}: exit {result.returncode}\n{result.stdout[-800:]}{result.stderr[-800:]}"
    )


def test_the_blocks_use_every_offline_and_live_target():
    # The targets the README promises (make doctor|promote|diff|adopt) are the ones its blocks and prose use.
    targets = {argv[1] for _, argv in runnable() if argv[0] == "make"}
    assert {"venv", "plan", "doctor", "promote", "diff"} <= targets, targets
    assert "`make adopt STACK=staging`" in docs_text.section("Adopting what the migration already created")


# --- the administrator's token reaches bootstrap's `pulumi up` and nothing after it -----------------------


@dataclass(frozen=True)
class Call:
    cwd: str
    argv: tuple[str, ...]
    seen: frozenset[str]
    """The watched variables set (to anything, even empty) in the command's environment."""


def run_with_stubs(tmp_path: Path, script: str, env: dict[str, str]) -> list[Call]:
    """The block run by bash in a scratch clone where every tool it calls is a stub that records its call."""
    clone, stubs, log = tmp_path / "clone", tmp_path / "bin", tmp_path / "calls"
    (clone / "bootstrap").mkdir(parents=True)
    (clone / ".venv" / "bin").mkdir(parents=True)
    stubs.mkdir()
    shutil.copyfile(ROOT / ".pulumi-version", clone / ".pulumi-version")
    watched = " ".join(f'"${{{name}+{name}}}"' for name in (TOKEN, *CLIENT))
    # Three lines per call: the directory, the watched variables set, the argv (fields end in \x1f).
    fields = f'pwd -P; printf "%s\\037" {watched}; echo; printf "%s\\037" "$0" "$@"; echo'
    # One write per call: `curl ... | sh` runs two stubs at once, and three appends each would interleave.
    record = f'#!/bin/sh\nline=$({{ {fields}; }})\nprintf "%s\\n" "$line" >> "$CALLS"\n'
    # python too, though the block must not call it (test above): so a bare python fails on what it sees.
    for tool in ("curl", "sh", "make", "pulumi", "python", "python3"):
        (stubs / tool).write_text(record)
        (stubs / tool).chmod(0o755)
    (clone / ".venv" / "bin" / "python").write_text(record)
    (clone / ".venv" / "bin" / "python").chmod(0o755)
    (stubs / "cat").symlink_to(shutil.which("cat"))
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "--noprofile", "--norc", "-e", "-c", script],
        cwd=clone,
        env={"PATH": str(stubs), "HOME": str(tmp_path), "CALLS": str(log), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"the block failed in bash (a tool without a stub?): {result.stderr}"
    lines = log.read_text().splitlines()
    calls = []
    for where, seen, called in zip(lines[::3], lines[1::3], lines[2::3], strict=True):
        path = Path(where).relative_to(clone.resolve())
        argv = called.split("\x1f")[:-1]
        calls.append(Call(str(path), (Path(argv[0]).name, *argv[1:]), frozenset(filter(None, seen.split("\x1f")))))
    return calls


@pytest.mark.parametrize(
    "shell", [{}, {TOKEN: "left-over-from-another-task"}], ids=["clean shell", "token left in the shell"]
)
def test_no_command_after_bootstrap_runs_with_the_administrators_token(tmp_path: Path, shell: dict[str, str]):
    # The provider takes GENESYSCLOUD_ACCESS_TOKEN as access_token (provider/provider_schema.go:33-38, v1.84.1)
    # and uses a non-empty one ahead of the client credentials (provider/provider.go:283, :333-352): a stack
    # command that sees it runs as the administrator, not as the deployer.
    calls = run_with_stubs(tmp_path, block("Deploying for real"), shell)
    # The parse the other tests read agrees with what bash ran (the pipe into sh aside).
    tools = ("pulumi", "make", "python")
    ran = [(c.cwd, list(c.argv)) for c in calls if c.argv[0] in tools]
    parsed = [(cwd, [Path(argv[0]).name, *argv[1:]]) for cwd, argv in sequence() if Path(argv[0]).name in tools]
    assert ran == parsed, f"bash ran {ran}\nthe block reads as {parsed}"
    (bootstrap_up,) = [i for i, c in enumerate(calls) if c.cwd == "bootstrap" and c.argv[:2] == ("pulumi", "up")]
    assert TOKEN in calls[bootstrap_up].seen, "bootstrap's pulumi up runs without the administrator's token"
    later_stack_commands = [c for c in calls[bootstrap_up + 1 :] if c.cwd == "."]
    assert later_stack_commands, "no stack command after bootstrap"
    for call in later_stack_commands:
        assert TOKEN not in call.seen, f"{' '.join(call.argv)} runs with {TOKEN} set: as the administrator"
    for call in calls:
        if call.cwd == "." and (call.argv[:2] in (("pulumi", "preview"), ("pulumi", "up")) or "doctor" in call.argv):
            assert set(CLIENT) <= call.seen, f"{' '.join(call.argv)} runs without the deployer's client credentials"


def test_the_stubbed_run_sees_an_exported_token(tmp_path: Path):
    # The check above can fail: the sequence as it was (the token exported for bootstrap, never unset).
    script = f"cd bootstrap\nexport {TOKEN}=x\npulumi up\ncd ..\npulumi up --stack staging\n"
    calls = run_with_stubs(tmp_path, script, {})
    assert [TOKEN in c.seen for c in calls] == [True, True], calls


def test_the_outputs_the_repository_setup_names_exist(committed_bootstrap_outputs):
    named = re.findall(r"`pulumi\s+stack\s+output\s+(?:--show-secrets\s+)?(\w+)`", section("Setting up the repository"))
    assert named, "the set-up names no bootstrap output"
    missing = [name for name in named if name not in committed_bootstrap_outputs]
    assert not missing, f"the README's set-up names bootstrap outputs that do not exist: {missing}"
