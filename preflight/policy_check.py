"""The one place preflight runs the policy rules (policy/rules.py) over a planned stack."""

from __future__ import annotations

from typing import Any

from preflight.inprocess import Run


def evaluate_run(run: Run) -> list[Any]:
    """Every rule's violations for what the program declared, with the stack's region and environment."""
    from policy.rules import evaluate

    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "props": r.inputs,
            "provider": r.provider,
            "protect": r.protect,
            "parent": r.parent,
        }
        for r in run.resources
    ]
    return evaluate(resources, {"region": run.settings.region.code, "environment": run.settings.environment})
