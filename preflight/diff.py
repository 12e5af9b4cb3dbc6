"""python -m preflight diff A B: what would differ between two stacks, resource by resource.

A and B are stack names (Pulumi.<name>.yaml in the project root) or stack file paths. Both are
planned in-process; resources are matched by type and logical name, names are compared without
each stack's namePrefix and secrets are shown as [secret]. A diff is information: exit 0 whenever
it ran, 1 if a stack's settings are invalid, 2 for an unknown stack or unreadable file.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from preflight.compare import ABSENT, Change, ResourceDiff, as_json, diff_plans, show
from preflight.stacks import Plan, load_for_command

FORMATS = ("text", "markdown", "json")
_MARK = {"added": "+", "removed": "-", "changed": "~"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("first", metavar="A", help="stack name (e.g. staging) or path to a stack file")
    parser.add_argument("second", metavar="B", help="stack name (e.g. prod) or path to a stack file")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")


def run(args: argparse.Namespace) -> int:
    plans = load_for_command([args.first, args.second])
    if isinstance(plans, int):
        return plans
    first, second = plans
    diffs = diff_plans(first.run, second.run, strip_prefix=not _same_stack(first, second))
    print({"text": to_text, "markdown": to_markdown, "json": to_json}[args.format](first, second, diffs))
    return 0


def _counts(diffs: list[ResourceDiff]) -> str:
    counts = {status: sum(d.status == status for d in diffs) for status in _MARK}
    return ", ".join(f"{n} {status}" for status, n in counts.items())


def _same_stack(first: Plan, second: Plan) -> bool:
    """Two versions of one stack (the file and a candidate), rather than two stacks."""
    return first.label == second.label


def _prefixes(first: Plan, second: Plan) -> str:
    if _same_stack(first, second):
        return "two versions of one stack: names compared as they are, renames marked; secrets shown as [secret]"
    return (
        f"names compared without each stack's namePrefix ({first.label} {first.run.settings.name_prefix!r}, "
        f"{second.label} {second.run.settings.name_prefix!r}); secrets shown as [secret]"
    )


def _path(change: Change) -> str:
    return f"{change.path} (rename)" if change.is_rename else change.path


def _rows(diff: ResourceDiff) -> list[tuple[str, Change]]:
    return [("", c) for c in diff.inputs] + [("option ", c) for c in diff.options]


def to_text(first: Plan, second: Plan, diffs: list[ResourceDiff]) -> str:
    lines = [f"diff {first.label} -> {second.label}: {len(diffs)} resources differ ({_counts(diffs)})"]
    lines.append(f"  {_prefixes(first, second)}")
    for diff in diffs:
        lines.append(f"{_MARK[diff.status]} {diff.short_type} {diff.name}  ({diff.type})")
        for label, change in _rows(diff):
            if diff.status == "changed":
                lines.append(f"    {label}{_path(change)}: {show(change.before)} -> {show(change.after)}")
            else:
                value = change.after if diff.status == "added" else change.before
                lines.append(f"    {label}{change.path}: {show(value)}")
    if not diffs:
        lines.append("no differences")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`" if text else ""


def to_markdown(first: Plan, second: Plan, diffs: list[ResourceDiff]) -> str:
    lines = [
        f"## Diff `{first.label}` → `{second.label}`",
        "",
        f"{len(diffs)} resources differ ({_counts(diffs)}); {_prefixes(first, second)}.",
    ]
    if diffs:
        lines += [
            "",
            f"| | Resource | Type | Input | {first.label} | {second.label} |",
            "|---|---|---|---|---|---|",
        ]
    for diff in diffs:
        for label, change in _rows(diff):
            before = "" if change.before is ABSENT else show(change.before)
            after = "" if change.after is ABSENT else show(change.after)
            lines.append(
                f"| {_MARK[diff.status]} | {_cell(diff.name)} | {_cell(diff.short_type)} "
                f"| {label}{_cell(_path(change))} | {_cell(before)} | {_cell(after)} |"
            )
    return "\n".join(lines)


def _change_json(change: Change) -> dict[str, Any]:
    kind = "renamed" if change.is_rename else change.kind
    return {"path": change.path, "kind": kind, "before": as_json(change.before), "after": as_json(change.after)}


def to_json(first: Plan, second: Plan, diffs: list[ResourceDiff]) -> str:
    document = {
        "from": {"stack": first.label, "namePrefix": first.run.settings.name_prefix},
        "to": {"stack": second.label, "namePrefix": second.run.settings.name_prefix},
        "summary": {status: sum(d.status == status for d in diffs) for status in _MARK},
        "resources": [
            {
                "status": d.status,
                "type": d.type,
                "name": d.name,
                "inputs": [_change_json(c) for c in d.inputs],
                "options": [_change_json(c) for c in d.options],
            }
            for d in diffs
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
