"""Names of the Genesys objects a stack declares: one place, so the program, `doctor` and the
tests agree on what to look for. Object names carry the stack's prefix; data action names do not,
because Architect addresses an action by its category (the prefixed integration name) and name."""

from __future__ import annotations

from components.settings_model import Settings

ROLE_PREFIX = "genesys-messaging "
"""Roles and the deployer client are per org (bootstrap/), shared by every stack in it: no stack prefix."""
CRM_LOOKUP_ACTION_NAME = "Look up customer by external id"
CRM_TICKET_ACTION_NAME = "Create ticket for conversation"
CONTACT_LOOKUP_ACTION_NAME = "Find external contact by external id"


def flow_name(settings: Settings) -> str:
    return settings.name("Inbound Web Messaging")


def queue_name(settings: Settings) -> str:
    return settings.name(settings.queue_name)


def oidc_integration_name(settings: Settings) -> str:
    """The OpenID Connect Messenger integration (and its credential)."""
    return settings.name("Messenger OpenID Connect")


def crm_integration_name(settings: Settings) -> str:
    """The CRM data-actions integration: the category of the CRM lookup action."""
    return settings.name("CRM Data Actions")


def contacts_integration_name(settings: Settings) -> str:
    """The Genesys data-actions integration: the category of the External Contacts lookup."""
    return settings.name("Genesys Cloud Data Actions")


def external_source_name(settings: Settings) -> str:
    return settings.name("CRM")


def configuration_name(settings: Settings, site_key: str) -> str:
    """Messenger configuration of a site."""
    return settings.name(f"{site_key} messenger")


def deployment_name(settings: Settings, site_key: str) -> str:
    """Messenger deployment of a site."""
    return settings.name(site_key)


def role_name(role_key: str) -> str:
    """A custom role bootstrap/ declares and the stacks look up by name."""
    return f"{ROLE_PREFIX}{role_key}"
