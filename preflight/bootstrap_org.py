"""A stack's org bootstrap must cover it: a bootstrap stack file of its region that lists its division.

bootstrap/ grants the deployer its roles only in the divisions it lists (components/org.py), so a stack
whose `division` is not among them fails at its first role grant, when the deployer creates the
contact-lookup client with a role it does not hold in that division (provider v1.84.1
oauth_client/resource_genesyscloud_oauth_client_schema.go:94). Which bootstrap stack serves a stack, in
the bootstrap/ folder beside its stack file: `Pulumi.<org>.yaml` for a stack with an `org` label,
otherwise any bootstrap stack file of the stack's region (a region is another org). None there cannot be
checked here: an advisory says so.
"""

from __future__ import annotations

from pathlib import Path

from components.errors import InvalidConfiguration
from components.org_settings import ORG_NAMESPACE, OrgSettings, parse_org_settings
from components.settings_model import NAMESPACE, PROJECT_ROOT, Settings
from components.stack_file import StackFileError, read_stack_file

BOOTSTRAP_DIR = PROJECT_ROOT / "bootstrap"
RULE = "bootstrap-org"


def _violation(settings: Settings, level: str, message: str, fix: str) -> dict[str, str]:
    return {"rule": RULE, "level": level, "resource": settings.stack, "message": message, "fix": fix}


def _bootstrap_stacks(directory: Path) -> tuple[dict[Path, OrgSettings], list[str]]:
    """Every readable bootstrap stack file with its settings, and why the others could not be read."""
    found, unreadable = {}, []
    for path in sorted(directory.glob("Pulumi.*.yaml")):
        try:
            stack = read_stack_file(path)
            found[path] = parse_org_settings(stack.config, f"bootstrap/{path.name}")
        except (StackFileError, InvalidConfiguration) as error:
            unreadable.append(f"bootstrap/{path.name}: {error}")
    return found, unreadable


def bootstrap_violations(settings: Settings, directory: Path = BOOTSTRAP_DIR) -> list[dict[str, str]]:
    """Plan violations when the org's bootstrap stack would not let this stack's deployer grant its roles."""
    stacks, unreadable = _bootstrap_stacks(directory)
    region = settings.region.code
    if settings.org:
        candidates = {p: s for p, s in stacks.items() if p.name == f"Pulumi.{settings.org}.yaml"}
        wanted = f"bootstrap/Pulumi.{settings.org}.yaml"
    else:
        candidates = {p: s for p, s in stacks.items() if s.region.code == region}
        wanted = f"a bootstrap/Pulumi.<org>.yaml with {ORG_NAMESPACE}:region {region}"
    violations = [
        _violation(settings, "mandatory", f"{problem}", "fix the bootstrap stack file as its message says")
        for problem in unreadable
    ]
    if not candidates:
        return [
            *violations,
            _violation(
                settings,
                "advisory",
                f"{settings.source}: no bootstrap stack file for this stack's org ({wanted}): whether the deployer "
                f"holds its roles in division {settings.division!r} cannot be checked offline",
                f"commit {wanted} listing {settings.division!r} in {ORG_NAMESPACE}:divisions "
                f"(or label the org with {NAMESPACE}:org <label> and commit bootstrap/Pulumi.<label>.yaml)",
            ),
        ]
    for path, org in candidates.items():
        where = f"bootstrap/{path.name}"
        if org.region.code != region:
            violations.append(
                _violation(
                    settings,
                    "mandatory",
                    f"{settings.source}: {NAMESPACE}:org {settings.org!r} names {where}, whose region is "
                    f"{org.region.code}, not this stack's {region}: its roles and deployer are in another org",
                    f"set {ORG_NAMESPACE}:region {region} in {where}, or give this stack the org label of its region",
                )
            )
        elif settings.division not in org.divisions:
            violations.append(
                _violation(
                    settings,
                    "mandatory",
                    f"{settings.source}: {NAMESPACE}:division is {settings.division!r}, which {where} does not list "
                    f"in {ORG_NAMESPACE}:divisions {list(org.divisions)}: the deployer holds no role there, so the "
                    "first grant of `pulumi up` fails",
                    f"add {settings.division!r} to {ORG_NAMESPACE}:divisions in {where} and run `pulumi up` in "
                    "bootstrap/ (as the administrator) before this stack's first `pulumi up`",
                )
            )
    return violations
