"""Messenger: how web deployments are wired, which sites may embed them, and who may chat in prod."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, StackValidationArgs

from .common import CONFIGURATION, DEPLOYMENT, UNKNOWN, ReportViolation, Rule, known, plain, unproven
from .context import PROD, context_environment


def web_deployment_wiring_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Web deployments reference an inbound message flow and a Messenger configuration."""
    if args.resource_type != DEPLOYMENT:
        return
    props = plain(args.props)
    if not props.get("flowId"):
        report_violation(f"Web deployment {args.urn} has no flowId. Set flowId to the stack's inbound message flow.")
    configuration = props.get("configuration")
    if not known(configuration):
        unproven(report_violation, args.urn, "configuration", "Reference the site's configuration resource.")
        return
    if not isinstance(configuration, Mapping) or not configuration.get("id"):
        report_violation(
            f"Web deployment {args.urn} references no configuration. Set configuration.id to the site's "
            "Messenger configuration."
        )


WEB_DEPLOYMENT_WIRING = Rule(
    id="web-deployment-wiring",
    level="mandatory",
    description="Require each web deployment to reference its inbound message flow and configuration.",
    fix="Set flowId and configuration.id.",
    validator=web_deployment_wiring_validator,
)


def _domain_problems(args: ResourceValidationArgs) -> list[str]:
    props = plain(args.props)
    problems = []
    if props.get("allowAllDomains") is True:
        problems.append("sets allowAllDomains true")
    domains = props.get("allowedDomains")
    if known(domains):
        if not domains:
            problems.append("has no allowedDomains")
        elif any(known(d) and str(d).strip() == "*" for d in domains):
            problems.append("allows the '*' domain")
    return [
        f"Web deployment {args.urn} {problem}. List the site's exact domains in allowedDomains and leave "
        "allowAllDomains unset."
        for problem in problems
    ]


def prod_deployment_allowed_domains_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Prod web deployments allow only an explicit domain list (never all domains)."""
    if args.resource_type != DEPLOYMENT or context_environment(args.get_config()) != PROD:
        return
    for message in _domain_problems(args):
        report_violation(message)


PROD_DEPLOYMENT_ALLOWED_DOMAINS = Rule(
    id="prod-deployment-allowed-domains",
    level="mandatory",
    description="Require prod web deployments to allow only explicit domains.",
    fix="List the site's domains in allowedDomains; never set allowAllDomains.",
    validator=prod_deployment_allowed_domains_validator,
    context=True,
)


def deployment_allowed_domains_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Warns when a non-prod web deployment allows all domains or lists none."""
    if args.resource_type != DEPLOYMENT or context_environment(args.get_config()) == PROD:
        return
    for message in _domain_problems(args):
        report_violation(message)


# The prod rule's check outside prod, as a warning: an open staging deployment does not block the update.
DEPLOYMENT_ALLOWED_DOMAINS = Rule(
    id="deployment-allowed-domains",
    level="advisory",
    description="Warn when a non-prod web deployment allows all domains or lists none.",
    fix="List the site's domains in allowedDomains; never set allowAllDomains.",
    validator=deployment_allowed_domains_validator,
    context=True,
)


def prod_messenger_authentication_validator(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """In prod, the configuration each web deployment uses has authenticated messaging enabled."""
    if context_environment(args.get_config()) != PROD:
        return
    configurations: dict[Any, PolicyResource] = {}
    for resource in args.resources:
        if resource.resource_type == CONFIGURATION:
            config_id = plain(resource.props).get("id", UNKNOWN)
            if known(config_id):
                configurations[config_id] = resource
    for deployment in args.resources:
        if deployment.resource_type != DEPLOYMENT:
            continue
        reference = plain(deployment.props).get("configuration")
        config_id = reference.get("id") if isinstance(reference, Mapping) else None
        if known(config_id) and config_id in configurations:
            configuration = configurations[config_id]
        else:
            # A real preview often has no id yet: the engine's dependency record still names it.
            referenced = deployment.property_dependencies.get("configuration", [])
            candidates = [d for d in referenced if d.resource_type == CONFIGURATION]
            if len(candidates) != 1:
                # Unknown means unproven: a configuration this stack does not declare, or two of them.
                found = "two or more configurations" if candidates else "no configuration this stack declares"
                report_violation(
                    f"Web deployment {deployment.urn} depends on {found}, so authenticated messaging cannot be "
                    "verified in prod. Point configuration.id at the site's WebdeploymentsConfiguration in this stack.",
                    deployment.urn,
                )
                continue
            configuration = candidates[0]
        settings = plain(configuration.props).get("authenticationSettings")
        enabled = settings.get("enabled") if isinstance(settings, Mapping) else None
        if not known(enabled):
            report_violation(
                f"Web deployment {deployment.urn}: whether {configuration.urn} enables authenticated messaging is not "
                "known before deploy. Set authenticationSettings.enabled to the literal true.",
                configuration.urn,
            )
        elif enabled is not True:
            report_violation(
                f"Web deployment {deployment.urn} uses configuration {configuration.urn}, which does not enable "
                "authenticated messaging. Set authenticationSettings.enabled true with the OIDC integration.",
                configuration.urn,
            )


PROD_MESSENGER_AUTHENTICATION = Rule(
    id="prod-messenger-authentication",
    level="mandatory",
    description="Require authenticated messaging on every prod web deployment's configuration.",
    fix="Set authenticationSettings.enabled true (with the OIDC integration) on the configuration.",
    validator=prod_messenger_authentication_validator,
    stack=True,
    context=True,
)

RULES: tuple[Rule, ...] = (
    WEB_DEPLOYMENT_WIRING,
    PROD_DEPLOYMENT_ALLOWED_DOMAINS,
    DEPLOYMENT_ALLOWED_DOMAINS,
    PROD_MESSENGER_AUTHENTICATION,
)
