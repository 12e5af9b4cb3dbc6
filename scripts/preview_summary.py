"""The part of a `pulumi preview` that may leave the job: its exit code, its change counts and a link to the log.

`pull-request.yml` publishes the preview in the PR comment through an artifact, and GitHub masks secrets in
job logs, not in artifacts. So the full preview goes to the (masked) log only, and this script writes the
artifact from what it can recognise: the "Resources:" counts Pulumi prints at the end of a preview
(`+ 2 to create`, `~ 1 to update`, `5 unchanged`, ...) and the number of policy violations. Every other line
is dropped, whatever it holds: an allow-list, never a search for secrets.

    pulumi preview ... 2>&1 | tee /dev/stderr | python scripts/preview_summary.py --exit-code N --log-url URL
"""

from __future__ import annotations

import argparse
import re
import sys

COUNT = re.compile(
    r"^\s*(?:[+~-]{1,2}|\+-)?\s*(\d{1,7}) (to create|to update|to delete|to replace|to import|to read|to refresh|"
    r"unchanged|created|updated|deleted|replaced)\s*$"
)
VIOLATION = re.compile(r"^\s*\[(mandatory|advisory|remediate)\]")
LOG_URL = re.compile(r"^https://[A-Za-z0-9.-]+/[A-Za-z0-9._/-]+$")


def summary(lines: list[str], exit_code: int, log_url: str) -> str:
    counts = [f"{m.group(1)} {m.group(2)}" for line in lines if (m := COUNT.match(line))]
    levels: dict[str, int] = {}
    for line in lines:
        if m := VIOLATION.match(line):
            levels[m.group(1)] = levels.get(m.group(1), 0) + 1
    out = [f"exit code: {exit_code} ({'ok' if exit_code == 0 else 'failed'})"]
    out.append("changes: " + (", ".join(counts) if counts else "none reported"))
    if levels:
        out.append("policy violations: " + ", ".join(f"{n} {level}" for level, n in sorted(levels.items())))
    out.append(f"the full preview, with secrets masked: {log_url}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exit-code", type=int, required=True, help="pulumi preview's exit code")
    parser.add_argument("--log-url", required=True, help="the job's log (https), where the full preview is")
    args = parser.parse_args(argv)
    log_url = args.log_url if LOG_URL.match(args.log_url) else "(the job's log)"
    sys.stdout.write(summary(sys.stdin.read().splitlines(), args.exit_code, log_url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
