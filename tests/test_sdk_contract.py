"""The private Pulumi SDK names the offline run relies on (preflight/inprocess.py), one test each.

The SDKs are pinned (constraints.txt, at the CLI's version). An upgrade that moves or changes one of these
fails here, by name, instead of hanging or mis-recording a run somewhere else in the suite.
"""

from __future__ import annotations

import inspect

import pytest
from pulumi.runtime import mocks, resource, rpc, settings, stack, sync_await
from pulumi.runtime.proto import source_pb2


def test_the_pinned_sdks_are_the_ones_installed():
    import re
    from importlib.metadata import version

    from tests.conftest import ROOT

    pins = dict(re.findall(r"^(pulumi(?:-policy)?)==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M))
    assert set(pins) == {"pulumi", "pulumi-policy"}, pins
    assert pins["pulumi"] == (ROOT / ".pulumi-version").read_text().strip(), "constraints.txt and the CLI differ"
    for package, pinned in pins.items():
        assert version(package) == pinned, f"{package} {version(package)} is installed, not {pinned}: make venv"


@pytest.mark.parametrize(
    ("module", "name"),
    [(rpc, "_special_secret_sig"), (rpc, "_special_sig_key")],
)
def test_secret_wrapper_markers_are_strings(module, name):
    assert isinstance(getattr(module, name), str) and getattr(module, name)


def test_root_resource_is_a_context_variable():
    assert hasattr(settings.ROOT, "set") and hasattr(settings.ROOT, "get")


@pytest.mark.parametrize("attribute", ["rpc_manager", "outputs", "package_refs", "base_providers_by_ref"])
def test_settings_hold_the_per_run_state_the_run_resets(attribute):
    assert hasattr(settings.SETTINGS, attribute)


def test_rpc_manager_can_be_cleared():
    assert callable(settings.SETTINGS.rpc_manager.clear)


def test_sync_await_and_ensure_event_loop_take_what_the_run_passes():
    assert list(inspect.signature(sync_await._sync_await).parameters) == ["awaitable"]
    assert mocks._ensure_event_loop is sync_await._ensure_event_loop
    assert callable(stack.run_pulumi_func)


def test_mock_monitor_has_the_calls_the_recorder_wraps():
    for name in ("RegisterResource", "RegisterPackage", "Invoke", "ReadResource"):
        assert callable(getattr(mocks.MockMonitor, name)), name


def test_the_stack_trace_hook_the_run_replaces_takes_nothing_and_gives_a_stack_trace():
    # inprocess._without_source_positions swaps it for an empty StackTrace; both call sites in
    # resource.py call it with no arguments and read `.frames`.
    assert list(inspect.signature(resource._get_stack_trace).parameters) == []
    assert isinstance(resource._get_stack_trace(), source_pb2.StackTrace)
    assert "_get_stack_trace()" in inspect.getsource(resource.register_resource)
