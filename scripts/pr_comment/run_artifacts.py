"""The "Pull request" run's artifacts, read as untrusted data: only the expected files, size capped.

Everything in them was written by the PR's own run, so for a fork it is whatever the fork chose to
upload. An artifact holding anything beyond its expected files is not read at all; a file is read
only when it is a regular file within its cap; a PR number or exit code is parsed, never copied.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

STACKS = ("staging", "prod")
# A snapshot file name as tests/snapshots/ holds it (staging.json); safe to print outside a fence.
SNAPSHOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,59}\.json")
# What pull-request.yml uploads, by artifact name; anything else in an artifact rejects that artifact.
# `snapshots`: base-<name> (the PR's base), head-<name> (committed in the PR), fresh-<name> (what the
# PR's program generates), base.exit (written once the base was read) and fresh.exit (the generator's).
EXPECTED: dict[str, frozenset[str] | re.Pattern[str]] = {
    "plan": frozenset(
        {"pr-number", *(f"plan-{s}.md" for s in STACKS), *(f"plan-{s}.exit" for s in STACKS)},
    ),
    **{f"preview-{s}": frozenset({f"preview-{s}.txt", f"preview-{s}.exit"}) for s in STACKS},
    "snapshots": re.compile(rf"(?:base|fresh)\.exit|(?:base|head|fresh)-{SNAPSHOT_NAME.pattern}"),
}
MAX_TEXT_BYTES = 2 * 1024 * 1024  # a larger plan or preview is refused, not read
MAX_SNAPSHOT_BYTES = 1024 * 1024  # a snapshot is ~25 kB; a larger one is refused, not read
MAX_SMALL_BYTES = 32  # pr-number and exit-code files
PR_NUMBER = re.compile(r"[1-9][0-9]{0,9}")
EXIT_CODE = re.compile(r"[0-9]{1,3}")


class ArtifactError(ValueError):
    """The artifacts cannot be trusted enough to comment at all (an invalid PR number)."""


@dataclass(frozen=True)
class Loaded:
    """One artifact file: its bytes, or why they are not shown (trusted wording, never the file's)."""

    data: bytes | None
    problem: str | None = None


@dataclass(frozen=True)
class Artifacts:
    """The readable files of the expected artifacts; rejected artifacts and stray entries noted."""

    root: Path
    present: frozenset[str]
    rejected: dict[str, int]
    stray: int
    names: dict[str, frozenset[str]]  # the files of each present artifact

    def file(self, artifact: str, name: str, cap: int) -> Loaded:
        if artifact in self.rejected:
            count = self.rejected[artifact]
            return Loaded(None, f"the `{artifact}` artifact held unexpected entries ({count})")
        if artifact not in self.present:
            return Loaded(None)
        return read_capped(self.root / artifact / name, cap)


def read_capped(path: Path, cap: int) -> Loaded:
    """A regular file's bytes, at most `cap` of them; symlinks, directories and larger files refused."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return Loaded(None)
    if not stat.S_ISREG(info.st_mode):
        return Loaded(None, "not a regular file")
    if info.st_size > cap:
        return Loaded(None, f"too large ({info.st_size} bytes; the limit is {cap})")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(cap + 1)
    if len(data) > cap:
        return Loaded(None, f"too large (over {cap} bytes)")
    return Loaded(data)


def allowed(artifact: str, name: str) -> bool:
    """Whether `name` is one of the files `artifact` is expected to hold."""
    rule = EXPECTED[artifact]
    return rule.fullmatch(name) is not None if isinstance(rule, re.Pattern) else name in rule


def scan(root: Path) -> Artifacts:
    """Which expected artifacts are present, which hold anything beyond their expected files."""
    present: set[str] = set()
    rejected: dict[str, int] = {}
    names: dict[str, frozenset[str]] = {}
    stray = 0
    entries = sorted(os.scandir(root), key=lambda e: e.name) if root.is_dir() else []
    for entry in entries:
        if entry.name not in EXPECTED or not entry.is_dir(follow_symlinks=False):
            stray += 1
            continue
        inside = list(os.scandir(entry.path))
        unexpected = [e for e in inside if not allowed(entry.name, e.name) or not e.is_file(follow_symlinks=False)]
        if unexpected:
            rejected[entry.name] = len(unexpected)
        else:
            present.add(entry.name)
            names[entry.name] = frozenset(e.name for e in inside)
    return Artifacts(root, frozenset(present), rejected, stray, names)


def pr_number(artifacts: Artifacts) -> int | None:
    """The PR number the plan artifact names; None when there is none; ArtifactError when malformed.

    Read only from a `plan` artifact that passed every check of scan() (no unexpected entry, no symlink, a
    directory of its own): a number beside a planted file or link would address the comment for whoever
    planted it.
    """
    if "plan" in artifacts.rejected:
        count = artifacts.rejected["plan"]
        raise ArtifactError(f"the plan artifact held unexpected entries ({count}): its PR number is not read")
    loaded = artifacts.file("plan", "pr-number", MAX_SMALL_BYTES)
    if loaded.data is None:
        if loaded.problem:
            raise ArtifactError(f"plan/pr-number is {loaded.problem}")
        return None
    text = loaded.data.decode("ascii", errors="replace").strip()
    if not PR_NUMBER.fullmatch(text):
        raise ArtifactError(f"plan/pr-number is not a PR number: {text[:20]!r}")
    return int(text)


def exit_status(loaded: Loaded) -> str:
    """`clean`, `exit N`, or why there is no status: a number parsed from the file, never its text."""
    if loaded.data is None:
        return "refused" if loaded.problem else "no result"
    text = loaded.data.decode("ascii", errors="replace").strip()
    if not EXIT_CODE.fullmatch(text) or int(text) > 255:
        return "unreadable result"
    return "clean" if int(text) == 0 else f"exit {int(text)}"
