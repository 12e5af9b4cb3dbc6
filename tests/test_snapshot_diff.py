"""The "Estate snapshot changes" section of the PR comment (scripts/pr_comment/snapshot_diff.py).

pull-request.yml uploads the snapshots of the PR's base, the committed ones and the ones the PR's program
generates (`snapshot_estate.py --out`); the comment shows base -> PR as unified diffs and says loudly when
the committed ones are stale. Every scenario is written by hand: the snapshot texts below are in the
format of tests/snapshots/ (json.dumps(indent=1, sort_keys=True)), line numbers counted by hand, and
the expected diffs typed out. The markdown is read with tests/test_pr_comment.py's own fence reader.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import snapshot_estate
from tests.test_pr_comment import FAKE_HEADING, ZWJ, headings, outside_code, rpc, run_artifacts, snapshot_diff, write

QUEUE_URN = (
    "urn:pulumi:staging::genesys-messaging::genesys-messaging:index:MessagingQueue"
    "$genesyscloud:index/routingQueue:RoutingQueue::routing-queue"
)
SKILL_URN = (
    "urn:pulumi:staging::genesys-messaging::genesys-messaging:index:MessagingQueue"
    "$genesyscloud:index/routingSkill:RoutingSkill::routing-skill-chat"
)
PARENT = "urn:pulumi:staging::genesys-messaging::pulumi:pulumi:Stack$genesys-messaging:index:MessagingQueue::routing"
PROVIDER = "urn:pulumi:staging::genesys-messaging::pulumi:pulumi:Stack$pulumi:providers:genesyscloud::genesyscloud"
QUEUE = "genesyscloud:index/routingQueue:RoutingQueue routing-queue"
SKILL = "genesyscloud:index/routingSkill:RoutingSkill routing-skill-chat"

# Two resources and one output; 28 lines. Line 8 is the queue's name, line 19 the skill's.
BASE = f"""{{
 "outputs": {{
  "queueId": "routing-queue-id"
 }},
 "resources": [
  {{
   "inputs": {{
    "name": "stg-Support",
    "skillEvaluationMethod": "ALL"
   }},
   "parent": "{PARENT}",
   "protect": false,
   "provider": "{PROVIDER}",
   "type": "genesyscloud:index/routingQueue:RoutingQueue",
   "urn": "{QUEUE_URN}"
  }},
  {{
   "inputs": {{
    "name": "stg-chat"
   }},
   "parent": "{PARENT}",
   "protect": false,
   "provider": "{PROVIDER}",
   "type": "genesyscloud:index/routingSkill:RoutingSkill",
   "urn": "{SKILL_URN}"
  }}
 ]
}}
"""
RENAMED = BASE.replace('"name": "stg-Support",', '"name": "stg-Web Support",')
WRAPUP_URN = (
    "urn:pulumi:staging::genesys-messaging::genesys-messaging:index:Wrapup"
    "$genesyscloud:index/routingWrapupcode:RoutingWrapupcode::wrapup-resolved"
)
WRAPUP = f"""  {{
   "inputs": {{
    "name": "Resolved"
   }},
   "parent": "urn:pulumi:staging::genesys-messaging::pulumi:pulumi:Stack$genesys-messaging:index:Wrapup::wrapup",
   "protect": true,
   "provider": "{PROVIDER}",
   "type": "genesyscloud:index/routingWrapupcode:RoutingWrapupcode",
   "urn": "{WRAPUP_URN}"
  }}
"""
# The skill (lines 17-26) removed and a wrap-up code in its place.
SWAPPED = "\n".join(BASE.split("\n")[:16]) + "\n" + WRAPUP + " ]\n}\n"
UNCHANGED = "The estate snapshots (`tests/snapshots/`) are unchanged by this pull request and up to date."


def section(base: dict[str, str] | None, head: dict[str, str], fresh: dict[str, str] | None = None) -> str:
    fresh = head if fresh is None else fresh
    return snapshot_diff.snapshot_section(snapshot_diff.Snapshots(base, head, fresh, "clean"))


def code_blocks(markdown: str) -> list[list[str]]:
    """The lines of each fenced block, in order (the fences come from the script, the reader checks them)."""
    blocks, current, fence = [], [], None
    for line in markdown.split("\n"):
        if fence is None and line.startswith("```"):
            fence = line[: len(line) - len(line.lstrip("`"))]
            current = []
        elif fence is not None and line == fence:
            blocks.append(current)
            fence = None
        elif fence is not None:
            current.append(line)
    return blocks


# --- what a reviewer sees -----------------------------------------------------------------------------


def test_a_changed_input_shows_as_minus_plus_lines_under_its_resource() -> None:
    text = section({"staging.json": BASE}, {"staging.json": RENAMED})
    assert code_blocks(text) == [
        [
            "--- a/tests/snapshots/staging.json",
            "+++ b/tests/snapshots/staging.json",
            f"@@ -5,7 +5,7 @@ {QUEUE}",
            '  "resources": [',
            "   {",
            '    "inputs": {',
            '-    "name": "stg-Support",',
            '+    "name": "stg-Web Support",',
            '     "skillEvaluationMethod": "ALL"',
            "    },",
            f'    "parent": "{PARENT}",',
        ]
    ]
    assert outside_code(text) == [
        "### Estate snapshot changes",
        "",
        "This pull request changes 1 estate snapshot file: what the example stacks would deploy, "
        "base to pull request. Review it like code.",
        "",
        "<details><summary>staging.json: 1 resource changed (+1 -1 lines)</summary>",
        "",
        "",
        "</details>",
    ]


def test_an_added_and_a_removed_resource_are_named_and_counted() -> None:
    text = section({"staging.json": BASE}, {"staging.json": SWAPPED})
    (diff,) = code_blocks(text)
    hunks = [line for line in diff if line.startswith("@@")]
    assert len(hunks) == 1 and SKILL in hunks[0] and "RoutingWrapupcode wrapup-resolved" in hunks[0], hunks
    assert QUEUE not in hunks[0], "the queue is unchanged: its closing brace names nothing"
    assert f'-   "urn": "{SKILL_URN}"' in diff and '-    "name": "stg-chat"' in diff
    assert '+    "name": "Resolved"' in diff and '+   "protect": true,' in diff
    assert "<details><summary>staging.json: 1 resource added, 1 removed (+" in outside_code(text)[4]


def test_a_new_stack_file_is_all_additions_from_dev_null() -> None:
    text = section({"staging.json": BASE}, {"staging.json": BASE, "dev.json": BASE})
    (diff,) = code_blocks(text)
    assert diff[:3] == [
        "--- /dev/null",
        "+++ b/tests/snapshots/dev.json",
        f"@@ -0,0 +1,28 @@ outputs, resources, {QUEUE} and 1 more",
    ]
    assert diff[3:] == ["+" + line for line in BASE.rstrip("\n").split("\n")]
    assert "<details><summary>dev.json (new): 2 resources added (+28 -0 lines)</summary>" in outside_code(text)


def test_a_deleted_stack_file_is_all_removals_to_dev_null() -> None:
    text = section({"staging.json": BASE, "old.json": BASE}, {"staging.json": BASE})
    (diff,) = code_blocks(text)
    assert diff[:3] == [
        "--- a/tests/snapshots/old.json",
        "+++ /dev/null",
        f"@@ -1,28 +0,0 @@ outputs, resources, {QUEUE} and 1 more",
    ]
    assert "<details><summary>old.json (deleted): 2 resources removed (+0 -28 lines)</summary>" in outside_code(text)


def test_unchanged_snapshots_are_one_line() -> None:
    assert section({"staging.json": BASE}, {"staging.json": BASE}) == f"### Estate snapshot changes\n\n{UNCHANGED}"


def test_stale_snapshots_say_so_first_with_the_fix_and_the_difference() -> None:
    text = section({"staging.json": BASE}, {"staging.json": BASE}, {"staging.json": RENAMED})
    outside = outside_code(text)
    assert outside[:5] == [
        "### Estate snapshot changes",
        "",
        "> [!CAUTION]",
        "> **The committed estate snapshots are out of date** (`staging.json`): this commit's program declares "
        "something other than what `tests/snapshots/` records, so `make test` and the `Estate snapshots` check fail.",
        "> **Fix:** run `make snapshot`, review the diff and commit `tests/snapshots/`. The difference, "
        "committed to generated:",
    ]
    (diff,) = code_blocks(text)
    assert diff[:3] == [
        "--- a/tests/snapshots/staging.json (committed)",
        "+++ b/tests/snapshots/staging.json (make snapshot)",
        f"@@ -5,7 +5,7 @@ {QUEUE}",
    ]
    assert '+    "name": "stg-Web Support",' in diff
    assert outside[-1] == "This pull request commits no change to the estate snapshots (`tests/snapshots/`)."
    assert UNCHANGED not in text


def test_stale_and_committed_changes_are_shown_apart() -> None:
    text = section({"staging.json": BASE}, {"staging.json": RENAMED}, {"staging.json": SWAPPED})
    outside = outside_code(text)
    assert "> [!CAUTION]" in outside and "#### Committed by this pull request" in outside
    assert outside.index("> [!CAUTION]") < outside.index("#### Committed by this pull request")
    stale, committed = code_blocks(text)
    assert stale[0].endswith("(committed)") and not committed[0].endswith("(committed)")
    assert '+    "name": "stg-Web Support",' in committed and '-    "name": "stg-Web Support",' in stale


def test_a_failed_generation_is_a_warning_not_a_verdict() -> None:
    snapshots = snapshot_diff.Snapshots({"staging.json": BASE}, {"staging.json": BASE}, {}, "exit 1")
    outside = outside_code(snapshot_diff.snapshot_section(snapshots))
    assert outside[2:4] == [
        "> [!WARNING]",
        "> **The snapshots could not be regenerated** (`scripts/snapshot_estate.py`: exit 1), so whether "
        "`tests/snapshots/` matches this commit's program is unknown. `make test` and the run's log say why.",
    ]
    assert UNCHANGED not in outside


def test_unread_base_snapshots_are_said_not_guessed() -> None:
    text = section(None, {"staging.json": RENAMED})
    assert code_blocks(text) == [], "without the base nothing is a change, nor a new stack"
    assert outside_code(text)[-1].startswith("_The base branch's snapshots were not read (see the run)")


def test_text_not_in_the_snapshot_format_is_diffed_without_labels() -> None:
    text = section({"staging.json": "[1,\n2]\n"}, {"staging.json": "[1,\n3]\n"})
    assert code_blocks(text) == [
        [
            "--- a/tests/snapshots/staging.json",
            "+++ b/tests/snapshots/staging.json",
            "@@ -1,2 +1,2 @@",
            " [1,",
            "-2]",
            "+3]",
        ]
    ]
    assert "<details><summary>staging.json: not in the snapshot format (+1 -1 lines)</summary>" in outside_code(text)


# --- size -----------------------------------------------------------------------------------------------


def big_snapshot(resources: int) -> str:
    body = ",\n".join(
        f'  {{\n   "inputs": {{\n    "name": "queue {i}"\n   }},\n   "type": "t",\n   "urn": "u::q{i}"\n  }}'
        for i in range(resources)
    )
    return '{\n "outputs": {},\n "resources": [\n' + body + "\n ]\n}\n"


def test_a_huge_diff_is_capped_by_lines_and_bytes_with_the_rest_counted() -> None:
    huge = big_snapshot(5_000)  # 7 lines a resource: 35,005 lines
    assert huge.count("\n") == 35_005
    text = section({}, {"staging.json": huge, "prod.json": huge})
    assert len(text.encode("utf-8")) <= snapshot_diff.SNAPSHOT_BYTES
    blocks = code_blocks(text)
    assert len(blocks) == 2
    for block in blocks:
        assert 3 < len(block) <= snapshot_diff.DIFF_LINES, len(block)
        # 35,005 file lines + the two file headers and one hunk header, less those shown.
        assert f"_{35_008 - len(block)} more lines not shown: see the pull request's files._" in outside_code(text)


def test_a_long_line_is_clipped_inside_its_block() -> None:
    head = BASE.replace("stg-Support", "x" * 5_000)
    (diff,) = code_blocks(section({"staging.json": BASE}, {"staging.json": head}))
    (added,) = [line for line in diff if line.startswith("+ ")]
    assert added == f'+    "name": "{"x" * 286} [... 4716 more characters]'


def test_too_many_snapshot_files_are_not_diffed() -> None:
    head = {f"s{i}.json": BASE for i in range(snapshot_diff.MAX_SNAPSHOT_FILES + 1)}
    text = section({}, head)
    assert code_blocks(text) == []
    assert "_Not shown: the run reported 9 snapshot files (the limit is 8)." in outside_code(text)[2]


# --- hostile content (a fork's run uploads whatever it likes) --------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "```",
        "`" * 12,
        "x```\\n" + FAKE_HEADING,
    ],
    ids=["three", "twelve", "escaped-newline"],
)
def test_a_backtick_fence_in_a_value_cannot_break_out(value: str) -> None:
    head = BASE.replace("stg-Support", value)
    text = section({"staging.json": BASE}, {"staging.json": head})
    assert FAKE_HEADING not in outside_code(text)
    assert headings(text) == ["### Estate snapshot changes"]
    (diff,) = code_blocks(text)
    assert f'+    "name": "{value}",' in diff


def test_raw_fence_lines_in_a_file_that_is_not_json_stay_inside() -> None:
    hostile = f"```\n{FAKE_HEADING}\n ```\n~~~\n   ````````````\n</details>\n<img src=x onerror=alert(1)>\n"
    text = section({"staging.json": BASE}, {"staging.json": hostile})
    assert FAKE_HEADING not in outside_code(text) and "<img src=x onerror=alert(1)>" in text
    outside = "\n".join(outside_code(text))
    assert "<img" not in outside and outside.count("</details>") == 1


def test_mentions_comments_and_controls_in_a_snapshot_are_neutralised() -> None:
    head = BASE.replace("stg-Support", "@org/team <!-- \u202eeteled")
    text = section({"staging.json": BASE}, {"staging.json": head})
    assert f"@{ZWJ}org/team <!{ZWJ}-- \ufffdeteled" in text
    assert "@org" not in text and "<!--" not in text and "\u202e" not in text


def test_a_hostile_snapshot_file_name_rejects_the_artifact(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    write(root, "snapshots/head-staging.json", BASE)
    write(root, "snapshots/head-<img src=x>.json", BASE)
    text = rpc.render(
        run_artifacts.scan(root), rpc.Run("0" * 40, "a/b", "a/b", "https://github.com/a/b/actions/runs/1", "")
    )
    assert "_Not shown: the `snapshots` artifact held unexpected entries (1)._" in outside_code(text)
    assert "<img" not in text


def test_a_snapshot_name_is_validated_before_it_is_printed() -> None:
    with pytest.raises(ValueError):
        snapshot_diff.Snapshots({}, {"staging.json</summary>": BASE}, {}, "clean")


# --- the artifact as pull-request.yml uploads it -------------------------------------------------------


def test_the_artifact_is_read_by_side_and_name(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    write(root, "snapshots/base-staging.json", BASE)
    write(root, "snapshots/head-staging.json", RENAMED)
    write(root, "snapshots/head-dev.json", BASE)
    write(root, "snapshots/fresh-staging.json", RENAMED)
    write(root, "snapshots/fresh-dev.json", BASE)
    write(root, "snapshots/base.exit", "0\n")
    write(root, "snapshots/fresh.exit", "0\n")
    loaded = snapshot_diff.read_snapshots(run_artifacts.scan(root))
    assert loaded == snapshot_diff.Snapshots(
        {"staging.json": BASE},
        {"staging.json": RENAMED, "dev.json": BASE},
        {"staging.json": RENAMED, "dev.json": BASE},
        "clean",
    )
    (root / "snapshots" / "base.exit").unlink()  # the workflow writes it last: the base was not read
    assert snapshot_diff.read_snapshots(run_artifacts.scan(root)).base is None


def test_an_oversized_snapshot_is_refused_unread(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    write(root, "snapshots/head-staging.json", "x" * (run_artifacts.MAX_SNAPSHOT_BYTES + 1))
    assert snapshot_diff.read_snapshots(run_artifacts.scan(root)) == (
        f"_Not shown: `head-staging.json` in the `snapshots` artifact is too large "
        f"({run_artifacts.MAX_SNAPSHOT_BYTES + 1} bytes; the limit is {run_artifacts.MAX_SNAPSHOT_BYTES})._"
    )


# --- snapshot_estate.py --out (the fresh copy the workflow uploads) ---------------------------------------


def test_out_writes_every_snapshot_elsewhere_and_leaves_the_committed_ones(monkeypatch, tmp_path, capsys) -> None:
    committed = tmp_path / "committed"
    committed.mkdir()
    monkeypatch.setattr(snapshot_estate, "SNAPSHOTS", committed)
    monkeypatch.setattr(snapshot_estate, "snapshots", lambda: {"staging.json": "{}\n", "prod.json": "[]\n"})
    out = tmp_path / "fresh" / "deeper"
    assert snapshot_estate.main(["--out", str(out)]) == 0
    assert {p.name: p.read_text() for p in out.iterdir()} == {"staging.json": "{}\n", "prod.json": "[]\n"}
    assert not list(committed.iterdir()), "--out never writes tests/snapshots/"
    with pytest.raises(SystemExit) as refused:
        snapshot_estate.main(["--out", str(out), "--check"])
    assert refused.value.code == 2 and "give one of them" in capsys.readouterr().err


# --- texts crafted to be slow to diff -----------------------------------------------------------------


def cyclic(lines: int, step: int) -> str:
    """Ten distinct lines in a cycle: the shape that makes difflib's matching grow with the cube of the lines."""
    return "".join(f'  "v{(i * step) % 10}",\n' for i in range(lines))


def test_crafted_snapshots_cost_the_runner_the_time_budget_and_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 24 files (8 names, each base, head and fresh different), each just under the line cap: before the budget,
    # one such diff took minutes and the section 16 of them.
    import time

    monkeypatch.setattr(snapshot_diff, "SNAPSHOT_SECONDS", 1.0)
    lines, root = snapshot_diff.DIFF_INPUT_LINES - 10, tmp_path / "artifacts"
    for i in range(snapshot_diff.MAX_SNAPSHOT_FILES):
        for side, step in (("base", 1), ("head", 3), ("fresh", 7)):
            write(root, f"snapshots/{side}-s{i}.json", cyclic(lines, step))
    write(root, "snapshots/base.exit", "0\n")
    write(root, "snapshots/fresh.exit", "0\n")
    started = time.monotonic()
    body = rpc.render(
        run_artifacts.scan(root), rpc.Run("0" * 40, "a/b", "a/b", "https://github.com/a/b/actions/runs/1", "")
    )
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"{elapsed:.1f} s"
    outside = outside_code(body)
    assert sum("_Not diffed: the time the comment gives diffs ran out;" in line for line in outside) >= 8, outside
    assert f"s0.json: not in the snapshot format ({lines} -> {lines} lines)" in body


def test_a_changed_file_over_the_line_cap_is_counted_not_diffed() -> None:
    resources = snapshot_diff.DIFF_INPUT_LINES // 7 + 1  # 7 lines a resource
    old, new = big_snapshot(resources), big_snapshot(resources).replace('"queue 0"', '"queue zero"')
    text = section({"staging.json": old}, {"staging.json": new})
    assert code_blocks(text) == []
    lines = 7 * resources + 5
    assert f"staging.json: 1 resource changed ({lines} -> {lines} lines)" in text
    assert (
        f"_Not diffed: over {snapshot_diff.DIFF_INPUT_LINES} lines; see the pull request's files._"
        in outside_code(text)
    )
