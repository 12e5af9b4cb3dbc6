"""The "Estate snapshot changes" section: the snapshot texts of the run, diffed and fitted to a budget.

The snapshot texts come from the PR's run like everything else: the diff lines go inside a fence they
cannot close; only counts and validated file names are printed outside one. They may also be crafted
to be slow to diff (difflib's matching grows with the cube of the lines for a few lines repeated in
a cycle: 2,000 such lines took 13 s, 4,000 took 105 s), and the comment runs on the base repository's
runner: a changed file longer than DIFF_INPUT_LINES is counted, not diffed, and the section's diffs share a
time budget (SNAPSHOT_SECONDS) after which the rest are counted, not diffed.
"""

from __future__ import annotations

import difflib
import json
import re
import time
from dataclasses import dataclass

from .run_artifacts import MAX_SMALL_BYTES, MAX_SNAPSHOT_BYTES, SNAPSHOT_NAME, Artifacts, exit_status
from .safe_markdown import BACKTICKS, BODY_BYTES, fence_for, neutralise, size

MAX_SNAPSHOT_FILES = 8  # distinct snapshot names; more and none is diffed (each needs room in the budget)
SNAPSHOT_BYTES = 15_000  # the whole snapshot section, every note and diff included
DIFF_LINES = 150  # per snapshot diff block; the rest is counted ("N more lines")
DIFF_LINE_CHARS = 300  # a longer diff line is clipped (a long value must not eat the block)
DIFF_CONTEXT = 3  # unchanged lines around each change, as git diff
DIFF_INPUT_LINES = 3_000  # per side of a changed file: six times today's largest snapshot (500 lines)
SNAPSHOT_SECONDS = 10.0  # every diff of the section together; after it the remaining files are counted only
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


class OutOfTime(Exception):
    """The section's time budget for diffs ran out."""


class _TimedMatcher(difflib.SequenceMatcher):
    """difflib's matcher, checking a deadline before each longest-match search, so a slow pair of texts costs the
    budget and at most one search more (the slowest at the line cap, 3,000 equal lines, took 1.4 s here)."""

    def __init__(self, a: list[str], b: list[str], *, autojunk: bool, deadline: float) -> None:
        self.deadline = deadline
        super().__init__(None, a, b, autojunk=autojunk)

    def find_longest_match(self, alo: int = 0, ahi: int | None = None, blo: int = 0, bhi: int | None = None):
        if time.monotonic() > self.deadline:
            raise OutOfTime
        return super().find_longest_match(alo, ahi, blo, bhi)


def unified_diff(
    old: str | None, new: str | None, old_label: str, new_label: str, deadline: float = float("inf")
) -> list[str]:
    """A unified diff (as `git diff`), each hunk header naming the resources its changed lines belong to.

    Texts are made inert first (see neutralise); None is an absent file. Hunk headers end like
    `@@ -40,7 +40,7 @@ genesyscloud:index/routingQueue:RoutingQueue queue` where the snapshot is in
    its own format, as git names the enclosing function. Raises OutOfTime past `deadline` (time.monotonic()).
    """
    sides = []
    for text in (old, new):
        lines = neutralise(text or "").split("\n")
        if lines[-1] == "":
            lines.pop()
        sides.append((lines, line_owners(text) if text else []))
    (a, a_owner), (b, b_owner) = sides
    matcher = _TimedMatcher(a, b, autojunk=len(a) + len(b) > 20_000, deadline=deadline)
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
    not_diffed: str = ""  # trusted: why there is no diff at all (too long, out of time); then only this is shown

    def wrap(self, block: str) -> str:
        return f"<details><summary>{self.summary}</summary>\n\n{block}\n\n</details>"

    def body(self, budget: int) -> str:
        """A ```diff fence of whole lines, at most DIFF_LINES of them, within `budget` bytes with its note."""
        if self.not_diffed:
            note = f"_Not diffed: {self.not_diffed}; {self.elsewhere}._"
            return note if size(note) <= budget else ""
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


def line_count(text: str | None) -> int:
    return 0 if not text else text.count("\n") + (not text.endswith("\n"))


def diff_block(
    name: str,
    old: str | None,
    new: str | None,
    labels: tuple[str, str],
    elsewhere: str,
    deadline: float = float("inf"),
) -> DiffBlock:
    """The diff of one snapshot file (`old` None: a new file, `new` None: a deleted one), with its summary;
    counted only when a side is over DIFF_INPUT_LINES or the section's time ran out (`deadline`)."""
    state = " (new)" if old is None else " (deleted)" if new is None else ""
    counts = f"{name}{state}: {estate_change(old, new)}"
    lengths = line_count(old), line_count(new)
    # A new or deleted file diffs in linear time (one side is empty): only a changed file is capped.
    too_long = old is not None and new is not None and max(lengths) > DIFF_INPUT_LINES
    try:
        if too_long:
            raise OutOfTime
        lines = unified_diff(old, new, *labels, deadline=deadline)
    except OutOfTime:
        why = f"over {DIFF_INPUT_LINES} lines" if too_long else "the time the comment gives diffs ran out"
        return DiffBlock(f"{counts} ({lengths[0]} -> {lengths[1]} lines)", (), elsewhere, why)
    added = sum(1 for line in lines[2:] if line.startswith("+"))
    removed = sum(1 for line in lines[2:] if line.startswith("-"))
    return DiffBlock(f"{counts} (+{added} -{removed} lines)", tuple(lines), elsewhere)


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


def snapshot_section(snapshots: Snapshots, budget: int = SNAPSHOT_BYTES, seconds: float | None = None) -> str:
    """The "Estate snapshot changes" section: stale snapshots first and loudly, then what the PR changes.

    Its diffs together take at most about `seconds` (SNAPSHOT_SECONDS); the files left then are counted only.
    """
    deadline = time.monotonic() + (SNAPSHOT_SECONDS if seconds is None else seconds)
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
                    deadline,
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
            deadline,
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
