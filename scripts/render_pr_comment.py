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
snapshot's file name is printed only once it matches SNAPSHOT_NAME, with counts this script made.

    python scripts/render_pr_comment.py --artifacts DIR --head-sha SHA --head-repo OWNER/NAME \\
        --base-repo OWNER/NAME --run-url URL --conclusion failure --out comment.md --outputs "$GITHUB_OUTPUT"

The PR number (plan/pr-number) is validated here and written to --outputs as `pr-number=<n>`; the
workflow still checks it names an open PR whose head is the commit this run built before commenting.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

MARKER = "<!-- genesys-messaging-plan -->"
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
MAX_SNAPSHOT_FILES = 8  # distinct snapshot names; more and none is diffed (each needs room in the budget)
MAX_SMALL_BYTES = 32  # pr-number and exit-code files
SECTION_BYTES = 10_000  # per fenced plan or preview block: 4 of them, with headings and notes, < 42,000
SNAPSHOT_BYTES = 15_000  # the whole snapshot section, every note and diff included
BODY_BYTES = 60_000  # GitHub rejects comment bodies over 65536 characters; bytes >= characters
DIFF_LINES = 150  # per snapshot diff block; the rest is counted ("N more lines")
DIFF_LINE_CHARS = 300  # a longer diff line is clipped (a long value must not eat the block)
DIFF_CONTEXT = 3  # unchanged lines around each change, as git diff
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
    while True:  # twice at most: clipping can only shorten the fence
        fence = fence_for(text)
        room = max(0, budget - 2 * len(fence) - len(info) - 2)
        if size(text) <= room:
            break
        # By bytes, not characters (a multi-byte text would be cut to nothing), whole characters kept.
        text = text.encode("utf-8")[:room].decode("utf-8", errors="ignore")
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


# --- estate snapshot diffs ------------------------------------------------------------------------------
# The snapshot texts come from the PR's run like everything else: the diff lines go inside a fence they
# cannot close; only counts and validated file names are printed outside one.

TOP_KEY = re.compile(r' "((?:[^"\\]|\\.)*)": ')  # a top-level key line of json.dumps(indent=1)


@dataclass(frozen=True)
class Snapshots:
    """One run's snapshot texts by file name: the base's (None: not read), the PR's, the generated ones."""

    base: dict[str, str] | None
    head: dict[str, str]
    fresh: dict[str, str]
    fresh_status: str  # exit_status() of the generator: only `clean` makes `fresh` the program's word

    def __post_init__(self) -> None:
        for name in self.names:
            if not SNAPSHOT_NAME.fullmatch(name):
                raise ValueError(f"not a snapshot file name: {name[:80]!r}")

    @property
    def names(self) -> set[str]:
        return {*(self.base or {}), *self.head, *self.fresh}


def resource_label(resource: object) -> str:
    """`<type> <logical name>` of a snapshot resource, as far as it says (untrusted: shown in a fence only)."""
    if not isinstance(resource, dict):
        return "?"
    urn, kind = resource.get("urn"), resource.get("type")
    name = urn.rsplit("::", 1)[-1] if isinstance(urn, str) else "?"
    label = f"{kind if isinstance(kind, str) else '?'} {name}"
    return re.sub(r"\s+", " ", label)[:160]


def line_owners(text: str) -> list[str]:
    """Per line of a snapshot, the resource (type and logical name) or top-level key it belongs to.

    Only for the snapshot format itself (`json.dumps(..., indent=1, sort_keys=True)`), where a
    resource's lines are exactly its own dump; for any other text, [] (the diff goes unlabelled).
    """
    try:
        data = json.loads(text)
        if json.dumps(data, indent=1, sort_keys=True) + "\n" != text:
            return []
    except (ValueError, RecursionError):
        return []
    resources = data.get("resources") if isinstance(data, dict) else None
    lines = text.split("\n")
    owners, key = [], ""
    for line in lines:
        match = TOP_KEY.match(line)
        key = match.group(1) if match else key
        owners.append(key if match or line.startswith("  ") else "")
    if isinstance(resources, list) and resources:
        start = lines.index(' "resources": [') + 1  # present: the text is this data's own dump
        for resource in resources:
            count = json.dumps(resource, indent=1, sort_keys=True).count("\n") + 1
            owners[start : start + count] = [resource_label(resource)] * count
            start += count
    return owners


def unified_diff(old: str | None, new: str | None, old_label: str, new_label: str) -> list[str]:
    """A unified diff (as `git diff`), each hunk header naming the resources its changed lines belong to.

    Texts are made inert first (see neutralise); None is an absent file. Hunk headers end like
    `@@ -40,7 +40,7 @@ genesyscloud:index/routingQueue:RoutingQueue queue` where the snapshot is in
    its own format, as git names the enclosing function.
    """
    sides = []
    for text in (old, new):
        lines = neutralise(text or "").split("\n")
        if lines[-1] == "":
            lines.pop()
        sides.append((lines, line_owners(text) if text else []))
    (a, a_owner), (b, b_owner) = sides
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=len(a) + len(b) > 20_000)
    out = []
    for group in matcher.get_grouped_opcodes(DIFF_CONTEXT):
        if not out:
            out += [
                f"--- {old_label if old is not None else '/dev/null'}",
                f"+++ {new_label if new is not None else '/dev/null'}",
            ]
        body, owners = [], []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                body += [f" {line}" for line in a[i1:i2]]
                continue
            body += [f"-{line}" for line in a[i1:i2]] + [f"+{line}" for line in b[j1:j2]]
            # A lone brace is shared by neighbours (`},` then `{`): it names no resource.
            owners += [o for line, o in zip(a[i1:i2], a_owner[i1:i2], strict=False) if line.strip(" {}[],")]
            owners += [o for line, o in zip(b[j1:j2], b_owner[j1:j2], strict=False) if line.strip(" {}[],")]
        named = [o for o in dict.fromkeys(owners) if o]
        where = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
        ranges = f"-{hunk_range(group[0][1], group[-1][2])} +{hunk_range(group[0][3], group[-1][4])}"
        out += [neutralise(f"@@ {ranges} @@ {where}".rstrip()), *body]
    return out


def hunk_range(start: int, stop: int) -> str:
    """A hunk's line range as unified diffs write it (difflib's rule: `n` for one line, `n-1,0` for none)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def estate_change(old: str | None, new: str | None) -> str:
    """What changed between two snapshots, counted: `1 resource changed, 2 added; outputs changed`."""
    before, after = estate(old), estate(new)
    if before is None or after is None:
        return "not in the snapshot format"
    (a, a_outputs), (b, b_outputs) = before, after
    counts = [
        (sum(1 for urn in a.keys() & b.keys() if a[urn] != b[urn]), "changed"),
        (len(b.keys() - a.keys()), "added"),
        (len(a.keys() - b.keys()), "removed"),
    ]
    parts = [[n, verb] for n, verb in counts if n]
    if parts:
        parts[0][1] = f"{'resource' if parts[0][0] == 1 else 'resources'} {parts[0][1]}"
    text = ", ".join(f"{n} {verb}" for n, verb in parts) or "no resource changed"
    if old is not None and new is not None and a_outputs != b_outputs:
        text += "; outputs changed"
    return text


def estate(text: str | None) -> tuple[dict[str, object], object] | None:
    """A snapshot's resources by URN and its outputs; empty for an absent file, None if not a snapshot."""
    if text is None:
        return {}, {}
    try:
        data = json.loads(text)
        resources = {r["urn"]: r for r in data["resources"]}
        if len(resources) != len(data["resources"]) or not all(isinstance(urn, str) for urn in resources):
            return None
        return resources, data.get("outputs")
    except (ValueError, RecursionError, KeyError, TypeError, AttributeError):
        return None


@dataclass(frozen=True)
class DiffBlock:
    """One snapshot file's diff, folded under its summary; rendered to whatever budget it is given."""

    summary: str  # trusted: a validated file name and counts
    lines: tuple[str, ...]  # untrusted diff lines (already inert)
    elsewhere: str  # trusted: where the lines not shown can be seen

    def wrap(self, block: str) -> str:
        return f"<details><summary>{self.summary}</summary>\n\n{block}\n\n</details>"

    def body(self, budget: int) -> str:
        """A ```diff fence of whole lines, at most DIFF_LINES of them, within `budget` bytes with its note."""
        lines = [clip_line(line) for line in self.lines]

        def note(hidden: int) -> str:
            return f"\n\n_{hidden} more lines not shown: {self.elsewhere}._" if hidden else ""

        def fence_of(shown: list[str]) -> str:
            text = "\n".join(shown)
            fence = fence_for(text)
            return f"{fence}diff\n{text}\n{fence}"

        if len(lines) <= DIFF_LINES and size(whole := fence_of(lines)) <= budget:
            return whole
        room = budget - size(note(len(lines))) - len("diff\n\n")  # what the lines and two fences may take
        shown: list[str] = []
        joined = longest = 0  # bytes of the shown lines with their newlines; the longest backtick run
        for line in lines[:DIFF_LINES]:
            run = max((len(r) for r in BACKTICKS.findall(line)), default=0)
            fence = max(3, max(longest, run) + 1)
            if joined + size(line) + bool(shown) + 2 * fence > room:
                break
            joined, longest = joined + size(line) + bool(shown), max(longest, run)
            shown.append(line)
        block = fence_of(shown) + note(len(lines) - len(shown))
        return block if size(block) <= budget else ""

    def need(self) -> int:
        """The size of the block with no budget but its line cap."""
        return size(self.body(BODY_BYTES))


def clip_line(line: str) -> str:
    if len(line) <= DIFF_LINE_CHARS:
        return line
    return f"{line[:DIFF_LINE_CHARS]} [... {len(line) - DIFF_LINE_CHARS} more characters]"


def diff_block(name: str, old: str | None, new: str | None, labels: tuple[str, str], elsewhere: str) -> DiffBlock:
    """The diff of one snapshot file (`old` None: a new file, `new` None: a deleted one), with its summary."""
    lines = unified_diff(old, new, *labels)
    added = sum(1 for line in lines[2:] if line.startswith("+"))
    removed = sum(1 for line in lines[2:] if line.startswith("-"))
    state = " (new)" if old is None else " (deleted)" if new is None else ""
    summary = f"{name}{state}: {estate_change(old, new)} (+{added} -{removed} lines)"
    return DiffBlock(summary, tuple(lines), elsewhere)


def fit(parts: list[str | DiffBlock], budget: int) -> str:
    """The parts joined by blank lines, the diff blocks sharing what the fixed text leaves of `budget`.

    A block that needs less than an equal share leaves the rest to the others (smallest first).
    """
    needs = {id(p): p.need() for p in parts if isinstance(p, DiffBlock)}
    fixed = size("\n\n".join(p if isinstance(p, str) else p.wrap("") for p in parts))
    left = budget - fixed
    given: dict[int, int] = {}
    for count, block in enumerate(sorted(needs, key=needs.__getitem__)):
        given[block] = min(needs[block], max(0, left // (len(needs) - count)))
        left -= given[block]
    text = "\n\n".join(p if isinstance(p, str) else p.wrap(p.body(given[id(p)])) for p in parts)
    if size(text) > budget:  # cannot happen: each block keeps to its share
        raise AssertionError(f"the snapshot section is {size(text)} bytes, over {budget}")
    return text


def snapshot_section(snapshots: Snapshots, budget: int = SNAPSHOT_BYTES) -> str:
    """The "Estate snapshot changes" section: stale snapshots first and loudly, then what the PR changes."""
    parts: list[str | DiffBlock] = ["### Estate snapshot changes"]
    if len(snapshots.names) > MAX_SNAPSHOT_FILES:
        parts.append(
            f"_Not shown: the run reported {len(snapshots.names)} snapshot files (the limit is "
            f"{MAX_SNAPSHOT_FILES}). See the pull request's files and the run._"
        )
        return fit(parts, budget)
    generated = snapshots.fresh_status == "clean" and bool(snapshots.fresh)
    stale = sorted(n for n in snapshots.fresh if snapshots.head.get(n) != snapshots.fresh[n]) if generated else []
    if not generated:
        parts.append(
            "> [!WARNING]\n"
            f"> **The snapshots could not be regenerated** (`scripts/snapshot_estate.py`: {snapshots.fresh_status}), "
            "so whether `tests/snapshots/` matches this commit's program is unknown. `make test` and the "
            "run's log say why."
        )
    elif stale:
        listed = ", ".join(f"`{n}`" for n in stale)
        parts += [
            "> [!CAUTION]\n"
            f"> **The committed estate snapshots are out of date** ({listed}): this commit's program declares "
            "something other than what `tests/snapshots/` records, so `make test` and the `Estate snapshots` "
            "check fail.\n"
            "> **Fix:** run `make snapshot`, review the diff and commit `tests/snapshots/`. The difference, "
            "committed to generated:",
            *(
                diff_block(
                    n,
                    snapshots.head.get(n),
                    snapshots.fresh[n],
                    (f"a/tests/snapshots/{n} (committed)", f"b/tests/snapshots/{n} (make snapshot)"),
                    "run `make snapshot` and `git diff tests/snapshots/`",
                )
                for n in stale
            ),
        ]
    if snapshots.base is None:
        parts.append(
            "_The base branch's snapshots were not read (see the run), so the snapshot changes this pull "
            "request commits are not shown here; see its files._"
        )
        return fit(parts, budget)
    base, head = snapshots.base, snapshots.head
    changed = sorted(n for n in base.keys() | head.keys() if base.get(n) != head.get(n))
    if not changed:
        if generated and not stale:
            parts.append("The estate snapshots (`tests/snapshots/`) are unchanged by this pull request and up to date.")
        else:
            parts.append("This pull request commits no change to the estate snapshots (`tests/snapshots/`).")
        return fit(parts, budget)
    if stale or not generated:
        parts.append("#### Committed by this pull request")
    parts.append(
        f"This pull request changes {len(changed)} estate snapshot file{'s' if len(changed) > 1 else ''}: "
        "what the example stacks would deploy, base to pull request. Review it like code."
    )
    parts += [
        diff_block(
            n,
            base.get(n),
            head.get(n),
            (f"a/tests/snapshots/{n}", f"b/tests/snapshots/{n}"),
            "see the pull request's files",
        )
        for n in changed
    ]
    return fit(parts, budget)


def read_snapshots(artifacts: Artifacts) -> Snapshots | str:
    """The `snapshots` artifact's texts, or why they are not shown (this script's words)."""
    artifact = "snapshots"
    if artifact in artifacts.rejected:
        return f"_Not shown: the `{artifact}` artifact held unexpected entries ({artifacts.rejected[artifact]})._"
    if artifact not in artifacts.present:
        return "_No snapshot artifact: the run uploaded none; see the run._"
    sides: dict[str, dict[str, str]] = {"base": {}, "head": {}, "fresh": {}}
    for file in sorted(artifacts.names[artifact]):
        side, _, name = file.partition("-")
        if side not in sides:
            continue
        loaded = artifacts.file(artifact, file, MAX_SNAPSHOT_BYTES)
        if loaded.data is None:
            return f"_Not shown: `{file}` in the `{artifact}` artifact is {loaded.problem or 'unreadable'}._"
        sides[side][name] = loaded.data.decode("utf-8", errors="replace")
    base_read = exit_status(artifacts.file(artifact, "base.exit", MAX_SMALL_BYTES)) == "clean"
    fresh_status = exit_status(artifacts.file(artifact, "fresh.exit", MAX_SMALL_BYTES))
    return Snapshots(sides["base"] if base_read else None, sides["head"], sides["fresh"], fresh_status)


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
