"""Names of the Genesys objects a stack declares: one place, so the program, `doctor` and the
reviewers' diff agree on what to look for. Every name carries the stack's prefix."""

from __future__ import annotations

from components.settings import Settings

FLOW_NAME = "Inbound Web Messaging"
OIDC_INTEGRATION_NAME = "Messenger OpenID Connect"
CRM_INTEGRATION_NAME = "CRM Data Actions"
CRM_LOOKUP_ACTION_NAME = "Look up customer by external id"
CONTACTS_INTEGRATION_NAME = "Genesys Cloud Data Actions"
CONTACT_LOOKUP_ACTION_NAME = "Find external contact by external id"
EXTERNAL_SOURCE_NAME = "CRM"


def configuration_name(settings: Settings, site_key: str) -> str:
    """Messenger configuration of a site."""
    return settings.name(f"{site_key} messenger")


def deployment_name(settings: Settings, site_key: str) -> str:
    """Messenger deployment of a site."""
    return settings.name(site_key)


def flow_name(settings: Settings) -> str:
    return settings.name(FLOW_NAME)


def queue_name(settings: Settings) -> str:
    return settings.name(settings.queue_name)
