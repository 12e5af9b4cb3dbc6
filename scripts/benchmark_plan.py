"""Benchmark `python -m preflight plan`: wall time per stack size, and the ratio to `import pulumi`.

Not a test: a measurement to run by hand and quote in the README (history: docs/performance.md).
It ends with issue 27's targets, each as met or not met with its figures.

    .venv/bin/python scripts/benchmark_plan.py            # 7 runs per case
    .venv/bin/python scripts/benchmark_plan.py --runs 11

Each case runs as a separate process (what a user or CI pays), median of the runs after one warm-up;
the runs go round the cases in turn, so a passing load on a shared machine weighs on each alike.
The baseline is a bare `python -c "import pulumi"` on the same machine in the same run, so the ratio
holds across machines of different speed. Generated stacks copy prod and replace its sites.

The per-site cost is the slope between the two largest site counts. Beside it, the "Pulumi floor"
runs a program of the same shape through the same in-process harness (preflight/inprocess.py): per
site one ComponentResource and three CustomResources with a few plain inputs and no settings, flow,
policy or output. It is what Pulumi's own registration costs under the mocks, which no change to this
project's code can go below.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
NS = "genesys-messaging"
PROD_LIMIT = 1.5
"""Issue 27: plan prod at most 1.5x `import pulumi`."""
FLOOR_LIMIT = 1.3
"""Issue 27: plan at each site count, and the cost of a site, at most 1.3x the Pulumi floor's."""


def stack_with_sites(count: int, directory: Path) -> Path:
    """prod's stack file with `count` generated sites."""
    document = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    document["config"][f"{NS}:sites"] = {
        f"site{i}": {"domains": [f"site{i}.example.com"], "languages": ["en-us"], "defaultLanguage": "en-us"}
        for i in range(count)
    }
    path = directory / f"Pulumi.bench{count}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


# As a user's Python runs: with bytecode cached by the warm-up. A shell with PYTHONDONTWRITEBYTECODE
# set would otherwise compile the project's modules from source in every run (about 60 ms of plan prod).
_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, check=False, env=_ENV)
    if result.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr.decode()}")
    return time.perf_counter() - start


def measure(cases: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float, float]]:
    """(min, median, max) wall seconds of each command, after one warm-up each.

    Round by round, each case once a round: a load that comes and goes on a shared machine then
    weighs on every case alike, so the ratios hold better than the seconds."""
    for command in cases.values():
        _timed(command)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, command in cases.items():
            times[name].append(_timed(command))
    return {name: (min(t), statistics.median(t), max(t)) for name, t in times.items()}


def floor_program(sites: int) -> None:
    """Run the Pulumi-floor program in this process (see the module docstring)."""
    sys.path.insert(0, str(ROOT))
    import pulumi

    from components.stack_file import StackConfig
    from preflight.inprocess import _run

    class Thing(pulumi.CustomResource):
        def __init__(self, name: str, parent: pulumi.Resource) -> None:
            inputs = {"name": name, "description": "x" * 40, "domains": [f"{name}.example.com"], "on": True}
            super().__init__("bench:index:Thing", name, inputs, pulumi.ResourceOptions(parent=parent))

    class Site(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("bench:index:Site", name)
            for part in ("configuration", "deployment", "resolution"):
                Thing(f"{name}-{part}", self)
            self.register_outputs({})

    def program(_settings: object) -> dict:
        for i in range(sites):
            Site(f"site{i}")
        return {}

    _run(StackConfig(stack="bench", source="bench", config={}, secret_keys=frozenset()), "bench", lambda: None, program)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sites", type=int, nargs="*", default=[50, 200])
    parser.add_argument("--floor-program", type=int, metavar="SITES", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_program is not None:
        floor_program(args.floor_program)
        return

    plan = [sys.executable, "-m", "preflight", "plan", "--format", "json"]
    floor = [sys.executable, __file__, "--floor-program"]
    sites = sorted(args.sites)
    with tempfile.TemporaryDirectory() as tmp:
        cases = {
            "import pulumi (baseline)": [sys.executable, "-c", "import pulumi"],
            "plan prod": [*plan, "--stack", "prod"],
        }
        for count in sites:
            cases[f"plan {count} sites"] = [*plan, "--config-file", str(stack_with_sites(count, Path(tmp)))]
        for count in sites:
            cases[f"Pulumi floor {count} sites"] = [*floor, str(count)]
        rows = list(measure(cases, args.runs).items())
    baseline = rows[0][1]
    medians = {name: mid for name, (_, mid, _) in rows}

    def per_site(prefix: str) -> float:
        low, high = sites[0], sites[-1]
        return 1000 * (medians[f"{prefix} {high} sites"] - medians[f"{prefix} {low} sites"]) / (high - low)

    print(f"{'case':28} {'min s':>7} {'median s':>9} {'max s':>7} {'x import pulumi':>16}")
    for name, (low, mid, high) in rows:
        print(f"{name:28} {low:7.2f} {mid:9.2f} {high:7.2f} {mid / baseline[1]:16.1f}")
    figures = {"ms per site": per_site("plan"), "Pulumi floor ms per site": per_site("Pulumi floor")}
    print(f"ms per site {figures['ms per site']:.1f} (Pulumi floor {figures['Pulumi floor ms per site']:.1f})")
    targets = [(f"plan prod <= {PROD_LIMIT}x import pulumi", medians["plan prod"], baseline[1], PROD_LIMIT)]
    targets += [
        (
            f"plan {n} sites <= {FLOOR_LIMIT}x the floor",
            medians[f"plan {n} sites"],
            medians[f"Pulumi floor {n} sites"],
            FLOOR_LIMIT,
        )
        for n in sites
    ]
    if len(sites) > 1:
        floor_site = figures["Pulumi floor ms per site"]
        targets.append((f"a site <= {FLOOR_LIMIT}x the floor's", figures["ms per site"], floor_site, FLOOR_LIMIT))
    for name, value, reference, limit in targets:
        ratio = value / reference
        verdict = "met" if ratio <= limit else "NOT met"
        print(f"target {name}: {value:.3f} / {reference:.3f} = {ratio:.2f}x, {verdict}")
    print(json.dumps({**{n: round(m, 3) for n, m in medians.items()}, **{n: round(v, 2) for n, v in figures.items()}}))


if __name__ == "__main__":
    main()
