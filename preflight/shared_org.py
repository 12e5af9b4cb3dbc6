"""Stacks that deploy to one Genesys org must not take each other's object names.

Genesys finds a flow, a queue or a data action by name, and the provider publishes a flow by its
name: two stacks of one org that name an object alike would republish or overwrite each other's.
Two stacks share an org when their `org` labels and regions are equal (a region is a separate org).
"""

from __future__ import annotations

from pathlib import Path

from components.errors import InvalidConfiguration
from components.settings import load_from_stack_file
from components.settings_model import NAMESPACE, Settings
from components.stack_file import StackFileError, read_stack_file
from preflight.inprocess import Run

FIX_PREFIX = f"pulumi config set {NAMESPACE}:namePrefix stg- (each stack of the org its own)"
FIX_ORG = f"or, if the stacks use different orgs, pulumi config set {NAMESPACE}:org <label> on each"


def shares_org(first: Settings, second: Settings) -> bool:
    return first.org == second.org and first.region.code == second.region.code


def _org(settings: Settings) -> str:
    label = f"org {settings.org!r}" if settings.org else "the same org (no org label)"
    return f"{label} in {settings.region.code}"


def prefix_problems(this: Settings, other: Settings, other_label: str) -> list[str]:
    """Why `this` stack's prefix lets its names collide with `other`'s in a shared org ([] when it cannot)."""
    if not shares_org(this, other):
        return []
    where = f"{this.source}: {NAMESPACE}:namePrefix"
    if not this.is_prod and not this.name_prefix:
        return [
            f"{where} is empty in a {this.environment} stack that shares {_org(this)} with {other_label}: its "
            f"objects would take the unprefixed names. Fix: {FIX_PREFIX}, {FIX_ORG}."
        ]
    if this.name_prefix == other.name_prefix:
        return [
            f"{where} is {this.name_prefix!r}, like {other_label}'s, and both deploy to {_org(this)}: every object "
            f"of one stack would take the other's name. Fix: {FIX_PREFIX}, {FIX_ORG}."
        ]
    return []


def genesys_names(run: Run) -> dict[tuple[str, str], str]:
    """(type, Genesys name) -> URN of every named Genesys object the program declares."""
    names = {}
    for resource in run.resources:
        if not resource.custom or not resource.type.startswith("genesyscloud:"):
            continue
        inputs = resource.inputs
        name = inputs.get("name")
        if resource.type.endswith(":Integration"):
            name = (inputs.get("config") or {}).get("name")
        elif resource.type.endswith(":IntegrationAction"):
            # Architect addresses an action by category (its integration's name) and name.
            name = f"{inputs.get('category')} / {name}"
        if isinstance(name, str) and name:
            names[(resource.type.rsplit(":", 1)[-1], name)] = resource.urn
    return names


def name_collisions(first: Run, second: Run) -> list[tuple[str, str]]:
    """The (type, name) pairs both stacks would create: each one object fought over in a shared org."""
    if not shares_org(first.settings, second.settings):
        return []
    return sorted(set(genesys_names(first)) & set(genesys_names(second)))


def sibling_problems(stack_file: Path, settings: Settings) -> list[str]:
    """Prefix problems against every other stack file beside this one (invalid siblings plan on their own)."""
    problems = []
    for path in sorted(stack_file.parent.glob("Pulumi.*.yaml")):
        if path.resolve() == stack_file.resolve():
            continue
        try:
            other = load_from_stack_file(read_stack_file(path))
        except (StackFileError, InvalidConfiguration):
            continue
        problems += prefix_problems(settings, other, f"stack {other.stack} ({path.name})")
    return problems
