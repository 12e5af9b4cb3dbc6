"""scripts/render_pr_comment.py (and scripts/pr_comment/): the PR comment from untrusted artifacts (pr-comment.yml).

The artifacts are written by the PR's own run, so for a fork by whoever opened it. Each test builds
an artifact directory by hand with one hostile input and reads the rendered markdown the way GitHub
does (a small CommonMark fence reader written here, not the script's): whatever the artifact says
must stay inside a code block, and every heading and status outside one must be the script's own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "render_pr_comment.py"

# Imported as `python scripts/render_pr_comment.py` runs it: with scripts/ on the path, the script and its
# pr_comment package are top-level modules. Never import scripts.pr_comment as well: a second copy of a
# module has its own classes, which the first copy's isinstance checks reject.
sys.path.append(str(SCRIPT.parent))
import render_pr_comment as rpc  # noqa: E402
from pr_comment import run_artifacts, safe_markdown, snapshot_diff  # noqa: E402

SHA = "0123456789abcdef0123456789abcdef01234567"
RUN_URL = "https://github.com/acme/genesys-messaging/actions/runs/42"
BASE = "acme/genesys-messaging"
FORK = "mallory/genesys-messaging"
MARKER = "<!-- genesys-messaging-plan -->"
ZWJ = "\u200d"
FAKE_HEADING = "### Live preview: `prod` (clean)"
SNAPSHOT_HEADING = "### Estate snapshot changes"
HEADINGS = (
    SNAPSHOT_HEADING,
    "### Offline plan: `staging` (",
    "### Offline plan: `prod` (",
    "### Live preview: `staging` (",
    "### Live preview: `prod` (",
)


# --- an independent reader of the rendered markdown ---------------------------------------------------


def outside_code(markdown: str) -> list[str]:
    """The lines GitHub renders as markdown, i.e. outside fenced code blocks (CommonMark 4.5).

    A fence opens with >= 3 backticks or tildes indented <= 3 spaces and closes with a line of at
    least as many of the same character and nothing else; an unclosed block runs to the end, which
    this reader reports as an error because it would swallow whatever the script wrote after it.
    """
    lines = re.split(r"\r\n|\r|\n", markdown)
    outside: list[str] = []
    open_fence: str | None = None
    for line in lines:
        if open_fence is None:
            match = re.match(r"^ {0,3}(`{3,}|~{3,})(.*)$", line)
            if match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
                open_fence = match.group(1)
            else:
                outside.append(line)
        elif re.match(rf"^ {{0,3}}{re.escape(open_fence[0])}{{{len(open_fence)},}}[ \t]*$", line):
            open_fence = None
    assert open_fence is None, "the comment ends inside a code block"
    return outside


def headings(markdown: str) -> list[str]:
    return [line for line in outside_code(markdown) if line.startswith("#")]


# --- building artifacts by hand -----------------------------------------------------------------------

# One resource in the format of tests/snapshots/ (json.dumps(indent=1, sort_keys=True)), written by hand.
SNAPSHOT = """{
 "outputs": {
  "queueId": "routing-queue-id"
 },
 "resources": [
  {
   "inputs": {
    "name": "stg-Support"
   },
   "parent": "",
   "protect": false,
   "provider": "",
   "type": "genesyscloud:index/routingQueue:RoutingQueue",
   "urn": "urn:pulumi:staging::genesys-messaging::genesyscloud:index/routingQueue:RoutingQueue::routing-queue"
  }
 ]
}
"""


def write(root: Path, relative: str, content: str | bytes) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """A well-formed run of a branch of this repository: both plans and both previews."""
    root = tmp_path / "artifacts"
    write(root, "plan/pr-number", "17\n")
    write(root, "plan/plan-staging.md", "## Plan for staging\n\n| resource | action |\n|---|---|\n| queue | create |\n")
    write(root, "plan/plan-staging.exit", "0\n")
    write(root, "plan/plan-prod.md", "## Plan for prod\n\n- violation: queue name\n")
    write(root, "plan/plan-prod.exit", "1\n")
    write(root, "preview-staging/preview-staging.txt", "Previewing update (staging)\n    + 3 to create\n")
    write(root, "preview-staging/preview-staging.exit", "0\n")
    write(root, "preview-prod/preview-prod.txt", "Previewing update (prod)\nerror: policy violation\n")
    write(root, "preview-prod/preview-prod.exit", "255\n")
    for side in ("base", "head", "fresh"):
        write(root, f"snapshots/{side}-staging.json", SNAPSHOT)
    write(root, "snapshots/base.exit", "0\n")
    write(root, "snapshots/fresh.exit", "0\n")
    return root


def render(root: Path, *, head_repo: str = BASE, conclusion: str = "failure") -> str:
    run = rpc.Run(SHA, head_repo, BASE, RUN_URL, conclusion)
    return rpc.render(run_artifacts.scan(root), run)


# --- the well-formed case -----------------------------------------------------------------------------


def test_a_branch_run_gets_five_sections_with_statuses_from_the_exit_codes(artifacts: Path) -> None:
    body = render(artifacts)
    assert body.startswith(MARKER + "\n"), body[:80]
    assert headings(body) == [
        "## genesys-messaging plan for 0123456",
        SNAPSHOT_HEADING,
        "### Offline plan: `staging` (clean)",
        "### Offline plan: `prod` (exit 1)",
        "### Live preview: `staging` (clean)",
        "### Live preview: `prod` (exit 255)",
    ]
    assert f"([this run]({RUN_URL}), conclusion: failure)" in body
    assert "| queue | create |" in body and "error: policy violation" in body
    assert "| queue | create |" not in outside_code(body), "the plan is shown as code, not rendered"
    assert "fork" not in "\n".join(outside_code(body)), "a branch of this repository is not a fork"
    unchanged = "The estate snapshots (`tests/snapshots/`) are unchanged by this pull request and up to date."
    assert body.split("\n\n")[2:4] == [SNAPSHOT_HEADING, unchanged], "the snapshots first, in one line"


def test_a_fork_run_never_shows_previews_and_says_whose_run_reported_the_plan(artifacts: Path) -> None:
    body = render(artifacts, head_repo=FORK)
    assert headings(body)[4:] == ["### Live preview: `staging` (not run)", "### Live preview: `prod` (not run)"]
    assert "error: policy violation" not in body, "a fork's preview artifact must not be shown"
    assert f"the fork `{FORK}`" in body and "what that run reported" in body


def test_a_deleted_fork_is_still_a_fork(artifacts: Path) -> None:
    body = render(artifacts, head_repo="")
    assert "comes from a fork." in body and "(not run)" in body


def test_missing_artifacts_are_said_in_the_scripts_words(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    write(root, "plan/pr-number", "3")
    body = render(root)
    assert headings(body)[1:] == [
        SNAPSHOT_HEADING,
        "### Offline plan: `staging` (no result)",
        "### Offline plan: `prod` (no result)",
        "### Live preview: `staging` (no result)",
        "### Live preview: `prod` (no result)",
    ]
    assert body.count("_No plan was produced; see the run._") == 2
    assert body.count("_No preview artifact") == 2
    assert "_No snapshot artifact: the run uploaded none; see the run._" in outside_code(body)


# --- hostile content ----------------------------------------------------------------------------------


def test_a_fake_heading_stays_inside_the_code_block(artifacts: Path) -> None:
    write(artifacts, "plan/plan-staging.md", f"nothing to see\n\n{FAKE_HEADING}\n\nAll good, merge it.\n")
    body = render(artifacts, head_repo=FORK)
    assert FAKE_HEADING in body
    assert FAKE_HEADING not in outside_code(body)
    assert [h for h in headings(body) if h.startswith("### Live preview: `prod`")] == [
        "### Live preview: `prod` (not run)"
    ]


@pytest.mark.parametrize(
    "content",
    [
        "```\n" + FAKE_HEADING + "\n```\n",
        "````\n" + FAKE_HEADING + "\n`````\n``````````\n",
        "   ```\n" + FAKE_HEADING + "\n",
        "~~~\n" + FAKE_HEADING + "\n~~~~\n",
        "plan\r```\r" + FAKE_HEADING + "\r",
        "`" * 40 + "\n" + FAKE_HEADING + "\n",
    ],
    ids=["three", "four-to-ten", "indented", "tildes", "bare-cr", "forty"],
)
def test_backtick_and_tilde_runs_cannot_close_the_fence(artifacts: Path, content: str) -> None:
    write(artifacts, "plan/plan-staging.md", content)
    write(artifacts, "preview-prod/preview-prod.txt", content)
    body = render(artifacts)
    assert FAKE_HEADING not in outside_code(body)
    found = headings(body)[1:]
    assert len(found) == len(HEADINGS) and all(map(str.startswith, found, HEADINGS)), found
    assert "### Live preview: `prod` (exit 255)" in headings(body)


def test_mentions_are_neutralised_everywhere(artifacts: Path) -> None:
    write(artifacts, "plan/plan-staging.md", "@org/team and @alice, please approve (cc user@example.com)\n")
    write(artifacts, "preview-staging/preview-staging.txt", "@acme/admins\n")
    body = render(artifacts)
    assert not re.search(r"@[A-Za-z0-9]", body), "no @mention may reach GitHub, not even inside code"
    assert f"@{ZWJ}org/team" in body and f"@{ZWJ}alice" in body and f"@{ZWJ}acme/admins" in body


def test_an_unclosed_html_comment_hides_nothing(artifacts: Path) -> None:
    write(artifacts, "plan/plan-staging.md", "before <!-- everything after me is hidden\n")
    write(artifacts, "plan/plan-prod.md", f"{MARKER}\n<!--\n")
    body = render(artifacts)
    assert body.count("<!--") == 1 and body.startswith(MARKER), "only the script's own marker is an HTML comment"
    assert f"<!{ZWJ}--" in body
    assert len(headings(body)) == 6, headings(body)


def test_html_that_could_hide_content_is_only_ever_code(artifacts: Path) -> None:
    hostile = '</details>\n<details><summary>ok</summary>\n\n<img src="x" onerror="alert(1)">\n'
    write(artifacts, "preview-staging/preview-staging.txt", hostile)
    write(artifacts, "plan/plan-staging.md", hostile)
    body = render(artifacts)
    outside = "\n".join(outside_code(body))
    assert "<img" not in outside and "<summary>ok" not in outside
    assert outside.count("<details>") == outside.count("</details>") == 2, "only the script's own two blocks"


def test_controls_and_bidi_overrides_are_replaced(artifacts: Path) -> None:
    write(artifacts, "plan/plan-staging.md", "queue \u202eeteled\u202c ok\x00\x1b[31mred\x07\n")
    body = render(artifacts)
    for char in ("\u202e", "\u202c", "\x00", "\x1b", "\x07"):
        assert char not in body, repr(char)
    assert "queue \ufffdeteled\ufffd ok\ufffd\ufffd[31mred\ufffd" in body


def test_a_non_utf8_file_is_shown_with_replacement_characters_and_a_note(artifacts: Path) -> None:
    write(artifacts, "plan/plan-prod.md", b"plan \xff\xfe\xc3( prod\n")
    write(artifacts, "plan/plan-prod.exit", b"\xff1\n")
    body = render(artifacts)
    assert "plan \ufffd\ufffd\ufffd( prod" in body
    assert "_The file is not valid UTF-8; undecodable bytes are shown as \ufffd._" in outside_code(body)
    assert "### Offline plan: `prod` (unreadable result)" in headings(body)


@pytest.mark.parametrize("code", ["0 (clean)", "-1", "256", "1e3", "0x0", "", "clean", "\u0660"])
def test_only_a_plain_exit_code_becomes_a_status(artifacts: Path, code: str) -> None:
    write(artifacts, "plan/plan-staging.exit", code)
    assert "### Offline plan: `staging` (unreadable result)" in headings(render(artifacts))


def test_an_oversized_exit_file_is_refused_unread(artifacts: Path) -> None:
    write(artifacts, "plan/plan-staging.exit", "0" + " " * 100)
    assert "### Offline plan: `staging` (refused)" in headings(render(artifacts))


# --- sizes --------------------------------------------------------------------------------------------


def test_a_file_over_the_cap_is_refused_unread(artifacts: Path) -> None:
    write(artifacts, "plan/plan-staging.md", FAKE_HEADING + "\n" + "x" * run_artifacts.MAX_TEXT_BYTES)
    body = render(artifacts)
    assert FAKE_HEADING not in body
    assert f"_Not shown: too large ({run_artifacts.MAX_TEXT_BYTES + len(FAKE_HEADING) + 1} bytes; " in body


def test_large_files_are_clipped_so_the_body_fits_and_every_fence_closes(artifacts: Path) -> None:
    long = "".join(f"line {i} `code` ```` @team\n" for i in range(40_000))  # ~1.1 MB, under the cap
    for relative in ("plan/plan-staging.md", "plan/plan-prod.md"):
        write(artifacts, relative, long)
    write(artifacts, "preview-staging/preview-staging.txt", "\u00e9" * 500_000)  # 2 bytes a character
    write(artifacts, "preview-prod/preview-prod.txt", "`" * 200_000)  # one run: the fence would be as long
    # With staging.json, the most snapshot files the renderer diffs; these differ on all three sides.
    for n in range(snapshot_diff.MAX_SNAPSHOT_FILES - 1):
        for side in ("base", "head", "fresh"):
            lines = "".join(f' "{side} line {i} ````` @team {"x" * 400}",\n' for i in range(2000))
            write(artifacts, f"snapshots/{side}-stack-{n}.json", "{\n" + lines + "}\n")
    body = render(artifacts)
    assert len(body.encode("utf-8")) <= 60_000, len(body.encode("utf-8"))
    assert len([h for h in headings(body) if h.startswith(("## ", "### "))]) == 6, "all sections survive"
    assert sum("_Truncated: the first " in line for line in outside_code(body)) == 4
    # Clipped by bytes: multi-byte text (é, the ZWJ of a neutralised @) still fills its block.
    assert body.count(f"line 200 `code` ```` @{ZWJ}team") == 2 and "\u00e9" * 4_000 in body
    assert sum(" more lines not shown: " in line for line in outside_code(body)) == 14, "7 stale, 7 changed"


def test_the_fence_is_longer_than_any_run_it_holds() -> None:
    block = safe_markdown.fenced("a ``` b\n`````\n", "text")
    assert block.startswith("``````text\n") and block.endswith("\n``````")
    assert safe_markdown.fenced("plain", "text") == "```text\nplain\n```"


# --- what is in the artifact directory ----------------------------------------------------------------


def test_an_unexpected_file_in_an_artifact_rejects_the_whole_artifact(artifacts: Path) -> None:
    write(artifacts, "plan/plan-staging.md", FAKE_HEADING + "\n")
    write(artifacts, "plan/README.md", "@org/team look here\n")
    body = render(artifacts)
    assert FAKE_HEADING not in body and "look here" not in body
    assert "### Offline plan: `staging` (refused)" in headings(body)
    assert "The `plan` artifact was not read: it held unexpected entries (1)." in outside_code(body)
    assert "### Live preview: `staging` (clean)" in headings(body), "the other artifacts are still shown"


def test_a_symlink_or_directory_in_place_of_a_file_rejects_the_artifact(artifacts: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("runner secret\n")
    (artifacts / "preview-staging" / "preview-staging.txt").unlink()
    os.symlink(secret, artifacts / "preview-staging" / "preview-staging.txt")
    (artifacts / "preview-prod" / "preview-prod.txt").unlink()
    (artifacts / "preview-prod" / "preview-prod.txt").mkdir()
    body = render(artifacts)
    assert "runner secret" not in body
    assert "### Live preview: `staging` (refused)" in headings(body)
    assert "### Live preview: `prod` (refused)" in headings(body)


def test_unexpected_artifacts_beside_the_expected_ones_are_ignored(artifacts: Path) -> None:
    write(artifacts, "evil/plan-staging.md", FAKE_HEADING + "\n")
    write(artifacts, "plan-prod.md", FAKE_HEADING + "\n")
    body = render(artifacts)
    assert FAKE_HEADING not in body
    assert "Unexpected entries beside the expected artifacts were ignored: 2." in outside_code(body)


def test_a_missing_artifact_directory_renders_an_empty_comment(tmp_path: Path) -> None:
    body = render(tmp_path / "nothing-downloaded")
    assert len(headings(body)) == 6 and body.count("(no result)") == 4


# --- the PR number and the trusted run facts ----------------------------------------------------------


def test_the_pr_number_is_read_as_a_plain_positive_integer(artifacts: Path) -> None:
    assert run_artifacts.pr_number(run_artifacts.scan(artifacts)) == 17
    (artifacts / "plan" / "pr-number").unlink()
    assert run_artifacts.pr_number(run_artifacts.scan(artifacts)) is None


@pytest.mark.parametrize("given", ["0", "-3", "17 18", "17;rm -rf /", "1" * 11, "0x11", "", "\u0661\u0667"])
def test_a_malformed_pr_number_is_an_error(artifacts: Path, given: str) -> None:
    write(artifacts, "plan/pr-number", given)
    with pytest.raises(run_artifacts.ArtifactError):
        run_artifacts.pr_number(run_artifacts.scan(artifacts))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("head_sha", "0123456"),
        ("head_sha", SHA + "\n### Live preview"),
        ("base_repo", "acme/x y"),
        ("head_repo", "@org/team"),
        ("run_url", "javascript:alert(1)"),
        ("run_url", RUN_URL + ") [click](https://evil.example"),
    ],
)
def test_run_facts_are_validated_before_they_are_printed(field: str, value: str) -> None:
    facts = {"head_sha": SHA, "head_repo": BASE, "base_repo": BASE, "run_url": RUN_URL, "conclusion": "success"}
    facts[field] = value
    with pytest.raises(ValueError):
        rpc.Run(**facts)


def test_an_unknown_conclusion_is_printed_as_unknown(artifacts: Path) -> None:
    assert "conclusion: unknown)" in render(artifacts, conclusion="success](https://evil.example)")


# --- the command line as the workflow calls it --------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_the_cli_writes_the_body_and_the_pr_number_output(artifacts: Path, tmp_path: Path) -> None:
    out, outputs = tmp_path / "comment.md", tmp_path / "github-output"
    outputs.write_text("earlier=1\n")
    common = ["--head-sha", SHA, "--head-repo", FORK, "--base-repo", BASE, "--run-url", RUN_URL]
    result = cli("--artifacts", str(artifacts), *common, "--out", str(out), "--outputs", str(outputs))
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8").startswith(MARKER)
    assert outputs.read_text() == "earlier=1\npr-number=17\n"


def test_the_cli_refuses_a_malformed_pr_number_and_writes_no_output(artifacts: Path, tmp_path: Path) -> None:
    write(artifacts, "plan/pr-number", "17\npr-number=99")
    out, outputs = tmp_path / "comment.md", tmp_path / "github-output"
    common = ["--head-sha", SHA, "--head-repo", BASE, "--base-repo", BASE, "--run-url", RUN_URL]
    result = cli("--artifacts", str(artifacts), *common, "--out", str(out), "--outputs", str(outputs))
    assert result.returncode == 2 and "not a PR number" in result.stderr, result.stderr
    assert not out.exists() and not outputs.exists()


def test_the_cli_has_help() -> None:
    result = cli("--help")
    assert result.returncode == 0 and "--artifacts" in result.stdout, result.stderr


@pytest.mark.parametrize("planted", ["extra-file", "symlinked-plan", "symlink-beside"])
def test_the_pr_number_is_read_only_from_a_plan_artifact_that_passed_every_check(
    artifacts: Path, tmp_path: Path, planted: str
) -> None:
    if planted == "extra-file":
        write(artifacts, "plan/notes.txt", "hello\n")
    elif planted == "symlink-beside":
        (artifacts / "plan" / "plan-prod.md").unlink()
        os.symlink(tmp_path / "elsewhere.md", artifacts / "plan" / "plan-prod.md")
    else:  # the whole plan directory a link to one the run did not upload as `plan`
        elsewhere = tmp_path / "elsewhere"
        (artifacts / "plan").rename(elsewhere)
        os.symlink(elsewhere, artifacts / "plan")
    scanned = run_artifacts.scan(artifacts)
    if planted == "symlinked-plan":
        assert run_artifacts.pr_number(scanned) is None
    else:
        with pytest.raises(run_artifacts.ArtifactError, match="plan artifact held unexpected entries"):
            run_artifacts.pr_number(scanned)


def test_the_cli_writes_no_pr_number_from_a_rejected_plan_artifact(artifacts: Path, tmp_path: Path) -> None:
    write(artifacts, "plan/extra", "1\n")
    out, outputs = tmp_path / "comment.md", tmp_path / "github-output"
    common = ["--head-sha", SHA, "--head-repo", BASE, "--base-repo", BASE, "--run-url", RUN_URL]
    result = cli("--artifacts", str(artifacts), *common, "--out", str(out), "--outputs", str(outputs))
    assert result.returncode == 2 and "its PR number is not read" in result.stderr, result.stderr
    assert not outputs.exists()
