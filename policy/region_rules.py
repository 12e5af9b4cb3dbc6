"""Region: the provider and every Genesys host a stack names belong to the stack's region."""

from __future__ import annotations

import re

from pulumi_policy import ResourceValidationArgs

from .common import DATA, PROVIDER_TYPE, ReportViolation, Rule, known, plain, strings, unproven
from .context import REGION_DOMAINS, context_region

_HOST = re.compile(r"(?<![a-z0-9.-])((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,})(?![a-z0-9-])", re.IGNORECASE)
_FAMILIES = tuple(sorted(set(DATA["genesysDomainFamilies"]) | set(REGION_DOMAINS.values()), key=len, reverse=True))
_GLOBAL_HOSTS = frozenset(DATA["globalHosts"])


def genesys_host_domain(host: str) -> str | None:
    """The Genesys domain (a region's, or a parent family's) `host` belongs to, or None if not Genesys."""
    host = host.lower().rstrip(".")
    if host in _GLOBAL_HOSTS:
        return None
    for domain in _FAMILIES:
        if host == domain or host.endswith("." + domain):
            regional = [d for d in REGION_DOMAINS.values() if host == d or host.endswith("." + d)]
            return max(regional, key=len) if regional else domain
    return None


def region_consistency_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Provider `awsRegion` is the stack region; every Genesys host in any input is that region's."""
    config = args.get_config()
    region = context_region(config, args.provider)
    props = plain(args.props)
    if args.resource_type == PROVIDER_TYPE:
        aws_region = props.get("awsRegion")
        if not known(aws_region):
            unproven(report_violation, args.urn, "awsRegion", "Set it from the stack's region setting.")
            return
        if not isinstance(aws_region, str) or aws_region.lower() not in REGION_DOMAINS:
            report_violation(
                f"Provider {args.urn} has awsRegion {aws_region!r}, not a Genesys Cloud region code. "
                f"Set it to one of: {', '.join(sorted(REGION_DOMAINS))}."
            )
            return
        if region and aws_region.lower() != region:
            report_violation(
                f"Provider {args.urn} has awsRegion {aws_region!r} but the stack region is {region!r}. "
                "Fix the stack's region config or the policy config so both name the same region."
            )
    if region not in REGION_DOMAINS:
        return
    expected = REGION_DOMAINS[region]
    for path, text in strings(props):
        for host in _HOST.findall(text):
            domain = genesys_host_domain(host)
            if domain is not None and domain != expected:
                report_violation(
                    f"{args.urn} input {path} uses Genesys host {host!r}, which is not in region {region} "
                    f"({expected}). Derive the host from the stack region (e.g. api.{expected})."
                )


REGION_CONSISTENCY = Rule(
    id="region-consistency",
    level="mandatory",
    description="Keep the provider region and every Genesys host in the stack's region.",
    fix="Set the provider's awsRegion from the stack region and derive every Genesys host from it.",
    validator=region_consistency_validator,
    context=True,
)

RULES: tuple[Rule, ...] = (REGION_CONSISTENCY,)
