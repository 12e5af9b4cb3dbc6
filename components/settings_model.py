"""The stack settings as the program uses them: frozen values and what derives from them, nothing else.

No I/O and no loading here: `components/settings.py` reads and validates a stack's config and builds
these. Components import their types from this module, so declaring a resource never pulls in the
loader (JSON Schema, YAML, the Pulumi config). `Region` comes from components/regions.py, whose
table is read lazily, on the first `regions()` call, never on import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.regions import Region

NAMESPACE = "genesys-messaging"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SecretText:
    """A secret config value: usable by the program, never shown by repr, str or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The plain value, for the one place that hands it to a secret `pulumi.Output`."""
        return self._value

    def __repr__(self) -> str:
        return "SecretText(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretText) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Site:
    """One web property the custom widget runs on: one Messenger configuration and deployment."""

    key: str
    domains: tuple[str, ...]
    languages: tuple[str, ...]
    default_language: str


@dataclass(frozen=True)
class IdentityProvider:
    """The OpenID Connect IdP customers sign in with before they message (authenticated messaging)."""

    discovery_uri: str
    client_id: str
    client_secret: SecretText
    allow_session_upgrade: bool


@dataclass(frozen=True)
class ZendeskCrm:
    """Zendesk Support (crm.kind: zendesk): users found by external_id, tickets opened through the API."""

    subdomain: str
    email: str
    """The agent the API token belongs to; the data action authenticates as `{email}/token`."""
    api_token: SecretText
    ticket_tag: str = "web_messaging"
    tier_field: str = "tier"
    """Key of the Zendesk user field holding the customer's tier (user_fields.<key>)."""
    contact_url_template: str = ""
    kind: str = "zendesk"

    @property
    def host(self) -> str:
        """The only host the Zendesk actions and links may name."""
        return f"{self.subdomain}.zendesk.com"


@dataclass(frozen=True)
class SalesforceCrm:
    """Salesforce (crm.kind: salesforce): Contact found by an External ID field, Case upserted by another."""

    instance: str
    api_version: str
    contact_external_id_field: str
    case_external_id_field: str
    client_id: str
    client_secret: SecretText
    tier_field: str | None = None
    case_origin: str = "Web"
    contact_url_template: str = ""
    kind: str = "salesforce"

    @property
    def host(self) -> str:
        """The My Domain API host (tokens and REST calls); nothing else is ever called."""
        return f"{self.instance}.my.salesforce.com"

    @property
    def lightning_host(self) -> str:
        """Where agents open records (Lightning Experience) of the same My Domain."""
        return f"{self.instance}.lightning.force.com"


@dataclass(frozen=True)
class CustomRequest:
    """One request of the custom preset, from crm.lookup / crm.ticket (templates already validated)."""

    method: str
    path: str
    """Path under base_url; {externalId}, {conversationId}, {site} mark where the inputs go (URI-encoded)."""
    response: Mapping[str, str]
    """Contract output -> JSONPath in the CRM's answer."""
    body: Mapping[str, Any] | None = None
    """The JSON body; strings may hold the same {placeholders} (JSON-escaped)."""


@dataclass(frozen=True)
class CustomCrm:
    """Your own API (crm.kind: custom, the project's original behaviour): everything from stack settings."""

    base_url: str
    contact_url_template: str
    username: str
    password: SecretText
    lookup: CustomRequest
    ticket: CustomRequest
    kind: str = "custom"


Crm = ZendeskCrm | SalesforceCrm | CustomCrm
"""The ticketing system the inbound flow looks customers up in and opens tickets in (crm.kind)."""


@dataclass(frozen=True)
class Settings:
    """Everything a stack declares, validated. Components receive parts of it as Args."""

    project: str
    stack: str
    source: str
    region: Region
    environment: str
    division: str
    name_prefix: str
    org: str
    """Label of the Genesys org; stacks with the same label (and region) share it."""
    token_validity_seconds: int
    oidc_integration_type: str
    flow_error_handling: str
    """What the inbound flow does on a runtime error: disconnect or transferToAcd."""
    sites: tuple[Site, ...]
    identity_provider: IdentityProvider
    crm: Crm
    queue_name: str
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)
    """The validated config values with defaults applied (secrets still wrapped), for diff and promote."""

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"

    def name(self, base: str) -> str:
        """A Genesys object name with this stack's prefix, so stacks sharing an org never clash."""
        return f"{self.name_prefix}{base}"
