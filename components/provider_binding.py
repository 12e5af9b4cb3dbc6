"""The project's one binding to the Genesys Cloud provider: type tokens, plugin, version.

The generated `pulumi-genesyscloud` SDK cannot be installed everywhere this project must run
(CI, reviewers' laptops), so resources register the provider's real type tokens through this thin
binding, exactly as the generated SDK does. Nothing else in the program or in preflight names the
plugin or its version, so switching provider route is a change to this file only; preflight takes
type tokens from here (`type_token`). The policy pack never imports program code: its tokens are generated
from this binding into policy/policy_data.json (`make policy-data`, scripts/generate_policy_data.py).

Routes (see docs/operations.md "Provider routes"):
- "plugin": the published `genesyscloud` resource plugin, fetched by the Pulumi CLI from
  PLUGIN_DOWNLOAD_URL at PLUGIN_VERSION.
- "terraform-provider": `pulumi package add terraform-provider MyPureCloud/genesyscloud`
  (Pulumi >= 3.147), the default, bridges the Terraform provider on the fly through the parameterized
  `terraform-provider` plugin; resources keep the same `genesyscloud:index/...` tokens but carry a
  package reference.

Every property is checked against components/provider_schema.json (extracted from the provider's
schema at TERRAFORM_PROVIDER_VERSION) when a resource is declared: an unknown or misspelt property
or a missing required one fails before anything is deployed.
"""

from __future__ import annotations

import base64
import difflib
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import pulumi

from components.errors import InvalidConfiguration

# --- the pins: change provider versions here and nowhere else ----------------------------------

PROVIDER_ROUTE = "terraform-provider"
"""Which provider route registers the resources: "terraform-provider" (default) or "plugin"."""

PACKAGE_NAME = "genesyscloud"

# Default route: the parameterized `terraform-provider` plugin bridges the Terraform provider
# release our attribute schema was read from, so names and validation match exactly.
TERRAFORM_PROVIDER_SOURCE = "registry.opentofu.org/mypurecloud/genesyscloud"
TERRAFORM_PROVIDER_VERSION = "1.84.1"
"""MyPureCloud/terraform-provider-genesyscloud v1.84.1 (f955430e), the source of provider_schema.json."""
TERRAFORM_BRIDGE_PLUGIN = "terraform-provider"
TERRAFORM_BRIDGE_PLUGIN_VERSION = "1.1.3"
"""pulumi/pulumi-terraform-provider release (tag v1.1.3)."""
MIN_PULUMI_CLI = (3, 147, 0)
"""Parameterized providers need this CLI (pulumi-terraform-provider docs); CI's version is .pulumi-version."""

# Alternative route: the published `genesyscloud` resource plugin. Its release is not verifiable
# from this project's CI, so it is left unset: set it to the release you install
# (`pulumi plugin install resource genesyscloud <version> --server github://api.github.com/MyPureCloud`)
# and check that release bridges TERRAFORM_PROVIDER_VERSION before switching PROVIDER_ROUTE.
PLUGIN_VERSION: str | None = None
PLUGIN_DOWNLOAD_URL = "github://api.github.com/MyPureCloud"

PROVIDER_TOKEN = f"pulumi:providers:{PACKAGE_NAME}"
_SCHEMA_FILE = Path(__file__).with_name("provider_schema.json")


class BindingError(InvalidConfiguration):
    """A resource was declared with properties the provider does not have or lacks required ones."""


@cache
def provider_schema() -> dict[str, Any]:
    """Attribute lists per Terraform resource type, read once."""
    return json.loads(_SCHEMA_FILE.read_text())["resources"]


def type_token(resource_class: type[GenesysResource]) -> str:
    """The engine's type token of a bound resource class, e.g. `genesyscloud:index/flow:Flow`."""
    return provider_schema()[resource_class.TF_TYPE]["token"]


def _parameterization() -> str:
    """The base64 parameter the `terraform-provider` plugin takes: which Terraform provider to bridge."""
    value = {"remote": {"url": TERRAFORM_PROVIDER_SOURCE, "version": TERRAFORM_PROVIDER_VERSION}}
    return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def _package_ref() -> Any:
    """For the terraform-provider route: the package reference every resource must carry."""
    if PROVIDER_ROUTE != "terraform-provider":
        return None
    return pulumi.runtime.register_package(
        TERRAFORM_BRIDGE_PLUGIN,
        TERRAFORM_BRIDGE_PLUGIN_VERSION,
        "",
        PACKAGE_NAME,
        TERRAFORM_PROVIDER_VERSION,
        _parameterization(),
    )


def _plugin_options() -> pulumi.ResourceOptions:
    if PROVIDER_ROUTE == "terraform-provider":
        return pulumi.ResourceOptions()
    if PLUGIN_VERSION is None:
        raise BindingError(
            "components/provider_binding.py: PROVIDER_ROUTE is 'plugin' but PLUGIN_VERSION is unset; "
            "set it to the genesyscloud plugin release you installed (pulumi plugin ls)"
        )
    return pulumi.ResourceOptions(version=PLUGIN_VERSION, plugin_download_url=PLUGIN_DOWNLOAD_URL)


def _translate(attributes: Mapping[str, Any], given: Mapping[str, Any], where: str, problems: list[str]) -> dict:
    """Check `given` (Terraform attribute names) against the schema; return Pulumi property names."""
    out: dict[str, Any] = {}
    settable = {k: a for k, a in attributes.items() if a["presence"] != "computed"}
    for name, value in given.items():
        attribute = settable.get(name)
        if attribute is None:
            guess = difflib.get_close_matches(name, list(settable), n=1)
            hint = f"; did you mean '{guess[0]}'?" if guess else ""
            problems.append(f"{where}: unknown property '{name}'{hint}")
            continue
        if value is None:
            continue
        nested = attribute.get("attributes")
        if nested is not None and attribute["shape"] == "object":
            value = _translate(nested, value, f"{where}.{name}", problems) if isinstance(value, Mapping) else value
        elif nested is not None and attribute["shape"] == "objects" and isinstance(value, (list, tuple)):
            value = [
                _translate(nested, item, f"{where}.{name}[{i}]", problems) if isinstance(item, Mapping) else item
                for i, item in enumerate(value)
            ]
        out[attribute["property"]] = value
    for name, attribute in settable.items():
        if attribute["presence"] == "required" and given.get(name) is None:
            problems.append(f"{where}: required property '{name}' is missing")
    return out


def _autonamed(attributes: Mapping[str, Any], given: Mapping[str, Any], where: str) -> list[str]:
    """An optional top-level `name` left unset is filled by the bridge with `<resource name>-<random>`.

    The dynamic bridge turns autonaming on for every resource (pulumi-terraform-bridge
    dynamic/info.go:156 `SetAutonaming(255, "-")`; pkg/tfbridge/info/autonaming.go:43-63 picks each
    top-level string `name`, Optional or Required, and fills `<resource name>-<7 hex>` when absent).
    For a required `name` the binding already refuses the omission; an optional one (the flow's,
    architect_flow/resource_genesyscloud_architect_flow_schema.go:85-90 at provider v1.84.1) would be
    invented, and the provider reads back the real name (resource_genesyscloud_flow.go:84), so
    every later `up` diffs. One rule for every resource: give the name.
    """
    attribute = attributes.get("name")
    if attribute is None or attribute["presence"] != "optional" or given.get("name") is not None:
        return []
    return [f"{where}: 'name' is optional in the provider, so the bridge would invent one; pass name= explicitly"]


def pulumi_path(tf_type: str, tf_path: str) -> str:
    """A dotted path of provider (Terraform) attribute names as Pulumi names it, e.g. for ignore_changes:
    `messenger.file_upload` -> `messenger.fileUpload`. A one-item block is an object in Pulumi, so the
    path has no index. An unknown name fails with the closest one."""
    attributes, names = provider_schema()[tf_type]["attributes"], []
    for name in tf_path.split("."):
        attribute = attributes.get(name)
        if attribute is None:
            guess = difflib.get_close_matches(name, list(attributes), n=1)
            hint = f"; did you mean '{guess[0]}'?" if guess else ""
            raise BindingError(f"{tf_type}: '{tf_path}' has no attribute '{name}'{hint}")
        names.append(attribute["property"])
        attributes = attribute.get("attributes") or {}
    return ".".join(names)


def to_pulumi_properties(tf_type: str, resource_name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Validate inputs named as the provider names them and return them keyed by Pulumi property."""
    attributes = provider_schema()[tf_type]["attributes"]
    where = f"{tf_type} '{resource_name}'"
    problems = _autonamed(attributes, given, where)
    props = _translate(attributes, given, where, problems)
    if problems:
        raise BindingError("; ".join(problems))
    return props


class GenesysResource(pulumi.CustomResource):
    """Base of every bound Genesys Cloud resource. Subclasses set TF_TYPE and annotate their outputs."""

    TF_TYPE: ClassVar[str]

    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None, **inputs: Any) -> None:
        spec = provider_schema()[self.TF_TYPE]
        wire = to_pulumi_properties(self.TF_TYPE, resource_name, inputs)
        # Like the generated SDK: attributes carry the Python (Terraform) names, the wire the Pulumi names.
        self._pulumi_names = {name: a["property"] for name, a in spec["attributes"].items()}
        self._python_names = {a["property"]: name for name, a in spec["attributes"].items()}
        props: dict[str, Any] = {name: None for name in spec["attributes"] if name != "id"}
        props.update({self._python_names[prop]: value for prop, value in wire.items()})
        secret_outputs = [name for name, a in spec["attributes"].items() if a.get("sensitive")]
        opts = pulumi.ResourceOptions.merge(
            _plugin_options(), pulumi.ResourceOptions(additional_secret_outputs=secret_outputs or None)
        ).merge(opts)
        super().__init__(spec["token"], resource_name, props, opts, package_ref=_package_ref())

    def translate_input_property(self, prop: str) -> str:
        return self._pulumi_names.get(prop, prop)

    def translate_output_property(self, prop: str) -> str:
        return self._python_names.get(prop, prop)


class Provider(pulumi.ProviderResource):
    """The explicit Genesys Cloud provider of a stack. Credentials come from the provider's own
    environment variables (GENESYSCLOUD_OAUTHCLIENT_ID / GENESYSCLOUD_OAUTHCLIENT_SECRET), never from code."""

    def __init__(self, resource_name: str, *, aws_region: str, opts: pulumi.ResourceOptions | None = None) -> None:
        # sdk_debug logs request and response bodies, new OAuth client secrets included (provider
        # docs, GENESYSCLOUD_SDK_DEBUG): pinned off so an ambient variable cannot turn it on.
        props = {"awsRegion": aws_region, "sdkDebug": False}
        opts = pulumi.ResourceOptions.merge(_plugin_options(), opts)
        super().__init__(PACKAGE_NAME, resource_name, props, opts, package_ref=_package_ref())


DIVISION_LOOKUP_TOKEN = f"{PACKAGE_NAME}:index/getAuthDivision:getAuthDivision"


def _lookup(token: str, name: str, provider: pulumi.ProviderResource) -> pulumi.Output[str]:
    opts = pulumi.InvokeOutputOptions(provider=provider, version=PLUGIN_VERSION if PROVIDER_ROUTE == "plugin" else None)
    result = pulumi.runtime.invoke_output(token, {"name": name}, opts, package_ref=_package_ref())
    return result.apply(lambda r: r["id"])


def division_id(name: str, provider: pulumi.ProviderResource) -> pulumi.Output[str]:
    """The id of the division with this name (data source genesyscloud_auth_division)."""
    return _lookup(DIVISION_LOOKUP_TOKEN, name, provider)


ROLE_LOOKUP_TOKEN = f"{PACKAGE_NAME}:index/getAuthRole:getAuthRole"


def role_id(name: str, provider: pulumi.ProviderResource) -> pulumi.Output[str]:
    """The id of the existing role with this name (data source genesyscloud_auth_role)."""
    return _lookup(ROLE_LOOKUP_TOKEN, name, provider)


class AuthRole(GenesysResource):
    TF_TYPE = "genesyscloud_auth_role"
    id: pulumi.Output[str]


class OauthClient(GenesysResource):
    TF_TYPE = "genesyscloud_oauth_client"
    client_id: pulumi.Output[str]
    client_secret: pulumi.Output[str]
    integration_credential_id: pulumi.Output[str]


class Integration(GenesysResource):
    TF_TYPE = "genesyscloud_integration"
    id: pulumi.Output[str]


class IntegrationCredential(GenesysResource):
    TF_TYPE = "genesyscloud_integration_credential"
    id: pulumi.Output[str]


class IntegrationAction(GenesysResource):
    TF_TYPE = "genesyscloud_integration_action"
    id: pulumi.Output[str]


class IntegrationCustomAuthAction(GenesysResource):
    """The custom auth action Genesys creates for a userDefinedOAuth web services integration; the
    provider configures it, never creates or deletes it (docs/guides/custom_auth_action.md)."""

    TF_TYPE = "genesyscloud_integration_custom_auth_action"
    id: pulumi.Output[str]


class RoutingQueue(GenesysResource):
    TF_TYPE = "genesyscloud_routing_queue"
    id: pulumi.Output[str]


class Flow(GenesysResource):
    TF_TYPE = "genesyscloud_flow"
    id: pulumi.Output[str]
    file_content_hash: pulumi.Output[str]


class WebdeploymentsConfiguration(GenesysResource):
    TF_TYPE = "genesyscloud_webdeployments_configuration"
    id: pulumi.Output[str]
    version: pulumi.Output[str]


class WebdeploymentsDeployment(GenesysResource):
    TF_TYPE = "genesyscloud_webdeployments_deployment"
    id: pulumi.Output[str]
    status: pulumi.Output[str]


class ExternalcontactsExternalSource(GenesysResource):
    TF_TYPE = "genesyscloud_externalcontacts_external_source"
    id: pulumi.Output[str]
