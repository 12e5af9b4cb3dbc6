"""Benchmark `python -m preflight plan`: wall time per stack size, and the ratio to `import pulumi`.

Not a test: a measurement to run by hand and quote in the README (history: docs/performance.md).
It ends with issue 27's targets, each as met or not met with its figures.

    .venv/bin/python scripts/benchmark_plan.py            # 7 runs per case
    .venv/bin/python scripts/benchmark_plan.py --runs 11

Each case runs as a separate process (what a user or CI pays), median of the runs after one warm-up.
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


def median_seconds(command: list[str], runs: int) -> tuple[float, float, float]:
    """(min, median, max) wall seconds of the command over `runs` runs, after one warm-up."""
    subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if result.returncode not in (0, 1):
            sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr.decode()}")
    return min(times), statistics.median(times), max(times)


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

    baseline = median_seconds([sys.executable, "-c", "import pulumi"], args.runs)
    rows = [("import pulumi (baseline)", baseline)]
    plan = [sys.executable, "-m", "preflight", "plan", "--format", "json"]
    rows.append(("plan prod", median_seconds([*plan, "--stack", "prod"], args.runs)))
    floor = [sys.executable, __file__, "--floor-program"]
    sites = sorted(args.sites)
    with tempfile.TemporaryDirectory() as tmp:
        for count in sites:
            path = stack_with_sites(count, Path(tmp))
            rows.append((f"plan {count} sites", median_seconds([*plan, "--config-file", str(path)], args.runs)))
    for count in sites:
        rows.append((f"Pulumi floor {count} sites", median_seconds([*floor, str(count)], args.runs)))
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
