"""The GitHub Actions workflows keep their promises (docs/ci.md).

Schema and security linters first (check-jsonschema, zizmor --offline), then the promises read off the
parsed YAML: a secret-free markdown plan on every PR, one PR comment updated in place by a workflow that
runs no PR code and reads the artifacts only through the tested renderer (tests/test_pr_comment.py),
staging before prod with the promotion guard, deployments never cancelled, a timeout on every job, least
privilege everywhere, every action pinned to a commit and one exact Pulumi CLI version.
"""

from __future__ import annotations

import json
import modulefinder
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.provider_binding import MIN_PULUMI_CLI
from tests import docs_text

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
VERSION_FILE = ROOT / ".pulumi-version"
GENESYS_SECRETS = ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET")
STATE_SECRETS = ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE")
COMMENT_MARKER = "<!-- genesys-messaging-plan -->"
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+){0,2}\b")


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as the boolean True.
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def workflow(name: str) -> dict[str, Any]:
    return load(WORKFLOWS / name)


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in steps(job))


def pulumi_commands(job: dict[str, Any], verb: str) -> list[str]:
    """The `pulumi <verb> ...` command lines a job runs, continuation lines joined; echoes and comments excluded."""
    lines = re.sub(r"\\\n\s*", " ", runs(job)).splitlines()
    return [line.strip() for line in lines if re.match(rf"\s*pulumi {verb}\b", line)]


def all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(path.name, job_id, job) for path in workflow_files() for job_id, job in load(path)["jobs"].items()]


def tool(name: str) -> str:
    """A console script of the dev requirements: beside this Python first (the .venv), then PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed: pip install -r requirements-dev.txt"
    return found


def index_of(job: dict[str, Any], needle: str) -> int:
    matches = [i for i, step in enumerate(steps(job)) if needle in step.get("run", "")]
    assert matches, f"no step runs {needle!r}"
    return matches[0]


# --- linters ------------------------------------------------------------------------------------------


def test_the_expected_workflows_exist() -> None:
    names = {path.name for path in workflow_files()}
    assert {"pull-request.yml", "pr-comment.yml", "deploy.yml", "drift.yml"} <= names, names


def test_every_workflow_matches_github_workflow_schema() -> None:
    files = [str(path) for path in workflow_files()]
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_offline_finds_nothing() -> None:
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--format", "json", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    findings = json.loads(result.stdout or "null")
    summary = [(f["ident"], f["locations"][0]["symbolic"]["key"]) for f in findings or []]
    assert result.returncode == 0 and findings == [], f"zizmor exit {result.returncode}: {summary}\n{result.stderr}"


def test_every_zizmor_ignore_states_its_reason_on_the_same_line() -> None:
    for path in workflow_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "zizmor:" not in line:
                continue
            match = re.search(r"#\s*zizmor:\s*ignore\[[a-z0-9,\s-]+\](.*)$", line)
            assert match, f"{path.name}:{number}: malformed zizmor comment: {line.strip()}"
            reason = re.sub(r"^\W*(reason\s*:)?\s*", "", match.group(1)).strip()
            assert len(reason.split()) >= 3, f"{path.name}:{number}: zizmor ignore without a reason: {line.strip()}"


# --- pull requests ---------------------------------------------------------------------------------------


def test_no_workflow_uses_pull_request_target() -> None:
    for path in workflow_files():
        assert "pull_request_target" not in load(path)["on"], f"{path.name} uses pull_request_target"


def test_plan_job_runs_the_markdown_plan_of_both_stacks_without_secrets() -> None:
    flow = workflow("pull-request.yml")
    assert "pull_request" in flow["on"], "pull-request.yml must run on pull_request"
    job = flow["jobs"]["plan"]
    commands = runs(job)
    assert re.search(r"FORMAT=markdown|--format markdown", commands), "the plan job must produce the markdown plan"
    # The comment's heading tells a violation (1) from a plan that could not run (2): the code must be the
    # plan's own, and make reports every failed recipe as its own 2.
    assert re.search(r"-m preflight plan --stack \"\$stack\"", commands), "the plan job must run the offline plan"
    assert "make -s plan" not in commands, "make turns the plan's exit 1 into 2; run python -m preflight plan"
    assert job["needs"] == "stacks", "the plan job must plan the stacks the stack files list"
    assert re.search(r"for stack in \$\(jq -r '\.\[\]' <<< \"\$STACKS\"\)", commands), commands
    assert "needs.stacks.outputs.stacks" in yaml.safe_dump(job), "the plan job must read the listed stacks"
    text = yaml.safe_dump(job)
    assert "secrets." not in text, "the plan job must reference no secret (fork PRs have none)"
    for name in (*GENESYS_SECRETS, *STATE_SECRETS, "PULUMI_ACCESS_TOKEN"):
        assert name not in text, f"the plan job references {name}"
    assert "environment" not in job, "the plan job must not bind an environment (it runs for forks)"
    uploads = [s for s in steps(job) if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads and uploads[0]["with"]["name"] == "plan", "the plan job must upload the plan artifact"
    assert "pr-number" in commands, "the plan artifact must carry the PR number"


# --- the stack list: the stack files, so a third stack needs no workflow edit ----------------------------

PREVIEW_ENVIRONMENT = "${{ matrix.stack == 'prod' && 'production-preview' || format('{0}-preview', matrix.stack) }}"


def assert_matrix_of_listed_stacks(job: dict[str, Any]) -> None:
    assert job["needs"] == "stacks", job.get("needs")
    assert job["strategy"]["matrix"] == {"stack": "${{ fromJSON(needs.stacks.outputs.stacks) }}"}, job["strategy"]
    assert job["environment"]["name"] == PREVIEW_ENVIRONMENT, job["environment"]


def _list_stacks(name: str, folder: Path) -> subprocess.CompletedProcess[str]:
    (step,) = [s for s in steps(workflow(name)["jobs"]["stacks"]) if s.get("id") == "list"]
    output = folder / "github-output"
    output.write_text("")
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output)}
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=folder, env=env, capture_output=True, text=True)


@pytest.mark.parametrize("name", ["pull-request.yml", "drift.yml"])
def test_a_third_stack_file_joins_every_matrix_without_a_workflow_edit(tmp_path: Path, name: str) -> None:
    for file in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", "Pulumi.uat.yaml", "Pulumi.uat.yml.bak"):
        (tmp_path / file).write_text("config: {}\n")
    result = _list_stacks(name, tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = (tmp_path / "github-output").read_text().splitlines()
    assert line.startswith("stacks=") and json.loads(line.removeprefix("stacks=")) == ["prod", "staging", "uat"]
    job = workflow(name)["jobs"]["stacks"]
    assert job["permissions"] == {"contents": "read"}, job["permissions"]
    assert job["outputs"] == {"stacks": "${{ steps.list.outputs.stacks }}"}, job["outputs"]


@pytest.mark.parametrize("bad", ["Pulumi.$(id).yaml", "Pulumi.a b.yaml", "Pulumi.-x.yaml"])
def test_a_stack_file_name_that_is_no_stack_name_stops_the_list(tmp_path: Path, bad: str) -> None:
    (tmp_path / "Pulumi.prod.yaml").write_text("config: {}\n")
    (tmp_path / bad).write_text("config: {}\n")
    result = _list_stacks("drift.yml", tmp_path)
    assert result.returncode != 0 and "stack files must be" in result.stderr, result
    assert (tmp_path / "github-output").read_text() == "", "nothing may reach the matrix"


def test_the_committed_stack_files_are_the_listed_stacks(tmp_path: Path) -> None:
    for path in ROOT.glob("Pulumi.*.yaml"):
        shutil.copy2(path, tmp_path / path.name)
    result = _list_stacks("pull-request.yml", tmp_path)
    listed = json.loads((tmp_path / "github-output").read_text().removeprefix("stacks="))
    assert result.returncode == 0 and listed == sorted(p.name[7:-5] for p in ROOT.glob("Pulumi.*.yaml")), listed


def test_live_preview_runs_only_for_branches_of_this_repository_with_the_policy_pack() -> None:
    job = workflow("pull-request.yml")["jobs"]["preview"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"], job.get("if")
    assert_matrix_of_listed_stacks(job)
    preview = runs(job)
    for flag in ("pulumi preview", "--diff", "--policy-pack policy"):
        assert flag in preview, f"the preview job must run {flag}"
    assert not any(s.get("with", {}).get("comment-on-pr") for s in steps(job)), "only pr-comment.yml comments"


# --- estate snapshots: base, committed and generated, for the comment's diff ---------------------------


def snapshot_job() -> dict[str, Any]:
    return workflow("pull-request.yml")["jobs"]["snapshots"]


def step_running(job: dict[str, Any], needle: str) -> dict[str, Any]:
    return steps(job)[index_of(job, needle)]


def bash(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A `run:` script as GitHub runs it on Linux (`bash -e {0}`)."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-c", script],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args]
    return subprocess.run(command, cwd=repo, check=True, capture_output=True, text=True, timeout=60).stdout.strip()


@pytest.fixture
def pr_checkout(tmp_path: Path) -> tuple[Path, str]:
    """A clone as the snapshot job has it: a base commit, then the PR's (staging changed, prod gone, dev new)."""
    repo = tmp_path / "repo"
    (repo / "tests" / "snapshots").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for name, text in {"staging.json": "base staging\n", "prod.json": "base prod\n", "notes.txt": "x\n"}.items():
        (repo / "tests" / "snapshots" / name).write_text(text)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    (repo / "tests" / "snapshots" / "staging.json").write_text("pr staging\n")
    (repo / "tests" / "snapshots" / "prod.json").unlink()
    (repo / "tests" / "snapshots" / "dev.json").write_text("pr dev\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "pr")
    return repo, base


def test_snapshot_job_fetches_the_base_and_holds_no_secrets() -> None:
    job = snapshot_job()
    assert job["name"] == "Estate snapshots" and job["permissions"] == {"contents": "read"}, job
    assert "secrets." not in yaml.safe_dump(job) and "environment" not in job, "it runs for forks too"
    (checkout,) = [s for s in steps(job) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["fetch-depth"] == 0, "a shallow clone has no base commit to read snapshots from"
    collect = step_running(job, 'git show "$BASE_SHA:')
    assert collect["env"] == {"BASE_SHA": "${{ github.event.pull_request.base.sha }}"}, collect.get("env")
    assert '[[ "$BASE_SHA" =~ ^[0-9a-f]{40}$ ]]' in collect["run"], "the base is checked to be a commit id"
    (upload,) = [s for s in steps(job) if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["name"] == "snapshots" and upload["with"]["path"] == "snapshots/", upload
    assert upload["if"] == "${{ !cancelled() }}", "upload even when a step failed: the comment explains it"
    generate = step_running(job, "scripts/snapshot_estate.py --out")
    assert generate["if"] == "${{ !cancelled() }}", "staleness is news even when the base could not be read"
    order = [
        steps(job).index(collect),
        steps(job).index(generate),
        steps(job).index(upload),
        index_of(job, "cmp -s"),
    ]
    assert order == sorted(order) and order[-1] == len(steps(job)) - 1, "collect, generate, upload, then fail"


def test_the_collect_step_passes_the_base_and_the_committed_snapshots(pr_checkout: tuple[Path, str]) -> None:
    repo, base = pr_checkout
    result = bash(step_running(snapshot_job(), 'git show "$BASE_SHA:')["run"], repo, BASE_SHA=base)
    assert result.returncode == 0, result.stderr
    uploaded = {p.name: p.read_text() for p in (repo / "snapshots").iterdir()}
    assert uploaded == {
        "base-staging.json": "base staging\n",
        "base-prod.json": "base prod\n",  # deleted by the PR: base only
        "head-staging.json": "pr staging\n",
        "head-dev.json": "pr dev\n",  # a new stack: no base-dev.json
        "base.exit": "0\n",
    }


@pytest.mark.parametrize("given", ["", "main", "HEAD~1", "--output=/tmp/x", "0" * 40], ids=repr)
def test_the_collect_step_fails_without_a_readable_base(pr_checkout: tuple[Path, str], given: str) -> None:
    repo, _ = pr_checkout
    result = bash(step_running(snapshot_job(), 'git show "$BASE_SHA:')["run"], repo, BASE_SHA=given)
    assert result.returncode != 0, result.stdout
    assert not (repo / "snapshots" / "base.exit").exists(), "no base.exit: the comment must not call stacks new"


@pytest.mark.parametrize(
    ("fresh_exit", "generated", "code", "message"),
    [
        ("0\n", "pr staging\n", 0, ""),
        (
            "0\n",
            "regenerated staging\n",
            1,
            "::error file=tests/snapshots/staging.json::out of date: run make snapshot",
        ),
        ("1\n", "pr staging\n", 1, "::error::scripts/snapshot_estate.py exited 1"),
    ],
    ids=["up-to-date", "stale", "generator-failed"],
)
def test_the_job_fails_on_stale_snapshots(
    pr_checkout: tuple[Path, str], tmp_path: Path, fresh_exit: str, generated: str, code: int, message: str
) -> None:
    repo, _ = pr_checkout
    runner_temp = tmp_path / "runner-temp"
    (runner_temp / "fresh").mkdir(parents=True)
    (runner_temp / "fresh" / "staging.json").write_text(generated)
    (repo / "snapshots").mkdir()
    (repo / "snapshots" / "fresh.exit").write_text(fresh_exit)
    result = bash(step_running(snapshot_job(), "cmp -s")["run"], repo, RUNNER_TEMP=str(runner_temp))
    assert result.returncode == code, result.stdout + result.stderr
    assert message in result.stdout


def test_pr_comment_workflow_updates_one_comment_and_runs_no_pr_code() -> None:
    flow = workflow("pr-comment.yml")
    trigger = flow["on"]["workflow_run"]
    assert trigger["workflows"] == [workflow("pull-request.yml")["name"]], trigger
    assert trigger["types"] == ["completed"], trigger
    (job,) = flow["jobs"].values()
    assert job["permissions"] == {"actions": "read", "contents": "read", "pull-requests": "write"}, job["permissions"]
    script_step = next(s for s in steps(job) if s.get("uses", "").startswith("actions/github-script@"))
    script = script_step["with"]["script"]
    assert COMMENT_MARKER in script, "the comment must carry the hidden marker"
    assert "^[1-9][0-9]{0,9}$" in script, "the PR number from the artifact must be validated as an integer"
    assert "pr.head.sha !== process.env.HEAD_SHA" in script, "the PR must be the one this run built"
    flow_of_update = re.compile(
        r"const mine = comments\.find\([^;]*startsWith\(MARKER\)[^;]*;\s*"
        r"if \(mine\) \{\s*await github\.rest\.issues\.updateComment\(.*?\} else \{\s*"
        r"[^\n]*github\.rest\.issues\.createComment\(",
        re.S,
    )
    assert flow_of_update.search(script), "find the marked comment, update it, create only when there is none"
    assert script.count("createComment") == 1, "exactly one path may create a comment"


RENDERER = ROOT / "scripts" / "render_pr_comment.py"


def renderer_files() -> list[str]:
    """The renderer and every file of this repository it imports, as the standard library's modulefinder
    finds them (the script's directory first on the path, as when Python runs a script)."""
    finder = modulefinder.ModuleFinder(path=[str(RENDERER.parent), *sys.path])
    finder.run_script(str(RENDERER))
    files = {Path(m.__file__).resolve() for m in finder.modules.values() if m.__file__}
    venv = Path(sys.prefix).resolve()
    return sorted(str(f.relative_to(ROOT)) for f in files if ROOT in f.parents and venv not in f.parents)


def test_pr_comment_reads_only_the_expected_artifacts_through_the_tested_renderer() -> None:
    (job,) = workflow("pr-comment.yml")["jobs"].values()
    expected = {"plan", "preview-staging", "preview-prod", "snapshots"}
    downloads = [s for s in steps(job) if s.get("uses", "").startswith("actions/download-artifact@")]
    assert {s["with"].get("name") for s in downloads} == expected, "download each artifact by its exact name"
    for step in downloads:
        name = step["with"]["name"]
        assert not {"pattern", "merge-multiple", "artifact-ids"} & set(step["with"]), f"{name}: by name only"
        assert step["with"]["path"] == f"${{{{ runner.temp }}}}/artifacts/{name}", step["with"]["path"]
        if name.startswith("preview-"):
            assert step["if"] == "github.event.workflow_run.head_repository.full_name == github.repository", (
                f"{name}: a fork's run has no previews; its preview artifacts are never downloaded"
            )
    # The only code this workflow checks out and runs: the renderer, from the default branch's commit.
    checkouts = [s for s in steps(job) if s.get("uses", "").startswith("actions/checkout@")]
    assert len(checkouts) == 1, "pr-comment.yml checks out the renderer only"
    checkout = checkouts[0]["with"]
    assert not {"ref", "repository"} & set(checkout), "a workflow_run checkout without ref is the default branch"
    sparse = checkout["sparse-checkout"].split()
    assert not [p for p in sparse if re.search(r"[*?\[\]!\\]|/$", p)], "exact file paths, never a pattern"
    assert sorted(sparse) == renderer_files(), "the renderer and exactly the files it imports"
    assert all((ROOT / path).is_file() for path in sparse), sparse
    shells = [s for s in steps(job) if "run" in s]
    assert len(shells) == 1, "one shell step: the renderer"
    command = re.sub(r"\\\n\s*", " ", shells[0]["run"]).strip()
    renderer = f"python3 {checkout['path']}/{RENDERER.relative_to(ROOT)} "
    assert command.startswith(renderer) and not re.search(r"[;&|`]|\$\(", command), command
    order = [i for i, s in enumerate(steps(job)) if s in (*downloads, checkouts[0], shells[0])]
    poster = next(i for i, s in enumerate(steps(job)) if s.get("uses", "").startswith("actions/github-script@"))
    assert order == list(range(len(order))) and poster == len(order), "download, check out, render, then post"
    poster_env = steps(job)[poster]["env"]
    assert "ARTIFACTS" not in poster_env, "the step that posts must not read the artifacts itself"
    assert poster_env["PR_NUMBER"] == "${{ steps.render.outputs.pr-number }}", poster_env
    assert shells[0]["env"]["BODY"] == poster_env["BODY"], "post exactly the rendered body"
    assert "fs.readFileSync(process.env.BODY" in steps(job)[poster]["with"]["script"]


def test_the_render_step_needs_nothing_but_the_sparse_checkout(tmp_path: Path) -> None:
    """The render step's own script, run in a workspace holding only the sparse-checkout paths, renders
    byte for byte what the same step renders with the whole repository checked out."""
    (job,) = workflow("pr-comment.yml")["jobs"].values()
    (checkout,) = [s["with"] for s in steps(job) if s.get("uses", "").startswith("actions/checkout@")]
    (step,) = [s for s in steps(job) if "run" in s]
    sparse, full, temp = tmp_path / "sparse", tmp_path / "full", tmp_path / "runner-temp"
    for path in checkout["sparse-checkout"].split():
        (sparse / checkout["path"] / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / path, sparse / checkout["path"] / path)
    full.mkdir()
    (full / checkout["path"]).symlink_to(ROOT, target_is_directory=True)
    snapshot = {"outputs": {}, "resources": [{"inputs": {"name": "stg-Support"}, "type": "t", "urn": "u::queue"}]}
    renamed = json.loads(json.dumps(snapshot))
    renamed["resources"][0]["inputs"]["name"] = "stg-Web Support"
    artifacts = {
        "plan/pr-number": "17\n",
        "plan/plan-staging.md": "## Plan for staging\n\n- queue: create\n",
        "plan/plan-staging.exit": "0\n",
        "snapshots/base-staging.json": json.dumps(snapshot, indent=1, sort_keys=True) + "\n",
        "snapshots/head-staging.json": json.dumps(renamed, indent=1, sort_keys=True) + "\n",
        "snapshots/fresh-staging.json": json.dumps(renamed, indent=1, sort_keys=True) + "\n",
        "snapshots/base.exit": "0\n",
        "snapshots/fresh.exit": "0\n",
    }
    for relative, text in artifacts.items():
        (temp / "artifacts" / relative).parent.mkdir(parents=True, exist_ok=True)
        (temp / "artifacts" / relative).write_text(text)
    event = {
        "runner.temp": str(temp),
        "github.event.workflow_run.head_sha": "0123456789abcdef0123456789abcdef01234567",
        "github.event.workflow_run.head_repository.full_name": "acme/genesys-messaging",
        "github.repository": "acme/genesys-messaging",
        "github.event.workflow_run.html_url": "https://github.com/acme/genesys-messaging/actions/runs/42",
        "github.event.workflow_run.conclusion": "success",
    }
    env = {name: re.sub(r"\$\{\{ (.+?) \}\}", lambda m: event[m[1]], value) for name, value in step["env"].items()}
    # python3 is this interpreter with neither site-packages nor PYTHON* variables (-S -E; not -I, which would
    # also drop the script's directory from sys.path): it imports only the standard library and the checkout.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3").write_text(f'#!/bin/sh\nexec "{sys.executable}" -S -E "$@"\n')
    (tmp_path / "bin" / "python3").chmod(0o755)
    path = f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"
    bodies = {}
    for workspace in (sparse, full):
        outputs, body = tmp_path / f"{workspace.name}-output", tmp_path / f"{workspace.name}.md"
        result = bash(step["run"], workspace, **{**env, "BODY": str(body)}, GITHUB_OUTPUT=str(outputs), PATH=path)
        assert result.returncode == 0, f"{workspace.name}: {result.stderr}"
        assert outputs.read_text() == "pr-number=17\n", workspace.name
        bodies[workspace.name] = body.read_bytes()
    assert bodies["sparse"] == bodies["full"], "the sparse checkout must render what the whole repository renders"
    text = bodies["sparse"].decode("utf-8")
    assert text.startswith(COMMENT_MARKER + "\n") and "## Plan for staging" in text, text[:300]
    assert '+    "name": "stg-Web Support"' in text, "the snapshot section (pr_comment.snapshot_diff) ran"


# --- deployments -----------------------------------------------------------------------------------------


def test_deploy_runs_on_push_to_main_staging_then_prod() -> None:
    flow = workflow("deploy.yml")
    assert flow["on"] == {"push": {"branches": ["main"]}}, flow["on"]
    staging, prod = flow["jobs"]["staging"], flow["jobs"]["prod"]
    assert staging["environment"]["name"] == "staging"
    assert re.search(r"pulumi up --stack staging\b.*--policy-pack policy", runs(staging)), runs(staging)
    needs = prod["needs"] if isinstance(prod["needs"], list) else [prod["needs"]]
    assert "staging" in needs, "prod must need the staging job"
    assert prod["environment"]["name"] == "production", "prod must be bound to the production environment"
    assert re.search(r"pulumi up --stack prod\b.*--policy-pack policy", runs(prod)), runs(prod)


def test_prod_deploys_the_same_commit_after_the_promotion_guard() -> None:
    prod = workflow("deploy.yml")["jobs"]["prod"]
    checkout = next(s for s in steps(prod) if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["ref"] == "${{ github.sha }}", "prod must check out github.sha"
    guard = index_of(prod, "-m preflight promote --from staging --to prod")
    assert guard < index_of(prod, "pulumi up"), "the promotion guard must run before pulumi up"
    assert not steps(prod)[guard].get("continue-on-error"), "a failed promotion guard must stop the job"


def test_deployments_have_a_per_stack_concurrency_group_that_never_cancels() -> None:
    groups = {}
    for name, job_id, job in all_jobs():
        if "pulumi up" not in runs(job):
            continue
        flow_level = load(WORKFLOWS / name).get("concurrency", {})
        assert not isinstance(flow_level, dict) or flow_level.get("cancel-in-progress") is not True, name
        concurrency = job.get("concurrency")
        assert isinstance(concurrency, dict), f"{name}:{job_id} deploys without a concurrency group"
        assert concurrency.get("cancel-in-progress") is False, f"{name}:{job_id} may cancel a running pulumi up"
        stack = re.search(r"pulumi up --stack (\S+)", runs(job)).group(1)
        assert stack in concurrency["group"], f"{name}:{job_id}: group {concurrency['group']!r} is not per stack"
        groups[concurrency["group"]] = stack
    assert sorted(groups.values()) == ["prod", "staging"], groups


def test_drift_check_runs_nightly_and_only_the_report_job_writes_issues() -> None:
    flow = workflow("drift.yml")
    assert flow["on"]["schedule"], "drift.yml must run on a schedule"
    check, report = flow["jobs"]["check"], flow["jobs"]["report"]
    assert_matrix_of_listed_stacks(check)
    assert "stacks" in report["needs"] and "JSON.parse(process.env.STACKS)" in report["steps"][-1]["with"]["script"]
    assert report["steps"][-1]["env"]["STACKS"] == "${{ needs.stacks.outputs.stacks }}", report["steps"][-1]["env"]
    refreshes, previews = pulumi_commands(check, "refresh"), pulumi_commands(check, "preview")
    assert refreshes and previews, runs(check)
    for command in refreshes + previews:
        assert "--expect-no-changes" in command, f"drift check without --expect-no-changes: {command}"
    for command in refreshes:
        assert "--preview-only" in command, f"the nightly refresh must not write state: {command}"
    assert not pulumi_commands(check, "up"), "the drift check must not deploy"
    for job_id, job in flow["jobs"].items():
        issues = job["permissions"].get("issues")
        assert issues is None or job_id == "report", f"drift.yml:{job_id} must not hold issues permission"
    assert report["permissions"].get("issues") == "write"
    assert "secrets." not in yaml.safe_dump(report), "the job that writes issues must hold no secrets"


# --- least privilege and supply chain --------------------------------------------------------------------


def reads_state(job: dict[str, Any]) -> bool:
    """The job runs a Pulumi command on a stack's state (so it may need the state bucket's credentials)."""
    return any(pulumi_commands(job, verb) for verb in ("preview", "up", "refresh"))


def test_permissions_are_least_privilege_at_the_top_and_set_on_every_job() -> None:
    allowed_writes = {("pr-comment.yml", "comment", "pull-requests"), ("drift.yml", "report", "issues")}
    for path in workflow_files():
        top = load(path).get("permissions")
        assert top in ({}, {"contents": "read"}), f"{path.name}: top-level permissions {top!r}"
    for name, job_id, job in all_jobs():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{name}:{job_id} has no explicit permissions map"
        # An OIDC token for the state bucket, in exactly the jobs that read state, beside their secrets.
        if reads_state(job):
            assert permissions.get("id-token") == "write", f"{name}:{job_id} reads state without id-token: write"
        else:
            assert "id-token" not in permissions, f"{name}:{job_id} may mint an OIDC token it does not use"
        for scope, level in permissions.items():
            if level == "write" and scope != "id-token":
                assert (name, job_id, scope) in allowed_writes, f"{name}:{job_id} may write {scope}"
                assert "secrets." not in yaml.safe_dump(job), f"{name}:{job_id} writes {scope} and holds secrets"


def test_jobs_with_secrets_are_bound_to_an_environment_and_pass_them_through_env() -> None:
    for name, job_id, job in all_jobs():
        text = yaml.safe_dump(job)
        if "secrets." not in text:
            continue
        assert "environment" in job, f"{name}:{job_id} reads secrets outside a GitHub Environment"
        for secret in (*GENESYS_SECRETS, *STATE_SECRETS):
            assert f"secrets.{secret}" in text, f"{name}:{job_id} does not pass {secret}"


def test_no_expression_is_expanded_inside_a_shell_or_script() -> None:
    for name, job_id, job in all_jobs():
        for step in steps(job):
            code = step.get("run", "") + step.get("with", {}).get("script", "")
            assert "${{" not in code, f"{name}:{job_id}: pass values through env, not ${{{{ }}}} in code"


def test_every_checkout_drops_its_credentials() -> None:
    checkouts = 0
    for name, job_id, job in all_jobs():
        for step in steps(job):
            if step.get("uses", "").startswith("actions/checkout@"):
                checkouts += 1
                assert step.get("with", {}).get("persist-credentials") is False, f"{name}:{job_id}"
    assert checkouts, "no checkout found"


def test_every_action_is_pinned_to_a_commit_with_its_version_in_a_comment() -> None:
    pins: dict[str, set[str]] = {}
    for path in workflow_files():
        lines = path.read_text().splitlines()
        uses_lines = [line for line in lines if re.match(r"^\s*(-\s+)?uses:", line)]
        assert uses_lines, f"{path.name} uses no action"
        for line in uses_lines:
            ref = line.split("uses:", 1)[1].split("#", 1)[0].strip()
            assert PINNED.match(ref), f"{path.name}: {ref!r} is not pinned to a 40-hex commit"
            assert VERSION_COMMENT.search(line), f"{path.name}: {ref!r} lacks its version comment"
            action, sha = ref.split("@")
            pins.setdefault(action, set()).add(sha)
    for _name, _job_id, job in all_jobs():
        if "uses" in job:
            assert PINNED.match(job["uses"]), job["uses"]
    assert {a: s for a, s in pins.items() if len(s) > 1} == {}, "one action, one pinned commit everywhere"


def test_pulumi_cli_version_is_exact_recent_enough_and_given_in_one_place() -> None:
    version = VERSION_FILE.read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), f".pulumi-version must be exact, got {version!r}"
    assert tuple(int(part) for part in version.split(".")) >= MIN_PULUMI_CLI, f"Pulumi CLI {version} is too old"
    sdk = re.search(r"^pulumi==([\d.]+)$", (ROOT / "constraints.txt").read_text(), re.M)
    assert sdk and sdk.group(1) == version, "the SDK is pinned to the CLI version (constraints.txt)"
    installs = 0
    for name, job_id, job in all_jobs():
        for step in steps(job):
            if step.get("uses", "").startswith("pulumi/actions@"):
                installs += 1
                assert step["with"] == {"pulumi-version-file": ".pulumi-version"}, f"{name}:{job_id}: {step['with']}"
        if re.search(r"^\s*pulumi ", runs(job), re.M):
            first_install = next(i for i, s in enumerate(steps(job)) if s.get("uses", "").startswith("pulumi/actions@"))
            assert first_install < index_of(job, "pulumi "), f"{name}:{job_id} runs pulumi before installing it"
    assert installs >= 4, installs
    for path in workflow_files():
        text = path.read_text()
        assert "get.pulumi.com" not in text and "pulumi-version:" not in text, f"{path.name} installs another way"
        assert not re.search(r"pulumi[^\n]*\b3\.\d+\.\d+", text), f"{path.name} names a Pulumi version"


def test_every_job_has_a_timeout() -> None:
    # The default is 6 hours of a hung runner; a reusable-workflow call takes its callee's timeouts.
    for name, job_id, job in all_jobs():
        if "uses" in job:
            continue
        timeout = job.get("timeout-minutes")
        assert isinstance(timeout, int) and 1 <= timeout <= 60, f"{name}:{job_id}: timeout-minutes {timeout!r}"
        if "pulumi up" in runs(job):
            assert timeout >= 30, f"{name}:{job_id}: a timeout cancels pulumi up; leave it room ({timeout})"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_every_job_runs_on_a_pinned_runner_image(path: Path) -> None:
    for job_id, job in load(path)["jobs"].items():
        assert re.fullmatch(r"ubuntu-\d\d\.\d\d", job["runs-on"]), f"{path.name}:{job_id}: {job['runs-on']}"


def test_live_previews_report_one_fixed_check_that_passes_when_skipped_for_forks() -> None:
    job = workflow("pull-request.yml")["jobs"]["previews"]
    assert job["name"] == "Live previews" and job["needs"] == "preview", job
    assert "!cancelled()" in job["if"], "the check must report even when the previews failed or were skipped"
    assert job["steps"][0]["env"]["RESULT"] == "${{ needs.preview.result }}"
    assert re.search(r'\[ "\$RESULT" = success \] \|\| \[ "\$RESULT" = skipped \]', runs(job)), runs(job)


def test_every_policy_pack_run_gets_its_stack_config():
    # The rules read region and environment from the pack config; without it they fall back and guess.
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text().splitlines():
            if "--policy-pack policy" in line and line.strip().startswith("pulumi "):
                assert "--policy-pack-config" in line, f"{path.name}: {line.strip()}"


def test_deploy_refuses_placeholder_secrets_before_each_pulumi_up() -> None:
    deploy = load(WORKFLOWS / "deploy.yml")
    for job_id in ("staging", "prod"):
        job = deploy["jobs"][job_id]
        guard = index_of(job, f"preflight plan --stack {job_id} --require-real-secrets")
        assert guard < index_of(job, "pulumi up"), f"deploy.yml:{job_id} runs pulumi up before the placeholder check"


# --- object-store state: OIDC cloud credentials, switched on by a variable ------------------------------

STATE_CLOUD = "vars.PULUMI_STATE_CLOUD"
# The official action of each cloud and the inputs it takes for GitHub OIDC (each action's action.yml at the
# pinned commit: aws-actions/configure-aws-credentials v6.2.3, google-github-actions/auth v3.0.0, Azure/login v3.0.1).
CLOUD_ACTIONS = {
    "aws": ("aws-actions/configure-aws-credentials", {"role-to-assume", "aws-region"}),
    "gcp": ("google-github-actions/auth", {"workload_identity_provider", "service_account"}),
    "azure": ("azure/login", {"client-id", "tenant-id", "subscription-id"}),
}


def github_if(expression: str, value: str) -> bool:
    """A step's `if:` over PULUMI_STATE_CLOUD, evaluated as GitHub does (string comparison ignores case)."""
    body = re.fullmatch(r"\$\{\{(.*)\}\}", expression.strip(), re.S)
    code = (body.group(1) if body else expression).replace("&&", " and ").replace("||", " or ")
    code = re.sub(r"'([^']*)'", lambda m: repr(m.group(1).lower()), code).replace(STATE_CLOUD, "cloud")
    assert re.fullmatch(r"[\s()!=a-z'_]*", code.replace(" and ", "").replace(" or ", "")), f"unexpected: {code}"
    return bool(eval(code, {"__builtins__": {}}, {"cloud": value.lower()}))  # the expression is checked above


def cloud_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in steps(job) if STATE_CLOUD in str(s.get("if", ""))]


def test_every_job_reading_state_gets_the_same_cloud_credential_steps() -> None:
    state_jobs = [(name, job_id, job) for name, job_id, job in all_jobs() if reads_state(job)]
    assert {(n, j) for n, j, _ in state_jobs} == {
        ("deploy.yml", "staging"),
        ("deploy.yml", "prod"),
        ("pull-request.yml", "preview"),
        ("drift.yml", "check"),
    }, state_jobs
    first = cloud_steps(state_jobs[0][2])
    for name, job_id, job in all_jobs():
        if reads_state(job):
            assert cloud_steps(job) == first, f"{name}:{job_id}: its cloud credential steps differ from the others'"
        else:
            assert not cloud_steps(job), f"{name}:{job_id} reads no state but sets cloud credentials"


@pytest.mark.parametrize(
    ("name", "job_id"),
    [("deploy.yml", "staging"), ("deploy.yml", "prod"), ("pull-request.yml", "preview"), ("drift.yml", "check")],
)
def test_cloud_credentials_come_from_the_official_action_chosen_by_the_variable(name: str, job_id: str) -> None:
    job = workflow(name)["jobs"][job_id]
    chosen = cloud_steps(job)
    for cloud, (action, inputs) in CLOUD_ACTIONS.items():
        (step,) = [s for s in chosen if s.get("uses", "").split("@")[0].lower() == action]
        assert github_if(step["if"], cloud), f"{action} does not run for {STATE_CLOUD} == {cloud}"
        assert set(step["with"]) == inputs, f"{action}: {step['with']}"
        for key, value in step["with"].items():
            # Identities are settings, not secrets: variables, never a literal and never a secret.
            assert re.fullmatch(r"\$\{\{ vars\.PULUMI_STATE_[A-Z_]+ \}\}", value), f"{action}: {key}: {value}"
    # Exactly one credential step for each cloud, none without the variable, and a typo stops the job.
    for value in ("", "aws", "gcp", "azure", "AWS", "s3", "gcs", "azblob"):
        running = [s.get("uses", "guard").split("@")[0] for s in chosen if github_if(s["if"], value)]
        known = value.lower() in CLOUD_ACTIONS
        if value == "":
            assert running == [], f"unset: nothing may run, {running} does"
        elif known:
            assert running == [CLOUD_ACTIONS[value.lower()][0]], f"{value}: {running}"
        else:
            assert running == ["guard"], f"{value!r} must stop the job, not pass without credentials: {running}"
    (guard,) = [s for s in chosen if "run" in s]
    assert bash(guard["run"], ROOT).returncode == 1, "the guard step must fail the job"
    # After the install (no package install runs with cloud credentials), before the first Pulumi command.
    indices = [steps(job).index(s) for s in chosen]
    assert indices == list(range(indices[0], indices[0] + len(chosen))), "the cloud steps are one run of steps"
    assert index_of(job, "pip install") < indices[0], "the package install must come before the cloud credentials"
    first_pulumi = min(i for i, s in enumerate(steps(job)) if re.search(r"^\s*pulumi ", s.get("run", ""), re.M))
    assert indices[-1] < first_pulumi, "the cloud steps must run before Pulumi reads the state"


def test_every_state_variable_is_documented() -> None:
    used = set()
    for path in workflow_files():
        used |= set(re.findall(r"vars\.([A-Z_]+)", path.read_text()))
    assert "PULUMI_STATE_CLOUD" in used, used
    ci = (ROOT / "docs" / "ci.md").read_text()
    readme = docs_text.section("Setting up the repository")
    for variable in used:
        assert f"`{variable}`" in ci, f"docs/ci.md does not document {variable}"
    assert "`PULUMI_STATE_CLOUD`" in readme, "the README's repository set-up does not name PULUMI_STATE_CLOUD"


# --- the deploy jobs: doctor first, an empty preview after `up` -----------------------------------------


def sandbox(where: Path, **exits: int) -> tuple[Path, dict[str, str]]:
    """A directory whose `pulumi` (on PATH) and .venv/bin/python record their argv and exit as told (per pulumi
    verb, `doctor` for the python one); returns it and the environment to run a step's script in it."""
    bin_dir, log = where / "bin", where / "calls"
    (where / ".venv" / "bin").mkdir(parents=True)
    bin_dir.mkdir()
    verbs = f"up) exit {exits.get('up', 0)};; preview) exit {exits.get('preview', 0)};;"
    (bin_dir / "pulumi").write_text(f'#!/bin/sh\necho "pulumi $*" >> "{log}"\ncase "$1" in {verbs} esac\n')
    (where / ".venv" / "bin" / "python").write_text(
        f'#!/bin/sh\necho "python $*" >> "{log}"\nexit {exits.get("doctor", 0)}\n'
    )
    for stub in (bin_dir / "pulumi", where / ".venv" / "bin" / "python"):
        stub.chmod(0o755)
    return where, {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def calls(where: Path) -> list[str]:
    log = where / "calls"
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_deploy_runs_doctor_before_pulumi_up_and_stops_on_its_exit_1(stack: str, tmp_path: Path) -> None:
    job = workflow("deploy.yml")["jobs"][stack]
    doctor = index_of(job, f".venv/bin/python -m preflight doctor --stack {stack}")
    assert doctor < index_of(job, "pulumi up"), f"deploy.yml:{stack} runs pulumi up before the doctor"
    step = steps(job)[doctor]
    assert not step.get("continue-on-error") and "if" not in step, f"deploy.yml:{stack}: the doctor must gate"
    # The doctor needs the deployer's client and nothing else: no state, no passphrase.
    assert set(step["env"]) == set(GENESYS_SECRETS), step["env"]
    problem, env = sandbox(tmp_path / "problem", doctor=1)
    assert bash(step["run"], problem, **env).returncode != 0, "the doctor's exit 1 must fail the step"
    # --before-up: the deploy creates what the org lacks, so a missing object is not a problem there.
    assert calls(problem) == [f"python -m preflight doctor --stack {stack} --before-up"], calls(problem)
    clean, env = sandbox(tmp_path / "clean", doctor=0)
    assert bash(step["run"], clean, **env).returncode == 0


def _options(command: str) -> dict[str, str]:
    words = command.split()
    return {
        w: words[i + 1] for i, w in enumerate(words[:-1]) if w in ("--stack", "--policy-pack", "--policy-pack-config")
    }


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_deploy_previews_after_each_up_and_fails_on_any_change(stack: str, tmp_path: Path) -> None:
    job = workflow("deploy.yml")["jobs"][stack]
    (up,) = pulumi_commands(job, "up")
    (preview,) = pulumi_commands(job, "preview")
    assert "--expect-no-changes" in preview, preview
    assert (
        _options(preview)
        == _options(up)
        == {
            "--stack": stack,
            "--policy-pack": "policy",
            "--policy-pack-config": f"policy/config.{stack}.json",
        }
    ), (up, preview)
    step = steps(job)[index_of(job, "pulumi up")]
    clean, env = sandbox(tmp_path / "clean")
    assert bash(step["run"], clean, **env).returncode == 0
    assert [c.split()[1] for c in calls(clean)] == ["up", "preview"], "the preview follows the up"
    changed, env = sandbox(tmp_path / "changed", preview=1)
    assert bash(step["run"], changed, **env).returncode != 0, "a preview that finds changes must fail the deploy"
    failed, env = sandbox(tmp_path / "failed", up=1)
    assert bash(step["run"], failed, **env).returncode != 0
    assert [c.split()[1] for c in calls(failed)] == ["up"], "no preview after a failed up"


def test_staging_runs_verify_after_its_up_and_prod_waits_for_it(tmp_path: Path) -> None:
    deploy = workflow("deploy.yml")
    staging = deploy["jobs"]["staging"]
    verify = index_of(staging, ".venv/bin/python -m preflight verify --stack staging")
    assert verify > index_of(staging, "pulumi up"), "deploy.yml: verify proves what the up deployed, after it"
    step = steps(staging)[verify]
    assert not step.get("continue-on-error"), "deploy.yml: verify must gate prod"
    # Off only when the repository says so; any other value (unset included) runs it.
    assert step["if"] == "${{ vars.PREFLIGHT_VERIFY != 'off' }}", step.get("if")
    # The verify client and the test user's inputs only: no state, no passphrase, no deployer secret.
    assert set(step["env"]) == {
        "PREFLIGHT_VERIFY_OAUTHCLIENT_ID",
        "PREFLIGHT_VERIFY_OAUTHCLIENT_SECRET",
        "PREFLIGHT_VERIFY_AUTH_CODE_COMMAND",
        "PREFLIGHT_VERIFY_REDIRECT_URI",
        "PREFLIGHT_VERIFY_SUB",
        "PREFLIGHT_VERIFY_IDP_USERNAME",
        "PREFLIGHT_VERIFY_IDP_PASSWORD",
        "PREFLIGHT_VERIFY_TICKET_TOKEN",
    }, step["env"]
    # A failed link (exit 1) fails the job, and prod needs the job.
    failing, env = sandbox(tmp_path / "failing", doctor=1)
    assert bash(step["run"], failing, **env).returncode != 0
    needs = deploy["jobs"]["prod"]["needs"]
    assert "staging" in (needs if isinstance(needs, list) else [needs])
