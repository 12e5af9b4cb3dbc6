"""The access data file (components/access.yaml), read once and checked for least privilege."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from components.errors import InvalidConfiguration, load_data_file

ACCESS_FILE = Path(__file__).with_name("access.yaml")
API_PERMISSIONS_FILE = Path(__file__).with_name("api_permissions.json")
"""Endpoint -> permissions, generated from the Genesys platform SDK reference (scripts/extract_api_permissions.py)."""
PROVIDER_CALLS_FILE = Path(__file__).with_name("provider_api_calls.json")
"""Provider resource -> endpoints it calls, from the provider's apis.md (scripts/extract_provider_api_calls.py)."""
CLIENT_CREDENTIALS = "CLIENT-CREDENTIALS"
DEPLOYER_ROLE = "deployer"


@dataclass(frozen=True)
class RoleSpec:
    key: str
    description: str
    calls: tuple[str, ...]
    """Every `METHOD /api/v2/...` the role's holder makes (provider resources' calls included)."""
    permissions: tuple[str, ...]
    job_permissions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(provider resource, permissions) a server-side job that resource starts checks as its caller
    (an Archy job publishing a flow): held for that reason although no endpoint's reference lists them."""


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
    """Declared by each stack."""
    bootstrap_clients: dict[str, ClientSpec]
    """Declared once per org by bootstrap/ (the deployer)."""

    @property
    def deployer_permissions(self) -> tuple[str, ...]:
        return self.roles[DEPLOYER_ROLE].permissions

    @property
    def granted_by_stacks(self) -> tuple[str, ...]:
        """Role keys the stacks grant to their clients; the deployer must hold each of them."""
        return tuple(sorted({role for client in self.clients.values() for role in client.roles}))


class AccessDataError(InvalidConfiguration):
    """components/access.yaml breaks a least-privilege rule."""


@cache
def api_permissions() -> dict[str, dict]:
    """`METHOD /path` -> {"any": [...]} | {"all": [...]} | {"none": true}, from the vendor reference."""
    return json.loads(API_PERMISSIONS_FILE.read_text())["endpoints"]


@cache
def provider_api_calls() -> dict[str, dict[str, list[str]]]:
    data = json.loads(PROVIDER_CALLS_FILE.read_text())
    return {"resources": data["resources"], "dataSources": data["dataSources"]}


def _role_calls(key: str, role: dict, problems: list[str], read_from: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The role's own calls plus those of the provider resources it runs (or, for a `readsOf` role, the GET
    calls of the role it reads for), less the documented non-calls."""
    where = f"{ACCESS_FILE.name}: roles.{key}"
    provider = provider_api_calls()
    calls = set(role["calls"]) | {call for call in read_from if call.startswith("GET ")}
    for kind, field in (("resources", "providerResources"), ("dataSources", "providerDataSources")):
        for tf_type in role.get(field, ()):
            if tf_type not in provider[kind]:
                problems.append(
                    f"{where}.{field}: '{tf_type}' is not in {PROVIDER_CALLS_FILE.name}; "
                    "add it to scripts/extract_provider_api_calls.py and regenerate"
                )
                continue
            calls.update(provider[kind][tf_type])
    for call in role.get("notCalled", {}):
        if call not in calls:
            problems.append(f"{where}.notCalled: '{call}' is not among the role's calls; remove it")
    return tuple(sorted(calls - set(role.get("notCalled", {}))))


def _job_permissions(key: str, role: dict, problems: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The role's server-side job permissions, each only for a provider resource the role runs."""
    where = f"{ACCESS_FILE.name}: roles.{key}.jobPermissions"
    runs = set(role.get("providerResources", ()))
    for tf_type in role.get("jobPermissions", {}):
        if tf_type not in runs:
            problems.append(
                f"{where}.{tf_type}: the role runs no {tf_type} (not in its providerResources), so no job of it "
                "needs these permissions; remove the entry"
            )
    return tuple(
        (tf_type, tuple(entry["permissions"]))
        for tf_type, entry in sorted(role.get("jobPermissions", {}).items())
        if tf_type in runs
    )


def permission_problems(
    where: str,
    calls: tuple[str, ...],
    held: tuple[str, ...],
    job_permissions: tuple[tuple[str, tuple[str, ...]], ...] = (),
) -> list[str]:
    """What a role holding `held` lacks for `calls` and its resources' server-side jobs, and what it holds
    that nothing needs."""
    table, problems, used = api_permissions(), [], set()
    for tf_type, needed in job_permissions:
        used.update(needed)
        for permission in sorted(set(needed) - set(held)):
            problems.append(f"{where}: lacks '{permission}', which the server-side job of {tf_type} checks; add it")
    for call in calls:
        need = table.get(call)
        if need is None:
            problems.append(f"{where}: '{call}' is not in {API_PERMISSIONS_FILE.name}; check the path or regenerate it")
            continue
        if "all" in need:
            used.update(need["all"])
            for permission in sorted(set(need["all"]) - set(held)):
                problems.append(f"{where}: lacks '{permission}', which {call} requires; add it")
        elif "any" in need:
            found = set(need["any"]) & set(held)
            used.update(found)
            if not found:
                problems.append(f"{where}: {call} requires one of {need['any']}; add the narrowest")
    for permission in held:
        if permission not in used:
            problems.append(f"{where}: holds '{permission}', which none of its calls needs; remove it")
    return problems


def _check(spec: AccessSpec) -> list[str]:
    where = ACCESS_FILE.name
    problems = []
    for section, clients in (("clients", spec.clients), ("bootstrap", spec.bootstrap_clients)):
        for client in clients.values():
            key = f"{where}: {section}.{client.key}"
            if client.grant_type == CLIENT_CREDENTIALS:
                if not client.roles:
                    problems.append(f"{key}: a client-credentials client gets its rights from roles; add roles")
                if client.scopes:
                    problems.append(
                        f"{key}: scopes do not apply to client-credentials clients; remove scopes, grant roles"
                    )
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
    if DEPLOYER_ROLE not in spec.roles:
        problems.append(f"{where}: roles.{DEPLOYER_ROLE} is missing; the provider's client needs it")
    holders = [client for client in spec.bootstrap_clients.values() if DEPLOYER_ROLE in client.roles]
    for role in spec.granted_by_stacks:
        for client in holders:
            if role not in client.roles:
                problems.append(
                    f"{where}: bootstrap.{client.key}.roles: add '{role}': the stacks grant it, and a "
                    "client-credentials deployer can grant only roles it holds"
                )
    for role in spec.roles.values():
        where_role = f"{where}: roles.{role.key}"
        problems += permission_problems(where_role, role.calls, role.permissions, role.job_permissions)
    return problems


def _clients(data: dict) -> dict[str, ClientSpec]:
    return {
        key: ClientSpec(
            key,
            client["description"],
            client["grantType"],
            tuple(client.get("roles", ())),
            tuple(client.get("scopes", ())),
            bool(client.get("integrationCredential", False)),
        )
        for key, client in data.items()
    }


@cache
def access_spec() -> AccessSpec:
    data = load_data_file(ACCESS_FILE, "access.schema.json")
    problems: list[str] = []
    roles: dict[str, RoleSpec] = {}
    # A `readsOf` role is derived from the role it reads for, so that one is read first.
    for key, role in sorted(data["roles"].items(), key=lambda item: "readsOf" in item[1]):
        read_from: tuple[str, ...] = ()
        if "readsOf" in role:
            source = roles.get(role["readsOf"])
            if source is None:
                problems.append(
                    f"{ACCESS_FILE.name}: roles.{key}.readsOf: '{role['readsOf']}' is not a role without readsOf; "
                    "name a role declared under roles:"
                )
            else:
                read_from = source.calls
        roles[key] = RoleSpec(
            key,
            role["description"],
            _role_calls(key, role, problems, read_from),
            tuple(role["permissions"]),
            _job_permissions(key, role, problems),
        )
    spec = AccessSpec(
        roles={key: roles[key] for key in data["roles"]},
        clients=_clients(data["clients"]),
        bootstrap_clients=_clients(data["bootstrap"]),
    )
    problems += _check(spec)
    if problems:
        raise AccessDataError("\n".join(problems))
    return spec
