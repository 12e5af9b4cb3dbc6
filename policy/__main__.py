"""The genesys-messaging policy pack: every rule of rules.py as a Pulumi policy.

Run with the stack's context (region, environment) as policy config:
    pulumi preview --policy-pack policy --policy-pack-config policy/config.prod.json
Without a config file the rules fall back to the stack's own config and the provider's awsRegion
(see rules.py). The pack never imports program code.
"""

import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

# The CLI runs this file with runpy, which does not put the pack's directory on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import rules

PolicyPack(
    name="genesys-messaging",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=rules.policies(),
    description="Guardrails for Genesys Cloud web messaging stacks.",
)
