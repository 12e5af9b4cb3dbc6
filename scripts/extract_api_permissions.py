"""Regenerate components/api_permissions.json from the Genesys platform SDK reference docs.

The permissions each platform API endpoint requires are published in the generated reference of
the vendor's Python SDK (build/docs/<Name>Api.md in MyPureCloud/platform-client-sdk-python). We
read them from there rather than typing them in, so a role or OAuth client can be checked against
the vendor's own statement and the file can be refreshed when the SDK moves on:

    python scripts/extract_api_permissions.py --mirror <path-to-clone>
    python scripts/extract_api_permissions.py --mirror <path-to-clone> --check

--mirror takes any git dir of that repository (bare or a normal clone) and reads the docs at
--commit without needing a work tree. --docs-dir reads a plain directory of *Api.md files instead;
it has no commit to record, so the header's commit is null (use --mirror for the committed file).

Each endpoint section is parsed strictly: a section whose shape is not recognised stops the run
(exit 2) naming the file and section, because a silently skipped endpoint would read as "no
permissions needed" to whoever consults the data.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = "MyPureCloud/platform-client-sdk-python"
DOCS_PATH = "build/docs"
DEFAULT_APIS = (
    "Architect",
    "Authorization",
    "Conversations",
    "ExternalContacts",
    "Integrations",
    "OAuth",
    "Organization",
    "Routing",
    "Tokens",
    "Users",
    "WebDeployments",
)
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "components" / "api_permissions.json"

SECTION_RE = re.compile(r"^## (\S+)\s*$", re.MULTILINE)
WRAPS_RE = re.compile(r"^Wraps (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/api/v2/\S*)\s*$")
REQUIRES_LIST_RE = re.compile(r"^Requires (ANY|ALL) permissions:\s*$")
REQUIRES_NONE_RE = re.compile(r"^Requires no permissions\s*$", re.IGNORECASE)
BULLET_RE = re.compile(r"^\* (\S+)\s*$")
DEPRECATED_RE = re.compile(r'^:::\{"alert":"warning","title":"Deprecated"')
TABLE_ROW_RE = re.compile(r"^\|\[\*\*(\w+)\*\*\]\(#(\w+)\)")


class FormatError(Exception):
    """A doc file or section whose layout the parser does not recognise."""


@dataclass(frozen=True)
class Endpoint:
    key: str  # "METHOD /api/v2/..." exactly as the doc's Wraps line
    entry: dict


def parse_section(name: str, body: str, where: str) -> Endpoint:
    """Parse one "## method_name" section, up to its "### Example" heading.

    Layout (from the generator's template): signature, optional Deprecated alert, description,
    optional "<name> is a preview method" line, "Wraps METHOD /path", then either
    "Requires ANY|ALL permissions:" with a bullet list or "Requires no permissions".
    """
    head, sep, _ = body.partition("\n### Example")
    if not sep:
        raise FormatError(f"{where}: section {name!r} has no '### Example' heading")
    lines = head.splitlines()
    wraps = [i for i, line in enumerate(lines) if line.startswith("Wraps ")]
    if len(wraps) != 1:
        raise FormatError(f"{where}: section {name!r} has {len(wraps)} 'Wraps' lines, expected 1")
    match = WRAPS_RE.match(lines[wraps[0]])
    if not match:
        raise FormatError(f"{where}: section {name!r} has an unrecognised Wraps line: {lines[wraps[0]]!r}")
    key = f"{match.group(1)} {match.group(2)}"

    entry: dict = {}
    mode: str | None = None
    perms: list[str] = []
    # After the Wraps line only the permission statement may appear; anything else means the
    # template changed and the statement might be somewhere we do not look.
    for line in lines[wraps[0] + 1 :]:
        if not line.strip():
            continue
        if mode is None and (m := REQUIRES_LIST_RE.match(line)):
            mode = m.group(1).lower()
        elif mode is None and REQUIRES_NONE_RE.match(line):
            mode = "none"
        elif mode in ("any", "all") and (b := BULLET_RE.match(line)):
            perms.append(b.group(1))
        else:
            raise FormatError(f"{where}: section {name!r} has an unrecognised line after Wraps: {line!r}")
    if mode in ("any", "all"):
        if not perms:
            raise FormatError(f"{where}: section {name!r} says 'Requires {mode.upper()}' but lists no permissions")
        entry[mode] = sorted(set(perms))
    elif mode == "none":
        entry["none"] = True
    else:
        entry["unstated"] = True

    before = lines[: wraps[0]]
    if any(line.startswith("Requires ") for line in before):  # a statement we would otherwise miss
        raise FormatError(f"{where}: section {name!r} states permissions before its Wraps line")
    if any(DEPRECATED_RE.match(line) for line in before):
        entry["deprecated"] = True
    if any(
        line.strip() == f"{name} is a preview method" or line.startswith(f"{name} is a preview method ")
        for line in before
    ):
        entry["preview"] = True
    return Endpoint(key, dict(sorted(entry.items())))


def parse_doc(text: str, where: str) -> list[Endpoint]:
    """Parse a whole <Name>Api.md: every method in its index table must have a parsed section."""
    listed = {m.group(1) for line in text.splitlines() if (m := TABLE_ROW_RE.match(line))}
    matches = list(SECTION_RE.finditer(text))
    endpoints = []
    seen: set[str] = set()
    for i, m in enumerate(matches):
        name = m.group(1)
        if name.startswith("PureCloudPlatformClientV2."):  # the class header, holding the index table
            continue
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        endpoints.append(parse_section(name, text[m.end() : end], where))
        seen.add(name)
    if not seen:
        raise FormatError(f"{where}: no endpoint sections found")
    if listed != seen:
        raise FormatError(
            f"{where}: index table and sections disagree (only in table: {sorted(listed - seen)}, "
            f"only as sections: {sorted(seen - listed)})"
        )
    return endpoints


def merge(per_file: dict[str, list[Endpoint]]) -> dict[str, dict]:
    """Combine files; an endpoint documented in two APIs must say the same thing in both."""
    merged: dict[str, dict] = {}
    origin: dict[str, str] = {}
    for where, endpoints in per_file.items():
        for ep in endpoints:
            if ep.key in merged and merged[ep.key] != ep.entry:
                raise FormatError(f"{where}: {ep.key} disagrees with {origin[ep.key]}: {ep.entry} vs {merged[ep.key]}")
            merged.setdefault(ep.key, ep.entry)
            origin.setdefault(ep.key, where)
    return dict(sorted(merged.items()))


def git(mirror: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(mirror), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise FormatError(f"git {' '.join(args)} failed in {mirror}: {result.stderr.strip()}")
    return result.stdout


def read_mirror(mirror: Path, commit: str, apis: list[str]) -> tuple[dict, dict[str, str]]:
    sha = git(mirror, "rev-parse", "--verify", f"{commit}^{{commit}}").strip()
    # The package version in build/pyproject.toml is what the release is called (the commit
    # subject carries the same number, but the file is the authoritative place).
    version = tomllib.loads(git(mirror, "show", f"{sha}:build/pyproject.toml"))["project"]["version"]
    texts = {f"{DOCS_PATH}/{api}Api.md": git(mirror, "show", f"{sha}:{DOCS_PATH}/{api}Api.md") for api in apis}
    return {"commit": sha, "version": version}, texts


def read_docs_dir(docs_dir: Path, apis: list[str]) -> tuple[dict, dict[str, str]]:
    texts = {}
    for api in apis:
        path = docs_dir / f"{api}Api.md"
        if not path.is_file():
            raise FormatError(f"{path}: not found")
        texts[f"{DOCS_PATH}/{api}Api.md"] = path.read_text(encoding="utf-8")
    # In a normal clone docs_dir is build/docs and the version sits next door.
    pyproject = docs_dir.parent / "pyproject.toml"
    version = tomllib.loads(pyproject.read_text())["project"]["version"] if pyproject.is_file() else None
    return {"commit": None, "version": version}, texts


def build(source: dict, texts: dict[str, str], apis: list[str]) -> dict:
    endpoints = merge({where: parse_doc(text, where) for where, text in texts.items()})
    regenerate = "python scripts/extract_api_permissions.py --mirror <path-to-clone>"
    if sorted(apis) != sorted(DEFAULT_APIS):
        regenerate += "".join(f" --api {api}" for api in apis)
    return {
        "source": {
            "repository": REPOSITORY,
            "commit": source["commit"],
            "version": source["version"],
            "files": sorted(texts),
            "regenerate": regenerate,
        },
        "endpoints": endpoints,
    }


def render(data: dict) -> str:
    # Header first for the reader; everything below it is sorted so regeneration diffs cleanly.
    # Indented (~135 KB for the default APIs) because it stays reviewable at that size.
    return json.dumps(data, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--mirror", type=Path, help="git dir (bare or clone) of platform-client-sdk-python")
    where.add_argument("--docs-dir", type=Path, help="plain directory holding the <Name>Api.md files")
    parser.add_argument("--commit", default="HEAD", help="commit to read with --mirror (default: HEAD)")
    parser.add_argument(
        "--api",
        action="append",
        metavar="NAME",
        help=f"API doc to include, repeatable (default: {', '.join(DEFAULT_APIS)})",
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="file to write (default: components/api_permissions.json)"
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the output would change")
    args = parser.parse_args(argv)
    apis = sorted(set(args.api or DEFAULT_APIS))

    try:
        if args.mirror:
            source, texts = read_mirror(args.mirror, args.commit, apis)
        else:
            source, texts = read_docs_dir(args.docs_dir, apis)
        data = build(source, texts, apis)
    except FormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    text = render(data)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
        if current == text:
            print(f"{args.output} is up to date ({len(data['endpoints'])} endpoints)")
            return 0
        reason = "does not exist" if current is None else "differs from what the docs give"
        print(f"{args.output} {reason}; rerun without --check to regenerate")
        return 1
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(data['endpoints'])} endpoints from {len(texts)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
