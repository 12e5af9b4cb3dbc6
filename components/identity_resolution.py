"""IdentityResolution: a deployment's identity resolution setting, as code (a Pulumi dynamic resource).

Turned on for authenticated web messaging with the CRM external source selected and automerge on
(help.mypurecloud.com "Authenticated web messaging quick start guide"; help.genesys.cloud "Enable
automerge to automatically merge contacts": "based on the supplied external Id from the external
source"). Which identifier resolution uses for authenticated web messaging is not documented, so the
inbound flow links the conversation to the customer's contact itself; where resolution already did,
the flow merges nothing (docs/how-it-works.md "What links a conversation to the customer"). The provider (v1.84.1)
has no resource for it, so this one calls the API itself:

    GET/PUT /api/v2/webdeployments/deployments/{deploymentId}/identityresolution
    body DeploymentIdentityResolutionConfig {resolveIdentities, externalSource {id}, division {id},
    automerge {authenticatedWebMessaging, webTracking}}; ALL of webDeployments:deployment:edit and
    webDeployments:identityResolution:edit for PUT (WebDeploymentsApi.md, platform SDK 257.1.0).

There is no DELETE: deleting the resource turns resolution off. Credentials come from the provider's
own environment (GENESYSCLOUD_OAUTHCLIENT_ID / _SECRET) inside each call, never from the program, so
nothing secret is serialized into the state; the region's hosts are inputs, from the stack's region.

Every stack's state holds this provider pickled by reference, as module `components.identity_resolution`,
class `IdentityResolutionProvider` (pulumi 3.272.0 pulumi/dynamic/dynamic.py:279-322, `dill.dumps` at
:318; dill pickles a class of an importable module by name), and the dynamic provider unpickles the
state's copy to delete or refresh a resource (pulumi/dynamic/__main__.py:156-159, :229-236). Renaming or
moving either breaks those for every existing resource; to move it, keep a shim module here that
re-exports the class (docs/operations.md, "Hazards the provider's source showed"; tests/test_updates_and_deletes.py).
"""

from __future__ import annotations

import os
from typing import Any, TypedDict

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

CLIENT_ID_VARIABLE = "GENESYSCLOUD_OAUTHCLIENT_ID"
CLIENT_SECRET_VARIABLE = "GENESYSCLOUD_OAUTHCLIENT_SECRET"
TIMEOUT_SECONDS = 30.0
_REPLACE_ON = ("deploymentId", "apiUrl")
_COMPARED = ("deploymentId", "apiUrl", "loginUrl", "externalSourceId", "divisionId", "automergeAuthenticated")


class IdentityResolutionError(Exception):
    """A call failed; the message names the call, the status and the fix, never a credential."""


def _path(deployment_id: str) -> str:
    return f"/api/v2/webdeployments/deployments/{deployment_id}/identityresolution"


def request_body(props: dict[str, Any]) -> dict[str, Any]:
    """The DeploymentIdentityResolutionConfig the inputs describe."""
    return {
        "resolveIdentities": True,
        "externalSource": {"id": props["externalSourceId"]},
        "division": {"id": props["divisionId"]},
        "automerge": {"authenticatedWebMessaging": bool(props["automergeAuthenticated"]), "webTracking": False},
    }


def _outputs(props: dict[str, Any], answer: Any) -> dict[str, Any]:
    """Inputs plus what Genesys reports, so `pulumi refresh` sees a setting changed in the UI."""
    answer = answer if isinstance(answer, dict) else {}
    source = answer.get("externalSource") if isinstance(answer.get("externalSource"), dict) else {}
    division = answer.get("division") if isinstance(answer.get("division"), dict) else {}
    automerge = answer.get("automerge") if isinstance(answer.get("automerge"), dict) else {}
    return {
        **props,
        "resolveIdentities": bool(answer.get("resolveIdentities", False)),
        "externalSourceId": source.get("id", props.get("externalSourceId")),
        "divisionId": division.get("id", props.get("divisionId")),
        "automergeAuthenticated": bool(automerge.get("authenticatedWebMessaging", False)),
    }


class IdentityResolutionProvider(ResourceProvider):
    """CRUD of one deployment's identity resolution setting over the Genesys API."""

    def _call(self, props: dict[str, Any], method: str, body: dict[str, Any] | None = None) -> Any:
        # Imported here: the provider runs in the dynamic provider's own process (project root as cwd).
        from components.genesys_api import ApiError, GenesysApi

        client_id, secret = os.environ.get(CLIENT_ID_VARIABLE), os.environ.get(CLIENT_SECRET_VARIABLE)
        if not client_id or not secret:
            raise IdentityResolutionError(
                f"identity resolution of deployment {props['deploymentId']}: {CLIENT_ID_VARIABLE} and "
                f"{CLIENT_SECRET_VARIABLE} are not set; export the deployer client's credentials (bootstrap/ outputs)"
            )
        path = _path(props["deploymentId"])
        with GenesysApi(props["apiUrl"], timeout=TIMEOUT_SECONDS) as api:
            token = api.exchange_token(props["loginUrl"], client_id, secret)
            if not token.ok:
                raise IdentityResolutionError(
                    f"token exchange at {props['loginUrl']} failed ({token.error}); check the deployer "
                    "client's credentials and the stack region"
                )
            try:
                return api.get(path) if method == "GET" else api.put(path, body or {})
            except ApiError as error:
                hint = " (the deployer needs webDeployments:identityResolution:*)" if error.status == 403 else ""
                raise IdentityResolutionError(f"{method} {path}: {api.redact(str(error))}{hint}") from None

    def create(self, props: dict[str, Any]) -> CreateResult:
        answer = self._call(props, "PUT", request_body(props))
        return CreateResult(id_=props["deploymentId"], outs=_outputs(props, answer))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=_outputs(props, self._call(props, "GET")))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in _COMPARED if olds.get(key) != news.get(key)]
        if olds.get("resolveIdentities") is False:
            changed.append("resolveIdentities")  # turned off outside this stack: turn it back on
        replaces = [key for key in changed if key in _REPLACE_ON]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_outputs(news, self._call(news, "PUT", request_body(news))))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        # No DELETE exists for this setting: switch resolution off again.
        self._call(props, "PUT", {"resolveIdentities": False})


class IdentityResolutionArgs(TypedDict):
    deployment_id: pulumi.Input[str]
    """The web messaging deployment whose authenticated sessions are resolved."""
    external_source_id: pulumi.Input[str]
    """The CRM external source whose external ids the contacts carry."""
    division_id: pulumi.Input[str]
    """Division of the contacts resolution creates (the stack's division)."""
    automerge_authenticated: bool
    """Merge contacts on the external id for authenticated web messaging."""
    api_url: str
    """The region's API host (components/regions.py)."""
    login_url: str
    """The region's login host, where the deployer's token is minted."""


class IdentityResolution(Resource):
    """One deployment's identity resolution setting (type `pulumi-python:dynamic:Resource`)."""

    resolve_identities: pulumi.Output[bool]

    def __init__(self, name: str, args: IdentityResolutionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {
            "deploymentId": args["deployment_id"],
            "externalSourceId": args["external_source_id"],
            "divisionId": args["division_id"],
            "automergeAuthenticated": args["automerge_authenticated"],
            "apiUrl": args["api_url"],
            "loginUrl": args["login_url"],
            "resolveIdentities": None,
        }
        super().__init__(IdentityResolutionProvider(), name, props, opts)
