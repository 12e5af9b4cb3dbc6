"""Fixtures: each test gets the program run afresh (new event loop, config and mocks) per stack.

Two kinds of stack file:
- the committed ones (`Pulumi.<stack>.yaml`, a fork's own values): tests read them only for
  properties that hold for any valid values (`stack_config`, the `run` fixture);
- the examples in tests/fixtures/ (fixed sample values): tests that need known values read these
  (`example_config`), so a fork that changes its stack files keeps them green.

Secrets in the stack files are `secure:` placeholders; here each one is revealed as a unique
sentinel so the tests can prove no secret reaches an output or a plain-text input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from components.stack_file import StackConfig, read_stack_file
from preflight.inprocess import Run, run_program

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "fixtures"
STACKS = ("staging", "prod")


def sentinel(path: str) -> str:
    return f"sentinel-secret-{path}"


def stack_config(stack: str) -> StackConfig:
    """A committed stack file: assert properties of it, never its sample values."""
    return read_stack_file(ROOT / f"Pulumi.{stack}.yaml", reveal=sentinel)


def example_config(stack: str) -> StackConfig:
    """An example stack file with known values (tests/fixtures/), for tests that need them."""
    return read_stack_file(EXAMPLES / f"Pulumi.{stack}.yaml", reveal=sentinel)


@pytest.fixture(params=STACKS)
def run(request: pytest.FixtureRequest) -> Run:
    """The whole program, run under mocks with one stack's settings."""
    return run_program(stack_config(request.param))


@pytest.fixture
def run_with() -> Callable[..., Run]:
    """Run the program with an example stack's config altered: run_with("prod", {"genesys-messaging:key": value})."""

    def _run(stack: str, changes: dict[str, str]) -> Run:
        base = example_config(stack)
        config = {**base.config, **changes}
        return run_program(dataclasses.replace(base, config=config))

    return _run


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
