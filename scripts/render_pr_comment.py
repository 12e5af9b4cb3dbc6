"""Render the body of the one PR comment from the "Pull request" run's artifacts.

pr-comment.yml runs this from the default branch, never from the PR. Everything in the artifacts was
written by the PR's own workflow run, so for a fork it is whatever the fork chose to upload: it is
treated as data. Only the expected files of the expected artifacts are read (regular files, size
capped), their text lands only inside code fences it cannot close, and HTML comments, @mentions and
control characters in it are neutralised. Every line outside a fence (title, headings, statuses,
commit, notes) is written here from values GitHub or this script computed: the commit and run come
from the workflow_run event, a status is an exit code parsed as a number, never copied text.

    python scripts/render_pr_comment.py --artifacts DIR --head-sha SHA --head-repo OWNER/NAME \\
        --base-repo OWNER/NAME --run-url URL --conclusion failure --out comment.md --outputs "$GITHUB_OUTPUT"

The PR number (plan/pr-number) is validated here and written to --outputs as `pr-number=<n>`; the
workflow still checks it names an open PR whose head is the commit this run built before commenting.
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

MARKER = "<!-- genesys-messaging-plan -->"
STACKS = ("staging", "prod")
# What pull-request.yml uploads, by artifact name; anything else in an artifact rejects that artifact.
EXPECTED = {
    "plan": frozenset(
        {"pr-number", *(f"plan-{s}.md" for s in STACKS), *(f"plan-{s}.exit" for s in STACKS)},
    ),
    **{f"preview-{s}": frozenset({f"preview-{s}.txt", f"preview-{s}.exit"}) for s in STACKS},
}
MAX_TEXT_BYTES = 2 * 1024 * 1024  # a larger plan or preview is refused, not read
MAX_SMALL_BYTES = 32  # pr-number and exit-code files
SECTION_BYTES = 13_000  # per fenced block; 4 of them plus headings stay under BODY_BYTES
BODY_BYTES = 60_000  # GitHub rejects comment bodies over 65536 characters; bytes >= characters
CONCLUSIONS = frozenset(
    {
        "success",
        "failure",
        "neutral",
        "cancelled",
        "skipped",
        "timed_out",
        "action_required",
        "startup_failure",
        "stale",
    }
)
SHA = re.compile(r"[0-9a-f]{40}")
REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
RUN_URL = re.compile(r"https://[A-Za-z0-9.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/actions/runs/\d+(/attempts/\d+)?")
PR_NUMBER = re.compile(r"[1-9][0-9]{0,9}")
EXIT_CODE = re.compile(r"[0-9]{1,3}")

ZWJ = "\u200d"
# C0/C1 controls except tab and newline, and the bidi overrides and isolates that can make text read
# differently from what it is ("Trojan Source").
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MENTION = re.compile(r"@(?=[A-Za-z0-9])")
BACKTICKS = re.compile(r"`+")


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


def scan(root: Path) -> Artifacts:
    """Which expected artifacts are present, which hold anything beyond their expected files."""
    present: set[str] = set()
    rejected: dict[str, int] = {}
    stray = 0
    entries = sorted(os.scandir(root), key=lambda e: e.name) if root.is_dir() else []
    for entry in entries:
        if entry.name not in EXPECTED or not entry.is_dir(follow_symlinks=False):
            stray += 1
            continue
        inside = list(os.scandir(entry.path))
        unexpected = [e for e in inside if e.name not in EXPECTED[entry.name] or not e.is_file(follow_symlinks=False)]
        if unexpected:
            rejected[entry.name] = len(unexpected)
        else:
            present.add(entry.name)
    return Artifacts(root, frozenset(present), rejected, stray)


def pr_number(artifacts: Artifacts) -> int | None:
    """The PR number the plan artifact names; None when there is none; ArtifactError when malformed."""
    loaded = read_capped(artifacts.root / "plan" / "pr-number", MAX_SMALL_BYTES)
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


def neutralise(text: str) -> str:
    """Untrusted text made inert: one kind of line ending, no controls, no HTML comment, no @mention."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = CONTROLS.sub("\ufffd", text)
    text = text.replace("<!--", f"<!{ZWJ}--")
    return MENTION.sub(f"@{ZWJ}", text)


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run in `text`, so no line of it can close the fence."""
    longest = max((len(run) for run in BACKTICKS.findall(text)), default=0)
    return "`" * max(3, longest + 1)


def fenced(text: str, info: str, budget: int = SECTION_BYTES) -> str:
    """`text` in a code block of at most `budget` bytes, clipped (with a trusted note) to fit."""
    text = text.rstrip("\n")
    original = len(text)
    while True:
        fence = fence_for(text)
        excess = size(text) + 2 * len(fence) + len(info) + 2 - budget
        if excess <= 0 or not text:
            break
        text = text[: max(0, len(text) - excess)]
    block = f"{fence}{info}\n{text}\n{fence}"
    if len(text) < original:
        block += (
            f"\n\n_Truncated: the first {len(text)} of {original} characters are shown; "
            "the full text is in the run's artifacts._"
        )
    return block


def untrusted_block(loaded: Loaded, info: str) -> str | None:
    """The file's text inside a fence (with a trusted note if it was not UTF-8); None if not readable."""
    if loaded.data is None:
        return None
    try:
        text, note = loaded.data.decode("utf-8"), ""
    except UnicodeDecodeError:
        text = loaded.data.decode("utf-8", errors="replace")
        note = "\n\n_The file is not valid UTF-8; undecodable bytes are shown as \ufffd._"
    return fenced(neutralise(text), info) + note


def not_shown(loaded: Loaded, missing: str) -> str:
    """Why a file is not shown, in this script's words."""
    return f"_Not shown: {loaded.problem}. See the run's artifacts._" if loaded.problem else missing


@dataclass(frozen=True)
class Run:
    """Trusted facts about the run, from the workflow_run event (validated, so safe to print)."""

    head_sha: str
    head_repo: str
    base_repo: str
    run_url: str
    conclusion: str

    def __post_init__(self) -> None:
        if not SHA.fullmatch(self.head_sha):
            raise ValueError(f"--head-sha is not a commit: {self.head_sha[:50]!r}")
        if not REPO.fullmatch(self.base_repo):
            raise ValueError(f"--base-repo is not owner/name: {self.base_repo[:100]!r}")
        if self.head_repo and not REPO.fullmatch(self.head_repo):
            raise ValueError(f"--head-repo is not owner/name: {self.head_repo[:100]!r}")
        if not RUN_URL.fullmatch(self.run_url):
            raise ValueError(f"--run-url is not a workflow run URL: {self.run_url[:200]!r}")

    @property
    def from_fork(self) -> bool:
        return self.head_repo != self.base_repo


def render(artifacts: Artifacts, run: Run) -> str:
    """The whole comment body: the marker, then trusted headings around fenced untrusted text."""
    conclusion = run.conclusion if run.conclusion in CONCLUSIONS else "unknown"
    header = [
        MARKER,
        f"## genesys-messaging plan for {run.head_sha[:7]}",
        "",
        f"Updated on every push ([this run]({run.run_url}), conclusion: {conclusion}). "
        'How to read it: the README, "For reviewers".',
    ]
    if run.from_fork:
        source = f"the fork `{run.head_repo}`" if run.head_repo else "a fork"
        header += [
            "",
            f"This pull request comes from {source}. Its run used the pull request's own workflow files, "
            "so the plans and statuses below are what that run reported; live previews never run for forks.",
        ]
    for artifact, count in sorted(artifacts.rejected.items()):
        header += ["", f"The `{artifact}` artifact was not read: it held unexpected entries ({count})."]
    if artifacts.stray:
        header += ["", f"Unexpected entries beside the expected artifacts were ignored: {artifacts.stray}."]

    sections = []
    for stack in STACKS:
        plan = artifacts.file("plan", f"plan-{stack}.md", MAX_TEXT_BYTES)
        code = artifacts.file("plan", f"plan-{stack}.exit", MAX_SMALL_BYTES)
        body = untrusted_block(plan, "markdown") or not_shown(plan, "_No plan was produced; see the run._")
        sections.append(f"### Offline plan: `{stack}` ({exit_status(code)})\n\n{body}")
    for stack in STACKS:
        name = f"preview-{stack}"
        if run.from_fork:
            status = "not run"
            body = "_Not run: live previews need the repository's secrets, which PRs from forks never get._"
        else:
            status = exit_status(artifacts.file(name, f"{name}.exit", MAX_SMALL_BYTES))
            preview = artifacts.file(name, f"{name}.txt", MAX_TEXT_BYTES)
            block = untrusted_block(preview, "text")
            body = (
                f"<details><summary>pulumi preview --diff --policy-pack policy</summary>\n\n{block}\n\n</details>"
                if block is not None
                else not_shown(preview, "_No preview artifact: the preview job uploaded none; see the run._")
            )
        sections.append(f"### Live preview: `{stack}` ({status})\n\n{body}")

    text = "\n\n".join(["\n".join(header), *sections]) + "\n"
    if size(text) > BODY_BYTES:  # cannot happen with the budgets above; never post a clipped fence
        raise AssertionError(f"rendered comment is {size(text)} bytes, over {BODY_BYTES}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifacts", type=Path, required=True, help="where the run's artifacts were downloaded")
    parser.add_argument("--head-sha", required=True, help="workflow_run.head_sha")
    parser.add_argument("--head-repo", required=True, help="workflow_run.head_repository.full_name (empty if gone)")
    parser.add_argument("--base-repo", required=True, help="this repository, owner/name")
    parser.add_argument("--run-url", required=True, help="workflow_run.html_url")
    parser.add_argument("--conclusion", default="", help="workflow_run.conclusion")
    parser.add_argument("--out", type=Path, required=True, help="file to write the comment body to")
    parser.add_argument("--outputs", type=Path, help="file to append `pr-number=<n>` to ($GITHUB_OUTPUT)")
    args = parser.parse_args(argv)
    try:
        run = Run(args.head_sha, args.head_repo, args.base_repo, args.run_url, args.conclusion)
        artifacts = scan(args.artifacts)
        number = pr_number(artifacts)
    except (ValueError, ArtifactError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.out.write_text(render(artifacts, run), encoding="utf-8")
    if number is None:
        print("the run uploaded no PR number: nothing to comment", file=sys.stderr)
    elif args.outputs:
        with args.outputs.open("a", encoding="utf-8") as outputs:
            outputs.write(f"pr-number={number}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
