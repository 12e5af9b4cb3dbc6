"""What a later `up` replaces or deletes: data actions, identity resolution, the pickled dynamic provider.

Oracles: the provider's schema at v1.84.1 (integration_action/resource_genesyscloud_integration_action_schema.go
:156-187, the ForceNew attributes written out below by hand), the pulumi SDK's dynamic provider
(pulumi/dynamic/dynamic.py serialize_provider, pulumi/dynamic/__main__.py Delete/Read) and the stacks'
own estate (which resources are protected), never the module under test's constants.
"""

from __future__ import annotations

import base64
import pickletools
import subprocess
import sys

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from components.identity_resolution import IdentityResolutionProvider
from components.provider_binding import pulumi_path
from tests.conftest import ROOT, STACKS, planned_once, stack_config

FORCE_NEW = ("integration_id", "secure", "contract_input", "contract_output")
"""genesyscloud_integration_action attributes with ForceNew: true (schema.go:156-187, v1.84.1)."""

STATE_MODULE, STATE_CLASS = "components.identity_resolution", "IdentityResolutionProvider"
"""Where every stack's state says the identity resolution provider lives. Change only with a shim."""


def test_the_program_sets_the_attributes_that_force_a_replacement(run):
    # The replacement hazard is real only if the program sets what forces it: the contracts do.
    forcing = {pulumi_path("genesyscloud_integration_action", attribute) for attribute in FORCE_NEW}
    for action in run.of_type(":IntegrationAction"):
        assert {"contractInput", "contractOutput", "integrationId"} <= forcing & set(action.inputs), action.urn


def test_every_data_action_is_deleted_before_its_replacement(run):
    # A changed contract creates the new action first by default: two actions with one category and
    # name, which is how Architect's callData finds an action. Deleting first keeps the pair unique.
    for action in run.of_type(":IntegrationAction"):
        assert action.delete_before_replace, f"{action.urn}: a contract change would duplicate its name"


def test_category_and_name_address_exactly_one_action(run):
    # The flow follows a replaced action by its new id: tests/test_flow.py checks the trigger hashes them.
    pairs = [(a.inputs["category"], a.inputs["name"]) for a in run.of_type(":IntegrationAction")]
    assert len(pairs) == len(set(pairs)), pairs


@pytest.mark.parametrize("stack", STACKS)
def test_identity_resolution_is_protected_exactly_when_its_deployment_is(stack):
    run = planned_once(stack_config(stack))
    deployments = {f"{d.name}-id": d for d in run.of_type(":WebdeploymentsDeployment")}
    resolutions = [r for r in run.resources if r.type == "pulumi-python:dynamic:Resource"]
    assert len(resolutions) == len(deployments) > 0
    for resolution in resolutions:
        deployment = deployments[resolution.inputs["deploymentId"]]
        # Removing a site would otherwise turn resolution off live before the deployment's protected
        # delete fails: the two must stand or fall together.
        assert resolution.protect == deployment.protect, resolution.urn
        assert resolution.protect == (stack == "prod"), f"{resolution.urn}: protect in {stack}"


def _globals(blob: bytes) -> set[tuple[str, str]]:
    """(module, name) of every class the pickle refers to by name (STACK_GLOBAL after two strings)."""
    found, strings = set(), []
    for opcode, arg, _ in pickletools.genops(blob):
        if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(arg)
        elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
            found.add((strings[-2], strings[-1]))
        elif opcode.name == "GLOBAL":
            module, name = arg.split(" ", 1)
            found.add((module, name))
    return found


def test_the_state_pins_the_provider_by_module_and_class_name():
    # What Resource.__init__ stores as `__provider` (pulumi/dynamic/dynamic.py:359-375).
    blob = base64.b64decode(serialize_provider(IdentityResolutionProvider()))
    assert (STATE_MODULE, STATE_CLASS) in _globals(blob), "the provider is no longer pickled by reference"
    assert IdentityResolutionProvider.__module__ == STATE_MODULE
    assert IdentityResolutionProvider.__qualname__ == STATE_CLASS


def test_a_fresh_process_unpickles_the_states_provider_from_that_path():
    # The dynamic provider's host does this for every delete and refresh (pulumi/dynamic/__main__.py
    # :156-159, :229-236): it must find the class where the state says it is.
    serialized = serialize_provider(IdentityResolutionProvider())
    code = (
        "import base64, sys, dill; p = dill.loads(base64.b64decode(sys.stdin.read())); "
        "print(type(p).__module__, type(p).__qualname__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=serialized, capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.split() == [STATE_MODULE, STATE_CLASS]


def test_the_module_says_it_is_pinned():
    doc = (ROOT / "components" / "identity_resolution.py").read_text()
    assert f"module `{STATE_MODULE}`" in doc and f"class `{STATE_CLASS}`" in doc
