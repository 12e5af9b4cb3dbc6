"""python -m preflight promote --from staging --to prod: refuse a promotion unless the target is promotable.

Promotable: the target matches the source in everything but the environment-specific values listed
in preflight/promotion.yaml (see preflight/promotion.py for the checks). Every reason is printed.
Exit 0 promotable, 1 not (or a stack's settings are invalid), 2 usage (unknown stack, unreadable file).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from preflight import EXIT_OK, EXIT_PROBLEM
from preflight.inprocess import Run
from preflight.policy_check import evaluate_run
from preflight.promotion import Verdict, evaluate_promotion
from preflight.stacks import Plan, load_for_command

FORMATS = ("text", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="source", required=True, metavar="STACK", help="stack promoted from")
    parser.add_argument("--to", dest="target", required=True, metavar="STACK", help="stack promoted to")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")


def _policy_results(run: Run) -> list[Any]:
    """The policy rules' violations for a planned stack (tests replace this to isolate other checks)."""
    return evaluate_run(run)


def run(args: argparse.Namespace) -> int:
    plans = load_for_command([args.source, args.target])
    if isinstance(plans, int):
        return plans
    source, target = plans
    verdict = evaluate_promotion(source, target, _policy_results)
    print((to_json if args.format == "json" else to_text)(source, target, verdict))
    return EXIT_OK if verdict.promotable else EXIT_PROBLEM


def to_text(source: Plan, target: Plan, verdict: Verdict) -> str:
    count = len(verdict.reasons)
    if verdict.promotable:
        lines = [f"promote {source.label} -> {target.label}: promotable"]
    else:
        lines = [f"promote {source.label} -> {target.label}: NOT promotable ({count} reason{'s' * (count != 1)})"]
        lines += [f"  - {reason}" for reason in verdict.reasons]
    if verdict.allowed:
        lines.append("allowed differences (environment-specific, preflight/promotion.yaml):")
        lines += [f"  - {a.subject}: {a.path}: {a.why}" for a in verdict.allowed]
    return "\n".join(lines)


def to_json(source: Plan, target: Plan, verdict: Verdict) -> str:
    document = {
        "from": source.label,
        "to": target.label,
        "promotable": verdict.promotable,
        "reasons": [{"check": r.check, "subject": r.subject, "message": r.message} for r in verdict.reasons],
        "allowed": [{"subject": a.subject, "path": a.path, "why": a.why} for a in verdict.allowed],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
