"""Regenerate components/provider_api_calls.json: which Genesys API endpoints each provider resource calls.

The provider documents, per resource and data source, the platform API endpoints its proxies call
(examples/resources/<type>/apis.md and examples/data-sources/<type>/apis.md in
MyPureCloud/terraform-provider-genesyscloud, generated from the proxy sources the file names).
Together with components/api_permissions.json (endpoint -> permissions, from the platform SDK
reference) it gives the permissions the deployer needs, from two vendor sources and no guess:

    python scripts/extract_provider_api_calls.py --mirror <path-to-provider-clone> --commit f955430e
    python scripts/extract_provider_api_calls.py --mirror <path-to-provider-clone> --check

Run it after bumping TERRAFORM_PROVIDER_VERSION in components/provider_binding.py, with --commit
set to that release's commit.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from scripts.extract_provider_schema import HAND_ADDED, USED_RESOURCES  # noqa: E402

REPOSITORY = "MyPureCloud/terraform-provider-genesyscloud"
DEFAULT_COMMIT = "f955430e"
USED_DATA_SOURCES = ("genesyscloud_auth_division", "genesyscloud_auth_role")
DEFAULT_OUTPUT = REPO_ROOT / "components" / "provider_api_calls.json"
LINK_RE = re.compile(r"^\* \[(GET|POST|PUT|PATCH|DELETE) (/api/v2/\S+)\]\(")


def parse_apis_md(text: str, where: str) -> list[str]:
    """`METHOD /path` of every endpoint bullet; anything else but the sources comment is refused."""
    calls, in_comment = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("<!--"):
            in_comment = not stripped.endswith("-->")
            continue
        if in_comment:
            in_comment = not stripped.endswith("-->")
            continue
        if not stripped:
            continue
        match = LINK_RE.match(stripped)
        if not match:
            raise ValueError(f"{where}: unrecognised line {stripped!r}")
        calls.append(f"{match[1]} {match[2]}")
    if not calls:
        raise ValueError(f"{where}: lists no endpoint")
    return sorted(set(calls))


def _git_show(mirror: Path, commit: str, path: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(mirror), "show", f"{commit}:{path}"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ValueError(f"{path} at {commit}: {result.stderr.strip()}")
    return result.stdout


def extract(mirror: Path, commit: str) -> dict:
    full = subprocess.run(
        ["git", "-C", str(mirror), "rev-parse", commit], capture_output=True, text=True, check=True
    ).stdout.strip()
    table: dict[str, dict[str, list[str]]] = {"resources": {}, "dataSources": {}}
    for kind, folder, names in (
        ("resources", "resources", (*USED_RESOURCES, *HAND_ADDED)),
        ("dataSources", "data-sources", USED_DATA_SOURCES),
    ):
        for name in names:
            path = f"examples/{folder}/{name}/apis.md"
            table[kind][name] = parse_apis_md(_git_show(mirror, full, path), path)
    return {
        "source": {
            "repository": REPOSITORY,
            "commit": full,
            "files": "examples/resources/<type>/apis.md, examples/data-sources/<type>/apis.md",
            "regenerate": f"python scripts/extract_provider_api_calls.py --mirror <clone> --commit {commit}",
        },
        **table,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", type=Path, required=True, help="git dir of a terraform-provider-genesyscloud clone")
    parser.add_argument("--commit", default=DEFAULT_COMMIT, help="provider release commit (default: v1.84.1)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the output file would change")
    args = parser.parse_args(argv)
    try:
        text = json.dumps(extract(args.mirror, args.commit), indent=1, sort_keys=True) + "\n"
    except (ValueError, subprocess.CalledProcessError) as error:
        print(f"extract_provider_api_calls: {error}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.read_text() if args.output.exists() else None
        if current != text:
            print(f"{args.output} is out of date with {args.mirror} at {args.commit}")
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
