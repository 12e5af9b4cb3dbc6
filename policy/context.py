"""The stack context of a validation: which Genesys region and environment the stack is for.

Resolved per validation, first hit wins:

1. Policy config: the `region` / `environment` properties of the policy, i.e. the
   `--policy-pack-config` file (`policy/config.<stack>.json`, one entry per policy that reads context,
   see rules.CONTEXT_RULES), or preflight's context.
2. Stack config: `<project>:region` / `<project>:environment` (`genesys-messaging:region` ...), which
   the Pulumi CLI hands to policy packs in `PULUMI_CONFIG` with `PULUMI_PROJECT` set (stack validation
   without a config file).
3. Region only: the `awsRegion` input of the Genesys provider the resource uses (`args.provider.props`).

An environment that cannot be resolved is treated as prod (fail closed: the stricter rules apply).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema, PolicyProviderResource

from .common import DATA, PROVIDER_TYPE, plain

REGION_DOMAINS: dict[str, str] = DATA["regions"]
ENVIRONMENTS: tuple[str, ...] = tuple(DATA["environments"])
PROD = "prod"

CONTEXT_SCHEMA = PolicyConfigSchema(
    properties={
        "region": {"type": "string", "enum": sorted(REGION_DOMAINS), "description": "Genesys region code"},
        "environment": {"type": "string", "enum": list(ENVIRONMENTS), "description": "staging or prod"},
    }
)
"""The policy config of every rule that reads the stack context."""


def _stack_config(key: str) -> str | None:
    project = os.environ.get("PULUMI_PROJECT")
    if not project:
        return None
    try:
        import pulumi.runtime

        return pulumi.runtime.get_config(f"{project}:{key}")
    except Exception:  # no engine settings: no stack config to read
        return None


def _provider_region(provider: PolicyProviderResource | None) -> str | None:
    if provider is None or provider.resource_type != PROVIDER_TYPE:
        return None
    region = plain(provider.props).get("awsRegion")
    return region if isinstance(region, str) else None


def context_region(config: Mapping[str, Any], provider: PolicyProviderResource | None = None) -> str | None:
    """The stack's Genesys region code (lower case), or None if nothing says (see module docstring)."""
    region = config.get("region") or _stack_config("region") or _provider_region(provider)
    return region.lower() if isinstance(region, str) else None


def context_environment(config: Mapping[str, Any]) -> str:
    """The stack's environment; prod when nothing says (fail closed)."""
    environment = config.get("environment") or _stack_config("environment")
    return environment if environment in ENVIRONMENTS else PROD
