"""A fork with its own valid values keeps `make test` green.

The committed stack files are a team's own settings: a team adopting the project replaces the
example values with theirs (another region, domains, identity provider, CRM, prefix, queue). This
test does exactly that in a scratch copy of the repository, then runs the tests there that could see
the committed stack files (tests/conftest.py records them while the suite runs; this test runs last).
Run on its own, it reruns the whole suite. Under pytest-xdist a worker knows only its own tests, so
`make test` runs this test in a pass of its own after the parallel one, with the union of the
workers' record (`--rerun-committed`, tests/conftest.py); a worker given no record reruns everything.
Tests that need known values read tests/fixtures/; tests that read the committed stacks assert properties.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import FIXTURES_SEEING, ROOT, SEES_COMMITTED, stack_config

NESTED = "GENESYS_MESSAGING_FORK_TEST"
# Hand-picked valid values, none of them the examples': a German team, staging in an org of its own.
FORK = {
    "region": {"staging": "eu-west-2", "prod": "eu-central-1"},  # staging an org of its own
    "domains": {"www": ["www.acme-shop.de", "acme-shop.de"], "support": ["hilfe.acme-shop.de"]},
    "staging_domains": {"www": ["www.test.acme-shop.de"], "support": ["hilfe.test.acme-shop.de"]},
    "discovery": "https://id.acme-shop.de/realms/kunden/.well-known/openid-configuration",
    "crm": "https://api.acme-crm.de/v3",
    "contact": "https://app.acme-crm.de/kunden/{{externalId.value}}",
    "queue": "Kundenservice Chat",
}


def _tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True
    )
    return [line for line in listed.stdout.splitlines() if line and (ROOT / line).is_file()]


def _rewrite_stack(path: Path, stack: str) -> None:
    """The stack file with the fork's values; secrets stay `secure:` entries, as in any real stack file."""
    document = yaml.safe_load(path.read_text())
    config = document["config"]
    config["genesys-messaging:region"] = FORK["region"][stack]
    if stack == "staging":
        config["genesys-messaging:namePrefix"] = "qa-"
    domains = FORK["staging_domains" if stack == "staging" else "domains"]
    config["genesys-messaging:sites"] = {
        key: {"domains": hosts, "languages": ["de", "en-us"], "defaultLanguage": "de"} for key, hosts in domains.items()
    }
    idp = config["genesys-messaging:identityProvider"]
    idp.update(discoveryUri=FORK["discovery"], clientId=f"genesys-{stack}")
    # The fork runs its own API (the custom preset), another kind than the committed stacks: tests must
    # hold for any preset. Its password is the committed file's secret, whichever key held it.
    crm = config["genesys-messaging:crm"]
    secret = next(value for value in crm.values() if isinstance(value, dict) and "secure" in value)
    config["genesys-messaging:crm"] = {
        "kind": "custom",
        "baseUrl": FORK["crm"],
        "contactUrlTemplate": FORK["contact"],
        "username": f"genesys-{stack}",
        "password": secret,
        "ticketPath": "/v3/cases",
    }
    config["genesys-messaging:routing"] = {"queueName": FORK["queue"]}
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def _regenerate_policy_config(fork: Path, stack: str) -> None:
    """What the README asks of a team moving region: the command that derives the policy config from the stack."""
    command = [sys.executable, "-m", "preflight", "policy-config", "--stack", stack, "--write"]
    result = subprocess.run(command, cwd=fork, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(command)}: {result.stderr}"
    written = json.loads((fork / "policy" / f"config.{stack}.json").read_text())
    assert {v["region"] for v in written.values()} == {FORK["region"][stack]}, written


def _rewrite_bootstrap(folder: Path) -> None:
    """What a team with two orgs commits: one bootstrap stack per org, in each stack's region."""
    document = yaml.safe_load((folder / "Pulumi.org.yaml").read_text())
    document["config"]["genesys-messaging-bootstrap:region"] = FORK["region"]["prod"]
    (folder / "Pulumi.org.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    document["config"]["genesys-messaging-bootstrap:region"] = FORK["region"]["staging"]
    (folder / "Pulumi.qa.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


def test_a_test_that_opens_a_committed_stack_file_or_spawns_a_process_is_rerun_in_the_fork(request):
    # What the fork test selects: a test is recorded the moment it could see a committed stack file.
    me = request.node.nodeid
    assert me not in SEES_COMMITTED
    stack_config("prod")
    assert me in SEES_COMMITTED
    SEES_COMMITTED.discard(me)
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert me in SEES_COMMITTED


def test_a_fixture_whose_set_up_read_a_committed_stack_file_marks_every_test_that_uses_it(run):
    # The `run` fixture's value is cached after its first set-up, which alone opens the file.
    assert "run" in FIXTURES_SEEING


def selected_tests(config: pytest.Config) -> list[str]:
    """What the fork reruns: the record of an earlier pass, else this session's; none means everything."""
    record = config.getoption("rerun_committed")
    if record:
        seen = set(Path(record).read_text().splitlines())  # a missing record fails here, not by rerunning nothing
    elif hasattr(config, "workerinput"):
        return []  # an xdist worker saw only its own share of the suite
    else:
        seen = SEES_COMMITTED
    return sorted(test for test in seen if not test.startswith("tests/test_fork.py"))


def test_the_parallel_pass_records_every_workers_tests_for_the_fork(tmp_path: Path):
    # Two workers, a test that opens a committed stack file and one that sees none. The controller runs
    # no test itself: the record it writes names the first only if it collected the workers' records.
    sees = "tests/test_fork.py::test_a_test_that_opens_a_committed_stack_file_or_spawns_a_process_is_rerun_in_the_fork"
    blind = "tests/test_schema_check.py::test_hand_written_cases_the_check_proves_valid"
    record = tmp_path / "seen.txt"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "each"]
    result = subprocess.run(
        [*command, f"--record-committed={record}", sees, blind], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "bringing up nodes" in result.stdout, result.stdout[-2000:]  # xdist's workers ran the tests
    seen = record.read_text().splitlines()
    assert sees in seen and not any(test.startswith(blind) for test in seen), seen


@pytest.mark.skipif(os.environ.get(NESTED) == "1", reason="this is the fork's own run")
def test_a_fork_with_other_valid_values_passes_the_suite(tmp_path: Path, pytestconfig: pytest.Config):
    fork = tmp_path / "fork"
    for name in _tracked_files():
        target = fork / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    if (ROOT / ".venv").is_dir():  # the fork's `make venv` reuses the environment instead of installing again
        (fork / ".venv").symlink_to(ROOT / ".venv")
    for stack in ("staging", "prod"):
        _rewrite_stack(fork / f"Pulumi.{stack}.yaml", stack)
        _regenerate_policy_config(fork, stack)
    _rewrite_bootstrap(fork / "bootstrap")
    assert "eu-west-1" not in (fork / "Pulumi.prod.yaml").read_text()
    env = {**os.environ, NESTED: "1", "PYTHONDONTWRITEBYTECODE": "1"}
    # The tests that could see the committed stacks; none recorded: this test runs alone.
    selected = selected_tests(pytestconfig)
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--ignore=tests/test_fork.py"]
    if importlib.util.find_spec("xdist") is not None:
        command += ["-n", "auto"]
    result = subprocess.run(
        [*command, *(selected or ["tests"])],
        cwd=fork,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    tail = "\n".join(result.stdout.splitlines()[-25:])
    assert result.returncode == 0, f"the suite fails for a fork's valid values:\n{tail}\n{result.stderr[-2000:]}"
    ran = sum(int(count) for count in re.findall(r"(\d+) (?:passed|skipped)", tail))
    assert ran >= max(len(selected), 1), f"{ran} tests ran of {len(selected)} selected:\n{tail}"
