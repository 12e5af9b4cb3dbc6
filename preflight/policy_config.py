"""python -m preflight policy-config: write policy/config.<stack>.json from the stack's own settings.

The real `pulumi preview --policy-pack policy --policy-pack-config policy/config.<stack>.json` reads the
stack's region and environment from that file (policy/context.py), so it stays committed; but the stack
file is the one place they are stated. This command derives the file from the stack, and `preflight plan`
refuses a file that disagrees (policy_config_violations), naming the command that regenerates it.
Exit codes: 0 the file agrees (or was written), 1 it is stale or missing, or the stack is invalid; 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from components.errors import InvalidConfiguration
from components.settings import load_from_stack_file
from components.settings_model import Settings
from components.stack_file import StackFileError, read_stack_file
from components.visible_text import printable_lines
from policy.rules import CONTEXT_RULES
from preflight import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE
from preflight.stacks import resolve

POLICY_DIR = "policy"
RULE = "policy-config"


def policy_config_path(stack_file: Path, stack: str) -> Path:
    """Where the pack's config of a stack lives: policy/ beside the stack file."""
    return stack_file.parent / POLICY_DIR / f"config.{stack}.json"


def has_policy_pack(stack_file: Path) -> bool:
    """A project with the pack beside the stack file (a candidate file elsewhere has no pack to configure)."""
    return (stack_file.parent / POLICY_DIR / "PulumiPolicy.yaml").is_file()


def expected(settings: Settings) -> dict[str, dict[str, str]]:
    """The pack's config for the stack: every rule that reads the context gets its region and environment."""
    context = {"region": settings.region.code, "environment": settings.environment}
    return {rule_id: dict(context) for rule_id in sorted(CONTEXT_RULES)}


def render(settings: Settings) -> str:
    return json.dumps(expected(settings), indent=2) + "\n"


def regenerate_command(stack: str) -> str:
    return f"python -m preflight policy-config --stack {stack} --write"


def stale_reason(path: Path, settings: Settings) -> str | None:
    """Why the file at `path` is not the one the stack implies, or None when it is."""
    try:
        current = json.loads(path.read_text())
    except FileNotFoundError:
        return "is missing"
    except (OSError, ValueError, UnicodeDecodeError) as error:
        return f"cannot be read as JSON ({error.__class__.__name__})"
    want = expected(settings)
    if current == want:
        return None
    if not isinstance(current, dict):
        return "is not a mapping of policy name to its config"
    differing = sorted(
        f"{rule}.{key} is {current.get(rule, {}).get(key)!r}, the stack says {value!r}"
        for rule, values in want.items()
        for key, value in values.items()
        if not isinstance(current.get(rule), dict) or current[rule].get(key) != value
    )
    extra = sorted(set(current) - set(want))
    parts = differing[:3] + ([f"{len(differing) - 3} more"] if len(differing) > 3 else [])
    parts += [f"{rule} is no policy that reads the stack context" for rule in extra]
    return "disagrees with the stack: " + "; ".join(parts)


def policy_config_violations(stack_file: Path, settings: Settings) -> list[dict[str, str]]:
    """Mandatory when the pack's config beside the stack file is missing or says another region or environment:
    the offline plan would pass while the real preview judges the stack by the file's context."""
    if not has_policy_pack(stack_file):
        return []
    path = policy_config_path(stack_file, settings.stack)
    reason = stale_reason(path, settings)
    if reason is None:
        return []
    shown = f"{POLICY_DIR}/{path.name}"
    return [
        {
            "rule": RULE,
            "level": "mandatory",
            "resource": settings.stack,
            "message": f"{shown} {reason} (`pulumi preview --policy-pack-config {shown}` reads it)",
            "fix": f"{regenerate_command(settings.stack)}, then commit {shown}",
        }
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml) or a stack file's path")
    parser.add_argument(
        "--write", action="store_true", help="write policy/config.<stack>.json (default: print it, exit 1 if stale)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        stack_file = resolve(args.stack)
        stack = read_stack_file(stack_file)
        settings = load_from_stack_file(stack)
    except StackFileError as error:
        print(printable_lines(f"error: {error}"), file=sys.stderr)
        return EXIT_USAGE
    except InvalidConfiguration as error:
        print(printable_lines(str(error)), file=sys.stderr)
        return EXIT_PROBLEM
    path = policy_config_path(stack_file, settings.stack)
    if args.write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(settings))
        print(f"wrote {POLICY_DIR}/{path.name} ({settings.region.code}, {settings.environment})")
        return EXIT_OK
    print(render(settings), end="")
    reason = stale_reason(path, settings)
    if reason is not None:
        print(f"{POLICY_DIR}/{path.name} {reason}; fix: {regenerate_command(settings.stack)}", file=sys.stderr)
        return EXIT_PROBLEM
    return EXIT_OK
