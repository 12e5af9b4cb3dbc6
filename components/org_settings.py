"""Settings of bootstrap/ (one stack per Genesys org): its region and the divisions the stacks use."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components import yaml_loading
from components.errors import InvalidConfiguration
from components.regions import Region, regions
from components.settings import TOKEN_VALIDITY_RANGE
from components.settings_text import hidden_text_problems

ORG_NAMESPACE = "genesys-messaging-bootstrap"
BOOTSTRAP_PROJECT = Path(__file__).resolve().parent.parent / "bootstrap" / "Pulumi.yaml"


@dataclass(frozen=True)
class OrgSettings:
    region: Region
    divisions: tuple[str, ...]
    """Names of the divisions the stacks deploy into: the deployer holds its roles in each."""
    token_validity_seconds: int
    source: str = "bootstrap/Pulumi.org.yaml"
    """The bootstrap stack file, as problems name it."""

    @property
    def stack(self) -> str:
        return self.source.rsplit("/", 1)[-1].removeprefix("Pulumi.").removesuffix(".yaml")

    @property
    def environment(self) -> str:
        """Org-wide and protected: the strict rules, as the pack applies when nothing says (policy/context.py)."""
        return "prod"


def parse_org_settings(config: Mapping[str, Any], source: str) -> OrgSettings:
    """Validate bootstrap config (`genesys-messaging-bootstrap:*` keys, values as the CLI hands them)."""
    problems: list[str] = []

    def value(key: str, default: Any = None) -> Any:
        raw = config.get(f"{ORG_NAMESPACE}:{key}", default)
        if isinstance(raw, str) and raw[:1] in "[{":
            try:
                return json.loads(raw)
            except ValueError:
                return raw
        return raw

    region = regions().get(str(value("region", "")))
    if region is None:
        problems.append(
            f"{source}: {ORG_NAMESPACE}:region: {value('region')!r} is not a Genesys region; "
            f"fix: pulumi config set {ORG_NAMESPACE}:region eu-west-1 (one of {', '.join(sorted(regions()))})"
        )
    divisions = value("divisions", ["Home"])
    if (
        not isinstance(divisions, list)
        or not divisions
        or any(not isinstance(d, str) or not d.strip() or "*" in d for d in divisions)
        or len(set(divisions)) != len(divisions)
    ):
        problems.append(
            f"{source}: {ORG_NAMESPACE}:divisions: {divisions!r} must be a list of distinct division names, "
            "never '*' (all divisions); fix: list the `division` of every stack in this org, e.g. [Home]"
        )
    try:
        token = int(value("tokenValiditySeconds", 3600))
    except (TypeError, ValueError):
        token = -1
    if token not in TOKEN_VALIDITY_RANGE:
        allowed = f"{TOKEN_VALIDITY_RANGE.start}..{TOKEN_VALIDITY_RANGE.stop - 1}"
        problems.append(f"{source}: {ORG_NAMESPACE}:tokenValiditySeconds must be an integer in {allowed}; fix: 3600")
    ours = [key.partition(":")[2] for key in config if key.startswith(f"{ORG_NAMESPACE}:")]
    hidden = hidden_text_problems({key: value(key) for key in ours}, ORG_NAMESPACE)
    problems += [f"{source}: {key}: {what}; fix: {fix}" for key, what, fix in hidden]
    if problems or region is None:
        raise InvalidConfiguration("\n".join(problems))
    return OrgSettings(region, tuple(divisions), token, source)


def load_org_settings() -> OrgSettings:
    """The settings of the running bootstrap program."""
    stack = pulumi.get_stack()
    config = pulumi.Config(ORG_NAMESPACE)
    # Every key bootstrap/Pulumi.yaml declares, the one list of them.
    keys = yaml_loading.safe_load(BOOTSTRAP_PROJECT.read_text())["config"]
    values = {f"{ORG_NAMESPACE}:{key}": config.get(key) for key in keys if config.get(key) is not None}
    return parse_org_settings(values, f"bootstrap/Pulumi.{stack}.yaml")
