"""Fixtures: the program run under mocks per stack, once per test session for each distinct config.

A run is deterministic for its config (tests/test_estate.py proves runs in one process do not leak),
so `run`, `run_with` and `cached_runs` run the program once per distinct config (`planned_once`) and
hand each test its own deep copy: a test may change what it gets without touching another test's.

Two kinds of stack file:
- the committed ones (`Pulumi.<stack>.yaml`, a fork's own values): tests read them only for
  properties that hold for any valid values (`stack_config`, the `run` fixture);
- the examples in tests/fixtures/ (fixed sample values): tests that need known values read these
  (`example_config`), so a fork that changes its stack files keeps them green.

Which tests can see the committed stack files is recorded while they run (`SEES_COMMITTED`): those
that open one (or a policy config beside them) or spawn a process (which may), and those that use
a fixture whose set-up did (a cached value, like the `run` fixture's, hides the open).
tests/test_fork.py runs last and reruns exactly those with a fork's values; a test that sees none of
these files cannot tell a fork from this repository. Under pytest-xdist each worker records its own
tests, and the record of one worker is not the suite's: so `make test` runs the suite in parallel
without the fork test, writing the union of every worker's record (`--record-committed FILE`, the
controller collects them), then the fork test alone reading it (`--rerun-committed FILE`).

Secrets in the stack files are `secure:` placeholders; here each one is revealed as a unique
sentinel so the tests can prove no secret reaches an output or a plain-text input.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from components.stack_file import StackConfig, read_stack_file
from preflight.inprocess import Run, run_program

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "fixtures"
STACKS = ("staging", "prod")
COMMITTED_FILES = frozenset(
    [
        *(str(ROOT / name) for stack in STACKS for name in (f"Pulumi.{stack}.yaml", f"policy/config.{stack}.json")),
        *(str(path) for path in (ROOT / "bootstrap").glob("Pulumi.*.yaml")),
    ]
)
"""What a fork rewrites (tests/test_fork.py)."""

SEES_COMMITTED: set[str] = set()
"""Node ids of the tests that could see the committed stack files, in this session."""
FIXTURES_SEEING: set[str] = set()
"""Fixtures whose set-up saw one: a test using them sees it too, even when their value is cached."""
_current_test: list[str | None] = [None]
_fixtures_in_setup: list[str] = []


def _note_committed_access(event: str, args: tuple) -> None:
    test = _current_test[0]
    if test is None:
        return
    path = args[0] if event == "open" and isinstance(args[0], str | os.PathLike) else None
    opens_one = path is not None and os.path.abspath(path) in COMMITTED_FILES
    if opens_one or event in ("subprocess.Popen", "os.posix_spawn", "os.exec"):
        SEES_COMMITTED.add(test)
        FIXTURES_SEEING.update(_fixtures_in_setup)


sys.addaudithook(_note_committed_access)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _current_test[0] = item.nodeid


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef) -> object:
    _fixtures_in_setup.append(fixturedef.argname)
    try:
        yield
    finally:
        _fixtures_in_setup.pop()


def pytest_runtest_teardown(item: pytest.Item) -> None:
    if FIXTURES_SEEING & set(getattr(item, "fixturenames", ())):
        SEES_COMMITTED.add(item.nodeid)
    _current_test[0] = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fork", "the fork test's record (tests/test_fork.py)")
    group.addoption("--record-committed", metavar="FILE", help="write the tests that saw a committed stack file")
    group.addoption("--rerun-committed", metavar="FILE", help="the fork test reruns the tests this record names")


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput"):  # an xdist worker: its record goes to the controller
        config.workeroutput["sees_committed"] = sorted(SEES_COMMITTED)
        return
    record = config.getoption("record_committed")
    if record:
        Path(record).write_text("".join(f"{test}\n" for test in sorted(SEES_COMMITTED)))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """xdist's controller: each worker's record joins the suite's (a worker that crashed sent none)."""
    SEES_COMMITTED.update(getattr(node, "workeroutput", {}).get("sees_committed", ()))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fork test last: it reruns what the others recorded (SEES_COMMITTED)."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_fork.py"))


def sentinel(path: str) -> str:
    return f"sentinel-secret-{path}"


def stack_config(stack: str) -> StackConfig:
    """A committed stack file: assert properties of it, never its sample values."""
    return read_stack_file(ROOT / f"Pulumi.{stack}.yaml", reveal=sentinel)


def example_config(stack: str) -> StackConfig:
    """An example stack file with known values (tests/fixtures/), for tests that need them."""
    return read_stack_file(EXAMPLES / f"Pulumi.{stack}.yaml", reveal=sentinel)


_PLANNED: dict[tuple, Run] = {}


def planned_once(stack: StackConfig) -> Run:
    """`run_program` once per distinct stack config in a session; each caller gets its own deep copy."""
    key = (stack.stack, stack.source, tuple(sorted(stack.config.items())), stack.secret_keys, stack.encrypted)
    if key not in _PLANNED:
        _PLANNED[key] = run_program(stack)
    return copy.deepcopy(_PLANNED[key])


@pytest.fixture(params=STACKS)
def run(request: pytest.FixtureRequest) -> Run:
    """The whole program, run under mocks with one stack's settings."""
    return planned_once(stack_config(request.param))


@pytest.fixture
def run_with() -> Callable[..., Run]:
    """Run the program with an example stack's config altered: run_with("prod", {"genesys-messaging:key": value}).

    A config that fails (invalid settings) raises every time: failures are not cached."""

    def _run(stack: str, changes: dict[str, str]) -> Run:
        base = example_config(stack)
        return planned_once(dataclasses.replace(base, config={**base.config, **changes}))

    return _run


@pytest.fixture
def cached_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands (`plan`, `diff`, `promote`) plan each distinct stack config once per session.

    For test modules whose tests only read what the program declares (`pytestmark`); a test that
    changes the program itself must not use it, or it would read a run made without its change."""
    from preflight import stacks

    monkeypatch.setattr(stacks, "run_program", planned_once)


@pytest.fixture
def pulumi_mocks():
    """Fresh event loop and mocks for a test that declares components itself (@pulumi.runtime.test)."""
    import asyncio

    import pulumi
    from pulumi.runtime.settings import ROOT

    from preflight.inprocess import _Mocks, _RecordingMonitor

    asyncio.set_event_loop(asyncio.new_event_loop())
    ROOT.set(None)
    mocks = _Mocks()
    monitor = _RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="genesys-messaging", stack="test", preview=False, monitor=monitor)
    yield monitor
    asyncio.set_event_loop(None)
