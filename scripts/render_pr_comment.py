"""Render the body of the one PR comment from the "Pull request" run's artifacts.

The comment holds the estate snapshot changes (the reviewed tests/snapshots/*.json of the base, of the
PR and as the PR's program generates them, shown as unified diffs), the offline plans and the live previews.

pr-comment.yml runs this from the default branch, never from the PR. Everything in the artifacts was
written by the PR's own workflow run, so for a fork it is whatever the fork chose to upload: it is
treated as data. Only the expected files of the expected artifacts are read (regular files, size
capped), their text lands only inside code fences it cannot close, and HTML comments, @mentions and
control characters in it are neutralised. Every line outside a fence (title, headings, statuses,
commit, notes) is written here from values GitHub or this script computed: the commit and run come
from the workflow_run event, a status is an exit code parsed as a number, never copied text; a
snapshot's file name is printed only once it matches run_artifacts.SNAPSHOT_NAME, with counts this
script made.

    python scripts/render_pr_comment.py --artifacts DIR --head-sha SHA --head-repo OWNER/NAME \\
        --base-repo OWNER/NAME --run-url URL --conclusion failure --out comment.md --outputs "$GITHUB_OUTPUT"

The PR number (plan/pr-number) is read only from a `plan` artifact that passed every check (exit 2 when
that artifact was rejected), validated here and written to --outputs as `pr-number=<n>`; the workflow
still checks it names an open PR whose head is the commit this run built before commenting.

The parts live in scripts/pr_comment/ (reading the artifacts, safe markdown, the snapshot section);
this script validates the run's facts and assembles the comment from them.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from pr_comment.run_artifacts import (
    MAX_SMALL_BYTES,
    MAX_TEXT_BYTES,
    STACKS,
    ArtifactError,
    Artifacts,
    Loaded,
    exit_status,
    pr_number,
    scan,
)
from pr_comment.safe_markdown import BODY_BYTES, fenced, neutralise, size
from pr_comment.snapshot_diff import Snapshots, read_snapshots, snapshot_section

MARKER = "<!-- genesys-messaging-plan -->"
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


# A plan or preview file as the comment shows it: read by run_artifacts, made safe by safe_markdown.


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
        'How to read it: the docs/reviewing.md.',
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

    snapshots = read_snapshots(artifacts)
    sections = [
        snapshot_section(snapshots)
        if isinstance(snapshots, Snapshots)
        else f"### Estate snapshot changes\n\n{snapshots}"
    ]
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
