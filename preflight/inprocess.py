"""Run the Pulumi program in-process under Pulumi's mocks and record what it declares.

This is what `preflight plan` and the tests stand on: the real program (`components.stack.build`)
with the stack's real config, no CLI, no credentials, no Genesys org. Each run gets a fresh event
loop, fresh config and fresh mocks, so runs never leak state into each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.rpc import _special_secret_sig, _special_sig_key
from pulumi.runtime.settings import ROOT, SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components import provider_binding as binding
from components.org import build_org
from components.org_settings import ORG_NAMESPACE, load_org_settings, parse_org_settings
from components.settings import load_from_pulumi, load_from_stack_file
from components.settings_model import NAMESPACE
from components.stack import build
from components.stack_file import StackConfig

# Outputs the provider computes; the mocks return them as the provider would. Keyed by bound class
# so the tokens come from the binding, the one place that names them.
_COMPUTED: dict[str, dict[str, str]] = {
    binding.type_token(cls): values
    for cls, values in (
        (binding.OauthClient, {"clientId": "{name}-client-id", "clientSecret": "{name}-client-secret"}),
        (binding.WebdeploymentsConfiguration, {"version": "1", "status": "Active"}),
        (binding.WebdeploymentsDeployment, {"status": "Active"}),
        (binding.Flow, {"fileContentHash": "{name}-file-hash"}),
    )
}


def is_secret_value(value: Any) -> bool:
    """Whether a value recorded by the mocks is a Pulumi secret."""
    return isinstance(value, dict) and value.get(_special_sig_key) == _special_secret_sig


def reveal(value: Any) -> Any:
    """A recorded value with its secret wrappers removed (for assertions on the plain shape)."""
    if is_secret_value(value):
        return reveal(value["value"])
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


@dataclass(frozen=True)
class Declared:
    """One resource the program registered, as the engine would receive it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    inputs: dict[str, Any]
    """Inputs with secrets still wrapped (see is_secret_value)."""
    protect: bool
    version: str
    plugin_download_url: str
    package_ref: str
    additional_secret_outputs: tuple[str, ...]
    ignore_changes: tuple[str, ...] = ()
    """Input paths the engine leaves at their old value (ResourceOptions.ignore_changes)."""
    delete_before_replace: bool = False
    """A replacement deletes the old object before creating the new one (same name in Genesys)."""


@dataclass(frozen=True)
class Run:
    """The outcome of running the program once: the stack's estate, what every check reads (the policy
    adapter, plan, diff, promote, doctor, snapshots). `plan --format json` and tests/snapshots/ are its
    JSON form, secrets masked. Frozen: a check reads it, never changes it."""

    settings: Any
    """Settings (the stacks) or OrgSettings (bootstrap/)."""
    resources: list[Declared]
    outputs: dict[str, Any]
    """Stack outputs, resolved."""
    secret_outputs: frozenset[str]
    """Names of stack outputs Pulumi would store as secrets."""
    packages: list[dict[str, str]] = field(default_factory=list)
    """Parameterized packages the program registered (terraform-provider route)."""

    def of_type(self, token_suffix: str) -> list[Declared]:
        return [r for r in self.resources if r.type.endswith(token_suffix)]


# The ids of the offline run, stated once: what it answers where Genesys would assign an id (a declared
# resource) or the provider would look one up by name (a role or division). plan labels them, the doctor
# and adopt follow references through them, the policy adapter gives each resource its id.


def offline_id(logical_name: str) -> str:
    """The id a declared resource has in the offline run."""
    return f"{logical_name}-id"


_LOOKUPS = {binding.DIVISION_LOOKUP_TOKEN: "division", binding.ROLE_LOOKUP_TOKEN: "role"}
LOOKUP_KINDS = tuple(_LOOKUPS.values())


def looked_up_id(kind: str, name: str) -> str:
    """The id the offline run answers a role or division lookup (`kind`) by `name` with."""
    return f"{kind}-{name}"


def looked_up_name(kind: str, value: Any) -> str | None:
    """The name a `kind` lookup was asked for, if `value` is the id the offline run answered it with."""
    prefix = looked_up_id(kind, "")
    if isinstance(value, str) and value.startswith(prefix) and value != prefix:
        return value.removeprefix(prefix)
    return None


class _Mocks(pulumi_mocks.Mocks):
    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict]:
        computed = {k: v.format(name=args.name) for k, v in _COMPUTED.get(args.typ, {}).items()}
        return offline_id(args.name), {**args.inputs, **computed}

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict:
        if args.token in _LOOKUPS:
            return {"id": looked_up_id(_LOOKUPS[args.token], args.args["name"]), "name": args.args["name"]}
        raise NotImplementedError(f"no mock for invoke {args.token}")


def _noting_worker_loop(call: Callable[..., Any]) -> Callable[..., Any]:
    """Pulumi calls the monitor on worker threads, where the mocks create an event loop per thread. Note
    each such loop, so a failed run can close them (see _abandon)."""

    def wrapper(self: Any, request: Any) -> Any:
        try:
            return call(self, request)
        finally:
            if threading.current_thread() is not threading.main_thread():
                with contextlib.suppress(RuntimeError):
                    self.worker_loops.add(asyncio.get_event_loop_policy().get_event_loop())

    return wrapper


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    Invoke = _noting_worker_loop(pulumi_mocks.MockMonitor.Invoke)
    ReadResource = _noting_worker_loop(pulumi_mocks.MockMonitor.ReadResource)

    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self.declared: list[Declared] = []
        self.worker_loops: set[asyncio.AbstractEventLoop] = set()
        self.packages: list[dict[str, str]] = []

    @_noting_worker_loop
    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            pulumi_mocks._ensure_event_loop()
            from pulumi.runtime import rpc

            self.declared.append(
                Declared(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=request.custom,
                    parent=request.parent,
                    provider=request.provider,
                    inputs=rpc.deserialize_properties(request.object, keep_unknowns=True),
                    protect=request.protect,
                    version=request.version,
                    plugin_download_url=request.pluginDownloadURL,
                    package_ref=request.packageRef,
                    additional_secret_outputs=tuple(request.additionalSecretOutputs),
                    ignore_changes=tuple(request.ignoreChanges),
                    delete_before_replace=request.deleteBeforeReplace,
                )
            )
        return response

    def RegisterPackage(self, request: Any) -> Any:
        self.packages.append(
            {
                "name": request.name,
                "version": request.version,
                "download_url": request.download_url,
                "package": request.parameterization.name,
                "package_version": request.parameterization.version,
                "value": request.parameterization.value.decode(),
            }
        )
        return super().RegisterPackage(request)


def _abandon(*loops: asyncio.AbstractEventLoop) -> None:
    """A run that failed half-way leaves registrations pending on its loops (the run's, and one per worker
    thread the mocks used). Cancel them and close the loops now, while their sockets are open: left to the
    garbage collector at interpreter exit, a loop's __del__ prints an asyncio traceback
    (`Invalid file descriptor: -1`) after the error message."""
    for loop in loops:
        if loop.is_closed() or loop.is_running():
            continue
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()


def run_program(stack: StackConfig, *, project: str = NAMESPACE, program=build) -> Run:
    """Load the stack's settings the way the program does, run the program, record everything.

    Raises SettingsError for invalid settings and BindingError for a resource declared with
    properties the provider does not have, before anything would reach the engine.
    """
    # Invalid settings fail here, before the Pulumi runtime is touched (a run abandoned half-way
    # would leave registrations pending on its event loop).
    load_from_stack_file(stack, project)
    return _run(stack, project, lambda: load_from_pulumi(stack.encrypted), program)


def run_bootstrap(stack: StackConfig) -> Run:
    """The same for bootstrap/ (the org's roles and deployer client), from a bootstrap stack file."""
    parse_org_settings(stack.config, f"bootstrap/{stack.source}")
    return _run(stack, ORG_NAMESPACE, load_org_settings, build_org)


@contextlib.contextmanager
def _without_source_positions() -> Any:
    """Skip the stack trace the SDK captures for every resource (`_get_stack_trace`, resource.py): the engine
    shows it in `pulumi preview` output, no record here keeps it, and it is the largest single cost of
    registering a resource under the mocks (measured by scripts/benchmark_plan.py). Offline runs only;
    `pulumi up` never imports this module."""
    captured = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = captured


def _run(stack: StackConfig, project: str, load: Callable[[], Any], program: Callable[[Any], dict]) -> Run:
    with _without_source_positions():
        return _run_recorded(stack, project, load, program)


def _run_recorded(stack: StackConfig, project: str, load: Callable[[], Any], program: Callable[[Any], dict]) -> Run:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        set_all_config(dict(stack.config), list(stack.secret_keys))
        mocks = _Mocks()
        monitor = _RecordingMonitor(mocks)
        # set_mocks keeps an existing root stack resource; a fresh one per run keeps stacks apart.
        ROOT.set(None)
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack.stack, preview=False, monitor=monitor)
        settings = load()
        captured: dict[str, Any] = {}

        async def resolve(outputs: dict[str, Any]) -> None:
            for key, value in outputs.items():
                output = pulumi.Output.from_input(value)
                captured[key] = (await output.future(), await output.is_secret())

        # Like pulumi.runtime.test: forget work left by an earlier, abandoned run (its tasks belong to
        # another event loop and would never finish).
        SETTINGS.rpc_manager.clear()
        SETTINGS.outputs.clear()
        # Package references are cached per deployment; mocks do not reset them between runs.
        SETTINGS.package_refs = {}
        SETTINGS.base_providers_by_ref = {}
        try:
            _sync_await(run_pulumi_func(lambda: resolve(program(settings))))
        except BaseException:
            _abandon(loop, *monitor.worker_loops)
            raise
        return Run(
            settings=settings,
            resources=monitor.declared,
            outputs={k: v for k, (v, _) in captured.items()},
            secret_outputs=frozenset(k for k, (_, secret) in captured.items() if secret),
            packages=monitor.packages,
        )
    finally:
        # Left open: Pulumi's worker threads may still hold it; closing here makes interpreter
        # shutdown print noise. Each run gets its own loop anyway.
        asyncio.set_event_loop(None)
