"""The genesys-messaging policy pack: every rule of rules.py as a Pulumi policy.

Run with the stack's context (region, environment) as policy config:
    pulumi preview --policy-pack policy --policy-pack-config policy/config.prod.json
Without a config file the rules fall back to the stack's own config and the provider's awsRegion
(see context.py). The pack never imports program code.
"""

import importlib
import importlib.machinery
import importlib.util
import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

PACKAGE = "genesys_messaging_policy"


def _load_pack_package(directory: Path) -> None:
    """Register the pack's directory as the package PACKAGE, whatever the directory is called.

    The CLI runs this file as a script (`python -m pulumi.policy <engine> <pack dir>`, i.e. runpy), outside any
    package, while the rule modules import each other relatively, as preflight imports them (`policy.rules`).
    """
    spec = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(directory)]
    sys.modules[PACKAGE] = importlib.util.module_from_spec(spec)


_load_pack_package(Path(__file__).resolve().parent)
rules = importlib.import_module(f"{PACKAGE}.rules")

PolicyPack(
    name="genesys-messaging",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=rules.policies(),
    description="Guardrails for Genesys Cloud web messaging stacks.",
)
