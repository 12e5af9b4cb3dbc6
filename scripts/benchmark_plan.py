"""Benchmark `python -m preflight plan`: wall time per stack size, and the ratio to `import pulumi`.

Not a test: a measurement to run by hand and quote in the README.

    .venv/bin/python scripts/benchmark_plan.py            # 7 runs per case
    .venv/bin/python scripts/benchmark_plan.py --runs 11

Each case runs the plan as a separate process (what a user or CI pays), median of the runs after
one warm-up. The baseline is a bare `python -c "import pulumi"` on the same machine, so the ratio
holds across machines of different speed. Generated stacks copy prod and replace its sites.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sites", type=int, nargs="*", default=[10, 25, 50])
    args = parser.parse_args()

    baseline = median_seconds([sys.executable, "-c", "import pulumi"], args.runs)
    rows = [("import pulumi (baseline)", baseline)]
    plan = [sys.executable, "-m", "preflight", "plan", "--format", "json"]
    rows.append(("plan prod (2 sites)", median_seconds([*plan, "--stack", "prod"], args.runs)))
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.sites:
            path = stack_with_sites(count, Path(tmp))
            rows.append((f"plan {count} sites", median_seconds([*plan, "--config-file", str(path)], args.runs)))

    print(f"{'case':28} {'min s':>7} {'median s':>9} {'max s':>7} {'x import pulumi':>16}")
    for name, (low, mid, high) in rows:
        print(f"{name:28} {low:7.2f} {mid:9.2f} {high:7.2f} {mid / baseline[1]:16.1f}")
    print(json.dumps({name: round(mid, 3) for name, (_, mid, _) in rows}))


if __name__ == "__main__":
    main()
