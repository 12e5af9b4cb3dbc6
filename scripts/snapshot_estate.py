"""Write (or check) the reviewed snapshots of the declared estate: tests/snapshots/*.json.

Each snapshot is what the program declares for an example stack (tests/fixtures/): every resource with
its URN, type token, parent, provider, protect, inputs (secrets as [secret], offline ids labelled) and,
where set, ignore_changes and delete_before_replace, and the stack outputs. A change to the program
that changes what would be deployed changes a snapshot, so it shows in the pull request as a diff to
review, as CDK snapshot tests do:

    python scripts/snapshot_estate.py            # regenerate after an intended change (make snapshot)
    python scripts/snapshot_estate.py --check    # exit 1 naming the snapshots that are out of date
    python scripts/snapshot_estate.py --out DIR  # write them all to DIR instead (the PR workflow's fresh copy)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components.stack_file import read_stack_file  # noqa: E402
from preflight.inprocess import Declared, Run, run_bootstrap, run_program  # noqa: E402
from preflight.plan import planned_resources  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SNAPSHOTS = ROOT / "tests" / "snapshots"


def _replacement_options(declared: Declared) -> dict:
    """The options that change what a later `up` does to the resource, where set."""
    options: dict = {}
    if declared.ignore_changes:
        options["ignore_changes"] = sorted(declared.ignore_changes)
    if declared.delete_before_replace:
        options["delete_before_replace"] = True
    return options


def estate(run: Run) -> dict:
    declared = {r.urn: r for r in run.resources}
    resources = [
        {
            "urn": r.urn,
            "type": r.type_token,
            "parent": r.parent,
            "provider": r.provider,
            "protect": r.protect,
            "inputs": r.inputs,
            **_replacement_options(declared[r.urn]),
        }
        for r in sorted(planned_resources(run), key=lambda r: r.urn)
    ]
    outputs = {k: ("[secret]" if k in run.secret_outputs else v) for k, v in sorted(run.outputs.items())}
    return {"resources": resources, "outputs": outputs}


def snapshots() -> dict[str, str]:
    """File name -> the snapshot text, for every example stack and the example bootstrap stack."""
    texts = {}
    for stack in ("staging", "prod"):
        run = run_program(read_stack_file(FIXTURES / f"Pulumi.{stack}.yaml"))
        texts[f"{stack}.json"] = json.dumps(estate(run), indent=1, sort_keys=True) + "\n"
    org = run_bootstrap(read_stack_file(FIXTURES / "bootstrap" / "Pulumi.org.yaml"))
    texts["bootstrap-org.json"] = json.dumps(estate(org), indent=1, sort_keys=True) + "\n"
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a snapshot is out of date")
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write every snapshot to DIR (created if missing), leaving tests/snapshots/ alone; not with --check",
    )
    args = parser.parse_args(argv)
    if args.out and args.check:
        parser.error("--out writes the snapshots elsewhere and --check writes nothing: give one of them")
    if args.out:
        texts = snapshots()
        args.out.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            (args.out / name).write_text(text)
        print(f"snapshots written to {args.out}: {', '.join(texts)}")
        return 0
    stale = []
    for name, text in snapshots().items():
        path = SNAPSHOTS / name
        if path.exists() and path.read_text() == text:
            continue
        stale.append(name)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run make snapshot and review the diff", file=sys.stderr)
        return 1
    print("snapshots " + ("up to date" if not stale else f"written: {', '.join(stale)}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
