"""Benchmark `python -m preflight migrate contacts`: rows per second and peak memory, plan and apply.

Not a test: a measurement to run by hand and quote in docs/migration.md.

    .venv/bin/python scripts/benchmark_migrate.py                    # 100,000 ids, then 1,000 for the baseline
    .venv/bin/python scripts/benchmark_migrate.py --rows 20000 --rate 500

The fake External Contacts API (tests/fake_external_contacts.py) runs in this process; the importer runs as a
separate process, as a team runs it, so its peak resident memory (ru_maxrss of the child) is its own. Each size
runs a dry run and then the apply into an empty fake org. Issue 26's targets: memory flat (under 200 MB
whatever the row count) and throughput bounded by the configured rate (--rate), not by the tool: the report
shows requests per second beside the rate asked for.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import fake_external_contacts as fec  # noqa: E402 (the fake lives with the tests)

MEMORY_TARGET_MB = 200
CREDENTIAL_VARS = ("IMPORTER_CLIENT_ID", "IMPORTER_CLIENT_SECRET")
"""preflight/migrate.py CLIENT_ID_VAR, CLIENT_SECRET_VAR."""


def _run(url: str, ids: Path, journal: Path, rate: float, concurrency: int, *extra: str) -> tuple[float, float, int]:
    env = {
        **os.environ,
        CREDENTIAL_VARS[0]: fec.CLIENT_ID,
        CREDENTIAL_VARS[1]: fec.CLIENT_SECRET,
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "preflight",
        "migrate",
        "contacts",
        "--stack",
        "prod",
        "--ids",
        str(ids),
        "--api-url",
        url,
        "--login-url",
        url,
        "--journal",
        str(journal),
        "--rate",
        str(rate),
        "--concurrency",
        str(concurrency),
        *extra,
    ]
    # RUSAGE_CHILDREN is the largest of all children a process ever waited for, so each run goes through a fresh
    # wrapper process that reports the peak of its one child (Linux: ru_maxrss in KiB).
    wrapper = (
        "import resource, subprocess, sys, time; t = time.monotonic(); "
        "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL); "
        "print(time.monotonic() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *command], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    seconds, peak_kib, code = out.stdout.split()
    return float(seconds), int(peak_kib) / 1024, int(code)


def measure(rows: int, rate: float, concurrency: int) -> dict[str, float]:
    fake = fec.FakeContacts()
    source = fake.add_source("CRM")
    with tempfile.TemporaryDirectory() as tmp, fec.serve(fake) as url:
        ids = Path(tmp) / "ids.csv"
        with ids.open("w", encoding="utf-8") as handle:
            handle.write("id,first_name,last_name,email\n")
            for n in range(rows):
                handle.write(f"bench-{n:09d},Given{n},Family{n},user{n}@example.com\n")
        journal = Path(tmp) / "bench.sqlite"
        plan_s, plan_mb, plan_code = _run(url, ids, journal, rate, concurrency)
        lookups = fake.lookups
        apply_s, apply_mb, apply_code = _run(url, ids, journal, rate, concurrency, "--apply")
        written = len(fake.subs(source))
    if plan_code or apply_code or written != rows:
        raise SystemExit(f"benchmark run failed: exit {plan_code}/{apply_code}, {written} of {rows} written")
    return {
        "rows": rows,
        "plan_s": plan_s,
        "plan_rows_s": rows / plan_s,
        "plan_req_s": lookups / plan_s,
        "plan_mb": plan_mb,
        "apply_s": apply_s,
        "apply_rows_s": rows / apply_s,
        "apply_req_s": fake.enrich_requests / apply_s,
        "apply_mb": apply_mb,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=1_000)
    parser.add_argument("--rate", type=float, default=400.0, help="the importer's --rate (requests per second)")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(
        f"rate {args.rate:g} requests/s, concurrency {args.concurrency}; each row: 2 lookups (id, email) to plan, "
        "a tenth of a bulk request to apply"
    )
    print(
        f"{'rows':>9} {'plan s':>8} {'rows/s':>8} {'req/s':>7} {'MB':>6} | {'apply s':>8} {'rows/s':>8} "
        f"{'req/s':>7} {'MB':>6}"
    )
    results = [measure(n, args.rate, args.concurrency) for n in (args.baseline_rows, args.rows)]
    for r in results:
        print(
            f"{r['rows']:>9,} {r['plan_s']:>8.1f} {r['plan_rows_s']:>8.0f} {r['plan_req_s']:>7.0f} "
            f"{r['plan_mb']:>6.0f} | {r['apply_s']:>8.1f} {r['apply_rows_s']:>8.0f} {r['apply_req_s']:>7.0f} "
            f"{r['apply_mb']:>6.0f}"
        )
    peak = max(max(r["plan_mb"], r["apply_mb"]) for r in results)
    growth = max(results[-1]["plan_mb"], results[-1]["apply_mb"]) - max(results[0]["plan_mb"], results[0]["apply_mb"])
    print(
        f"peak memory {peak:.0f} MB (target under {MEMORY_TARGET_MB} MB); growth from "
        f"{results[0]['rows']:,} to {results[-1]['rows']:,} rows: {growth:+.0f} MB"
    )
    return 0 if peak < MEMORY_TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
