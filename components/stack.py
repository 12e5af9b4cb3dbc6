"""The whole stack: one explicit provider, then the components, wired from the settings."""

from __future__ import annotations

from typing import Any

import pulumi

from components import naming
from components.access import Access, AccessArgs
from components.access_data import access_spec
from components.crm import Crm, CrmArgs
from components.data_actions import DataActionIntegration, DataActionIntegrationArgs, action_spec
from components.flow_template import (
    FLOWS_DIR,
    ActionContract,
    FlowError,
    FlowReferences,
    error_handling,
    flow_languages,
    supported_languages,
)
from components.inbound_flow import InboundMessageFlow, InboundMessageFlowArgs
from components.messaging_queue import MessagingQueue, MessagingQueueArgs
from components.messenger_identity import MessengerIdentity, MessengerIdentityArgs
from components.provider_binding import Provider, division_id, role_id
from components.settings_model import Settings
from components.web_messaging import ProfileLink, WebMessaging, WebMessagingArgs

CONTACT_LOOKUP_CLIENT = "contact-lookup"
# The Genesys-side actions that put a signed-in conversation on the customer's External Contact
# (docs/how-it-works.md "What links a conversation to the customer"): flow placeholder -> (action name, file).
CONTACT_ACTIONS = {
    "contacts_lookup_action": (naming.CONTACT_LOOKUP_ACTION_NAME, "contact_lookup.yaml"),
    "contacts_enrich_action": ("Create or enrich external contact by external id", "contact_enrich.yaml"),
    "contacts_read_action": ("Get the conversation's external contact", "conversation_contact.yaml"),
    "contacts_merge_action": ("Merge contact into the customer's", "contact_merge.yaml"),
}


def build(settings: Settings) -> dict[str, Any]:
    """Declare every resource of the stack; return the stack outputs."""
    region, prefix, protect = settings.region, settings.name_prefix, settings.is_prod
    # The only provider: region from the settings, credentials from the provider's environment
    # variables. Stack files disable the default provider, so nothing can fall back to ambient config.
    provider = Provider("genesyscloud", aws_region=region.code)
    genesys = pulumi.ResourceOptions(providers=[provider])
    division = division_id(settings.division, provider)

    # Roles exist already (bootstrap/): a client-credentials deployer can grant only roles it holds.
    spec = access_spec()
    access = Access(
        "access",
        AccessArgs(
            clients=spec.clients,
            role_ids={key: role_id(naming.role_name(key), provider) for key in spec.granted_by_stacks},
            name_prefix=prefix,
            division_ids=[division],
            token_validity_seconds=settings.token_validity_seconds,
            protect=protect,
        ),
        genesys,
    )
    crm = Crm(
        "crm",
        CrmArgs(
            crm=settings.crm,
            integration_name=naming.crm_integration_name(settings),
            lookup_action_name=naming.CRM_LOOKUP_ACTION_NAME,
            ticket_action_name=naming.CRM_TICKET_ACTION_NAME,
            external_source_name=naming.external_source_name(settings),
        ),
        genesys,
    )
    contacts_category = naming.contacts_integration_name(settings)
    contacts = DataActionIntegration(
        "contacts",
        DataActionIntegrationArgs(
            integration_name=contacts_category,
            integration_type="purecloud-data-actions",
            credential_slot="pureCloudOAuthClient",
            credential=access.integration_credential_ids[CONTACT_LOOKUP_CLIENT],
            actions=dict(CONTACT_ACTIONS.values()),
            # The contact holds the customer's id under the CRM external source, in the stack's division.
            body_substitutions={"external_source_id": crm.external_source_id, "division_id": division},
        ),
        genesys,
    )
    queue = MessagingQueue(
        "routing",
        MessagingQueueArgs(queue_name=naming.queue_name(settings), division_id=division, protect=protect),
        genesys,
    )
    # What the flow calls, with the contract of the file each action was declared from: the flow's
    # bindings are checked against these before upload, as Archy checks them at publish.
    wired = [
        *((crm.integration_name, name, crm.action_ids[name], file) for name, file in crm.action_files.items()),
        *((contacts_category, name, contacts.action_ids[name], file) for name, file in CONTACT_ACTIONS.values()),
    ]
    flow_actions = {(category, name): action_id for category, name, action_id, _ in wired}
    contracts = {
        (category, name): ActionContract.of(action_spec(file)["contract"]) for category, name, _, file in wired
    }
    # The flow speaks every site's languages; its default is the one most sites default to (flow_languages).
    try:
        default_language, languages = flow_languages(
            [(site.languages, site.default_language) for site in settings.sites]
        )
    except ValueError as error:
        raise FlowError("inbound_message.yaml", [f"{error}; fix: the sites' languages in {settings.source}"]) from None
    flow = InboundMessageFlow(
        "inbound-flow",
        InboundMessageFlowArgs(
            name=naming.flow_name(settings),
            template=FLOWS_DIR / "inbound_message.yaml",
            substitutions={
                "division": settings.division,
                "queue_name": queue.queue_name,
                "crm_category": crm.integration_name,
                "crm_lookup_action": crm.lookup_action_name,
                "crm_ticket_action": crm.ticket_action_name,
                "contacts_category": contacts_category,
                **{placeholder: name for placeholder, (name, _) in CONTACT_ACTIONS.items()},
                "error_handling": error_handling(settings.flow_error_handling, queue.queue_name),
                "default_language": default_language,
                "supported_languages": supported_languages(languages),
            },
            references=FlowReferences(queue_names=frozenset({queue.queue_name}), data_actions=contracts),
            data_action_ids=list(flow_actions.values()),
            protect=protect,
        ),
        # Architect resolves the queue and data actions by name when it publishes: they must exist first.
        pulumi.ResourceOptions(providers=[provider], depends_on=[queue, crm, contacts]),
    )
    identity = MessengerIdentity(
        "identity",
        MessengerIdentityArgs(
            identity_provider=settings.identity_provider,
            integration_type=settings.oidc_integration_type,
            integration_name=naming.oidc_integration_name(settings),
        ),
        genesys,
    )
    sites = {
        site.key: WebMessaging(
            f"site-{site.key}",
            WebMessagingArgs(
                site=site,
                configuration_name=naming.configuration_name(settings, site.key),
                deployment_name=naming.deployment_name(settings, site.key),
                flow_id=flow.flow_id,
                auth_integration_id=identity.integration_id,
                allow_session_upgrade=settings.identity_provider.allow_session_upgrade,
                profile_link=ProfileLink(
                    external_source_id=crm.external_source_id,
                    division_id=division,
                    api_url=region.api_url,
                    login_url=region.login_url,
                ),
                protect=protect,
            ),
            genesys,
        )
        for site in settings.sites
    }

    return {
        "region": region.code,
        "messengerEnvironment": region.messenger_environment,
        "messengerScriptUrl": region.messenger_script_url,
        "apiUrl": region.api_url,
        "loginUrl": region.login_url,
        "websocketUrl": region.websocket_url,
        "flowId": flow.flow_id,
        "queueId": queue.queue_id,
        "oauthClientIds": access.client_ids,
        "deploymentIds": {key: site.deployment_id for key, site in sites.items()},
        # Exactly the Messenger snippet's init options, per site, for the React widget.
        "widgetConfig": {
            key: {"environment": region.messenger_environment, "deploymentId": site.deployment_id}
            for key, site in sites.items()
        },
    }
