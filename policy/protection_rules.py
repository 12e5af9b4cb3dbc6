"""Protection: what a `pulumi up` must never do to the live estate.

Prod resources are protected against deletion, a queue keeps the agents assigned to it in Genesys, and
every Genesys resource goes through the stack's explicit provider (never ambient credentials or region).
"""

from __future__ import annotations

from pulumi_policy import ResourceValidationArgs

from .common import DEPLOYMENT, FLOW, OAUTH_CLIENT, ROUTING_QUEUE, ReportViolation, Rule, plain
from .context import PROD, context_environment

# Deleting any of these breaks live conversations or the backends that use them.
_PROTECTED_IN_PROD = (OAUTH_CLIENT, DEPLOYMENT, FLOW, ROUTING_QUEUE)


def prod_protected_resources_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """In prod, OAuth clients, web deployments, the flow and the queue are protected against deletion."""
    if args.resource_type not in _PROTECTED_IN_PROD or context_environment(args.get_config()) != PROD:
        return
    if not args.opts.protect:
        report_violation(
            f"{args.urn} is not protected in prod. Declare it with ResourceOptions(protect=True) "
            "(the program's protect=settings.is_prod)."
        )


PROD_PROTECTED_RESOURCES = Rule(
    id="prod-protected-resources",
    level="mandatory",
    description="Protect prod OAuth clients, web deployments, flows and queues against deletion.",
    fix="Declare them with protect=True in prod.",
    validator=prod_protected_resources_validator,
    context=True,
)


def queue_members_explicit_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A queue either lists its members or ignores them; otherwise the provider removes every agent."""
    if args.resource_type != ROUTING_QUEUE:
        return
    props = args.props
    # routing_queue/resource_genesyscloud_routing_queue_members.go:82-95 (provider v1.84.1): with
    # ignore_members unset and members empty, create and update remove every member of the queue.
    if plain(props.get("ignoreMembers")) is True:
        return
    members = plain(props.get("members"))
    if not members:
        report_violation(
            f"{args.urn} neither lists members nor sets ignoreMembers: every `pulumi up` would remove the "
            "agents assigned to it in Genesys. Set ignoreMembers=True (membership managed in Genesys) or "
            "list the members."
        )


QUEUE_MEMBERS_EXPLICIT = Rule(
    id="queue-members-explicit",
    level="mandatory",
    description="Require every routing queue to list its members or set ignoreMembers.",
    fix="Set ignoreMembers=True when agents are assigned in Genesys, or list members.",
    validator=queue_members_explicit_validator,
)


def explicit_genesys_provider_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every Genesys resource uses the stack's explicit provider, never a default provider."""
    if not args.resource_type.startswith("genesyscloud:"):
        return
    provider = args.provider
    if provider is None or not provider.urn:
        report_violation(
            f"{args.urn} has no provider. Pass the stack's explicit provider (ResourceOptions(providers=[...]))."
        )
    elif "::default" in provider.urn:
        report_violation(
            f"{args.urn} uses the default provider {provider.urn}. Pass the stack's explicit provider "
            "(ResourceOptions(providers=[...])) and keep pulumi:disable-default-providers set."
        )


EXPLICIT_GENESYS_PROVIDER = Rule(
    id="explicit-genesys-provider",
    level="mandatory",
    description="Require every Genesys resource to use the stack's explicit provider.",
    fix="Pass ResourceOptions(providers=[provider]); keep default providers disabled.",
    validator=explicit_genesys_provider_validator,
)

RULES: tuple[Rule, ...] = (PROD_PROTECTED_RESOURCES, QUEUE_MEMBERS_EXPLICIT, EXPLICIT_GENESYS_PROVIDER)
