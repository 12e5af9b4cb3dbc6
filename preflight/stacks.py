"""Find a stack file by stack name or path and plan it in-process: what `diff` and `promote` start from."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from components.errors import InvalidConfiguration
from components.settings_model import PROJECT_ROOT
from components.stack_file import StackConfig, StackFileError, read_stack_file
from components.visible_text import printable_lines
from preflight import EXIT_PROBLEM, EXIT_USAGE
from preflight.inprocess import Run, run_program


@dataclass(frozen=True)
class Plan:
    """One stack's file and the resources the program declares for it."""

    label: str
    """The stack name as the user sees it (the file's stack name)."""
    stack: StackConfig
    run: Run


def known_stacks(root: Path = PROJECT_ROOT) -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in root.glob("Pulumi.*.yaml"))


def resolve(ref: str, root: Path = PROJECT_ROOT) -> Path:
    """`staging` -> <root>/Pulumi.staging.yaml; anything that looks like a path is taken as one.

    Raises StackFileError (a usage error) for a stack name without a file.
    """
    if "/" in ref or ref.endswith((".yaml", ".yml")):
        return Path(ref)
    path = root / f"Pulumi.{ref}.yaml"
    if not path.is_file():
        known = ", ".join(known_stacks(root)) or "none"
        raise StackFileError(f"unknown stack {ref!r}: no Pulumi.{ref}.yaml in {root} (known stacks: {known})")
    return path


def load(ref: str, root: Path = PROJECT_ROOT) -> Plan:
    """Read and plan a stack. Raises StackFileError (usage) or SettingsError / FlowError (invalid stack)."""
    stack = read_stack_file(resolve(ref, root))
    return Plan(label=stack.stack, stack=stack, run=run_program(stack))


def load_for_command(refs: list[str]) -> list[Plan] | int:
    """Plan each stack for a command; on failure print why to stderr and return the exit code.

    2 (usage) for an unknown stack or an unreadable stack file, 1 for invalid settings, flow or binding.
    A message quotes what the file holds (an unknown key's name): its hidden characters are shown escaped.
    """
    plans = []
    for ref in refs:
        try:
            plans.append(load(ref))
        except StackFileError as error:
            print(printable_lines(f"error: {error}"), file=sys.stderr)
            return EXIT_USAGE
        except InvalidConfiguration as error:
            print(printable_lines(str(error)), file=sys.stderr)
            return EXIT_PROBLEM
    return plans
