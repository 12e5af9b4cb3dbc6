"""Fixtures: each test gets the program run afresh (new event loop, config and mocks) per stack.

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
STACKS = ("staging", "prod")


def sentinel(path: str) -> str:
    return f"sentinel-secret-{path}"


def stack_config(stack: str) -> StackConfig:
    return read_stack_file(ROOT / f"Pulumi.{stack}.yaml", reveal=sentinel)


@pytest.fixture(params=STACKS)
def run(request: pytest.FixtureRequest) -> Run:
    """The whole program, run under mocks with one stack's settings."""
    return run_program(stack_config(request.param))


@pytest.fixture
def run_with() -> Callable[..., Run]:
    """Run the program with a stack's config altered: run_with("prod", {"genesys-messaging:key": value})."""

    def _run(stack: str, changes: dict[str, str]) -> Run:
        base = stack_config(stack)
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
