"""Every policy rule of genesys-messaging, collected: one implementation, two entry points.

- `policy/__main__.py` builds the Pulumi policy pack from `policies()`:
  `pulumi preview --policy-pack policy --policy-pack-config policy/config.prod.json`.
- `python -m preflight plan` runs the same `RULES` through its adapter (preflight/policy_check.py), which
  builds real pulumi-policy argument objects from what the program declared under mocks.

Each rule is declared, with its enforcement level, beside its validator in the module of its concern:

- `region_rules.py`: the provider and every Genesys host are the stack region's;
- `access_rules.py`: OAuth clients, roles and their grants (least privilege);
- `messenger_rules.py`: web deployments, their allowed domains and authenticated messaging;
- `data_action_rules.py`: data actions over https;
- `protection_rules.py`: prod protection, queue members, the explicit provider.

They share `common.py` (data, type tokens, reading props, `Rule`) and `context.py` (the stack's region and
environment). The pack's modules import each other relatively (`from .common import ...`): preflight
imports them as the package `policy`, and `__main__.py` loads the pack's directory as a package too.

The pack never imports program code (`components/`, `preflight/`), and knows nothing of the offline run's
conventions (mock ids, Pulumi's secret wrappers). Whether an input is a secret is invisible to the pack
(pulumi-policy hands secrets over as plain values), so that check lives in preflight.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy, ResourceValidationPolicy, StackValidationPolicy

from . import access_rules, data_action_rules, messenger_rules, protection_rules, region_rules
from .common import Rule
from .context import CONTEXT_SCHEMA

RULES: tuple[Rule, ...] = (
    *region_rules.RULES,
    *access_rules.RULES,
    *messenger_rules.RULES,
    *data_action_rules.RULES,
    *protection_rules.RULES,
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
CONTEXT_RULES: tuple[str, ...] = tuple(rule.id for rule in RULES if rule.context)
"""Rule ids whose policy config carries `region` and `environment` (policy/config.<stack>.json)."""

_ENFORCEMENT = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


def policies() -> list[Policy]:
    """One pulumi-policy policy per rule, in RULES order."""
    built: list[Policy] = []
    for rule in RULES:
        kind = StackValidationPolicy if rule.stack else ResourceValidationPolicy
        built.append(
            kind(
                name=rule.id,
                description=rule.description,
                validate=rule.validator,
                enforcement_level=_ENFORCEMENT[rule.level],
                config_schema=CONTEXT_SCHEMA if rule.context else None,
                remediation_steps=rule.fix,
            )
        )
    return built
