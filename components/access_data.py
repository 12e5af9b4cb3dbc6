"""The access data file (components/access.yaml), read once and checked for least privilege."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from components.errors import InvalidConfiguration, load_data_file

ACCESS_FILE = Path(__file__).with_name("access.yaml")
CLIENT_CREDENTIALS = "CLIENT-CREDENTIALS"


@dataclass(frozen=True)
class RoleSpec:
    key: str
    description: str
    permissions: tuple[str, ...]


@dataclass(frozen=True)
class ClientSpec:
    key: str
    description: str
    grant_type: str
    roles: tuple[str, ...]
    scopes: tuple[str, ...]
    integration_credential: bool


@dataclass(frozen=True)
class AccessSpec:
    roles: dict[str, RoleSpec]
    clients: dict[str, ClientSpec]
    deployer_permissions: tuple[str, ...]


class AccessDataError(InvalidConfiguration):
    """components/access.yaml breaks a least-privilege rule."""


def _check(spec: AccessSpec) -> list[str]:
    where = ACCESS_FILE.name
    problems = []
    for client in spec.clients.values():
        key = f"{where}: clients.{client.key}"
        if client.grant_type == CLIENT_CREDENTIALS:
            if not client.roles:
                problems.append(f"{key}: a client-credentials client gets its rights from roles; add roles")
            if client.scopes:
                problems.append(f"{key}: scopes do not apply to client-credentials clients; remove scopes, grant roles")
        else:
            if client.roles:
                problems.append(
                    f"{key}: roles apply only to client-credentials clients; use scopes for {client.grant_type}"
                )
            if not client.scopes:
                problems.append(f"{key}: a {client.grant_type} client needs scopes")
        for role in client.roles:
            if role not in spec.roles:
                problems.append(f"{key}.roles: unknown role '{role}'; declare it under roles:")
    for role in spec.roles.values():
        for permission in role.permissions:
            if permission.count(":") != 2 or "*" in permission:
                problems.append(
                    f"{where}: roles.{role.key}: '{permission}' is not an explicit domain:entity:action permission"
                )
    return problems


@cache
def access_spec() -> AccessSpec:
    data = load_data_file(ACCESS_FILE, "access.schema.json")
    spec = AccessSpec(
        roles={
            key: RoleSpec(key, role["description"], tuple(p["permission"] for p in role["permissions"]))
            for key, role in data["roles"].items()
        },
        clients={
            key: ClientSpec(
                key,
                client["description"],
                client["grantType"],
                tuple(client.get("roles", ())),
                tuple(client.get("scopes", ())),
                bool(client.get("integrationCredential", False)),
            )
            for key, client in data["clients"].items()
        },
        deployer_permissions=tuple(p["permission"] for p in data["deployer"]["permissions"]),
    )
    problems = _check(spec)
    if problems:
        raise AccessDataError("\n".join(problems))
    return spec
