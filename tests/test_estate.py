"""The messaging estate per stack: deployments, configurations, identity, CRM lookup, queue, outputs."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from components.regions import region_for_host
from components.settings_model import CustomCrm, SalesforceCrm, ZendeskCrm
from preflight.inprocess import is_secret_value, reveal, run_program
from tests.conftest import example_config

NS = "genesys-messaging"


def by_id(run, suffix):
    return {f"{r.name}-id": r for r in run.of_type(suffix)}


def test_one_configuration_and_deployment_per_site(run):
    sites = {s.key for s in run.settings.sites}
    assert len(run.of_type(":WebdeploymentsConfiguration")) == len(sites)
    assert len(run.of_type(":WebdeploymentsDeployment")) == len(sites)
    assert set(run.outputs["deploymentIds"]) == sites


def test_deployment_domains_equal_the_site_and_never_allow_all(run):
    sites = {s.key: s for s in run.settings.sites}
    for deployment in run.of_type(":WebdeploymentsDeployment"):
        site = sites[deployment.name.removeprefix("site-").removesuffix("-deployment")]
        assert deployment.inputs["allowedDomains"] == list(site.domains), deployment.urn
        assert deployment.inputs["allowAllDomains"] is False, deployment.urn


def test_configurations_are_headless_and_authenticated_through_the_oidc_integration(run):
    integrations = by_id(run, ":Integration")
    for configuration in run.of_type(":WebdeploymentsConfiguration"):
        inputs = configuration.inputs
        assert inputs["headlessModeEnabled"] is True, configuration.urn
        auth = inputs["authenticationSettings"]
        assert auth["enabled"] is True, configuration.urn
        assert auth["allowSessionUpgrade"] == run.settings.identity_provider.allow_session_upgrade
        integration = integrations[auth["integrationId"]]
        assert integration.inputs["integrationType"] == run.settings.oidc_integration_type, configuration.urn


def test_configuration_languages_come_from_the_site(run):
    sites = {s.key: s for s in run.settings.sites}
    for configuration in run.of_type(":WebdeploymentsConfiguration"):
        site = sites[configuration.name.removeprefix("site-").removesuffix("-configuration")]
        assert configuration.inputs["languages"] == list(site.languages)
        assert configuration.inputs["defaultLanguage"] == site.default_language


def test_deployments_reference_this_stacks_flow_and_configuration(run):
    (flow,) = run.of_type(":Flow")
    configurations = by_id(run, ":WebdeploymentsConfiguration")
    for deployment in run.of_type(":WebdeploymentsDeployment"):
        assert deployment.inputs["flowId"] == f"{flow.name}-id", deployment.urn
        referenced = configurations[deployment.inputs["configuration"]["id"]]
        assert referenced.parent == deployment.parent, f"{deployment.urn} uses another site's configuration"
        assert deployment.inputs["configuration"]["version"], deployment.urn


def test_oidc_integration_is_enabled_with_discovery_uri_and_secret_credential(run):
    (identity,) = [i for i in run.of_type(":Integration") if i.name.startswith("identity-")]
    assert identity.inputs["intendedState"] == "ENABLED"
    properties = json.loads(identity.inputs["config"]["properties"])
    assert properties["discoveryUri"] == run.settings.identity_provider.discovery_uri
    credential_ids = set(identity.inputs["config"]["credentials"].values())
    (credential,) = [c for c in run.of_type(":IntegrationCredential") if f"{c.name}-id" in credential_ids]
    assert is_secret_value(credential.inputs["fields"]), f"{credential.urn}: IdP credential fields not secret"
    assert reveal(credential.inputs["fields"])["clientSecret"].startswith("sentinel-secret-")


def crm_host(crm) -> str:
    """The one host a preset's actions may call: the custom base URL's, or the vendor's from its settings."""
    if isinstance(crm, CustomCrm):
        return urllib.parse.urlsplit(crm.base_url).netloc
    return crm.host


def test_crm_data_actions_are_https_on_the_preset_host_and_enabled(run):
    actions = {a.inputs["name"]: a for a in run.of_type(":IntegrationAction") if a.name.startswith("crm-")}
    host = crm_host(run.settings.crm)
    for action in actions.values():
        url = action.inputs["configRequest"]["requestUrlTemplate"]
        assert url.startswith(f"https://{host}/"), f"{action.urn}: {url} leaves https://{host}"
    if isinstance(run.settings.crm, CustomCrm):
        ticket = actions["Create ticket for conversation"].inputs["configRequest"]["requestUrlTemplate"]
        assert ticket.startswith(run.settings.crm.base_url.rstrip("/") + "/"), ticket
    contract = json.loads(actions["Look up customer by external id"].inputs["contractInput"])
    assert contract["required"] == ["externalId"]
    integrations = by_id(run, ":Integration")
    for action in actions.values():
        integration = integrations[action.inputs["integrationId"]]
        assert integration.inputs["integrationType"] == "custom-rest-actions", action.urn
        assert integration.inputs["intendedState"] == "ENABLED", action.urn
        assert action.inputs["category"] == integration.inputs["config"]["name"], action.urn


def test_ticket_request_is_idempotent_on_the_conversation_id(run):
    (ticket,) = [a for a in run.of_type(":IntegrationAction") if a.inputs["name"] == "Create ticket for conversation"]
    request = ticket.inputs["configRequest"]
    if isinstance(run.settings.crm, SalesforceCrm):
        # An upsert addressed by the conversation id: a repeat updates the same Case.
        assert request["requestType"] == "PATCH", ticket.urn
        assert request["requestUrlTemplate"].endswith("/$esc.uriEncode(${input.conversationId})"), ticket.urn
    else:
        assert request["headers"]["Idempotency-Key"] == "$esc.jsonString(${input.conversationId})", ticket.urn
    assert "$esc.jsonString(${input.conversationId})" in request["requestTemplate"], ticket.urn


def test_contact_lookup_is_exact_on_the_crm_external_source(run):
    (lookup,) = [a for a in run.of_type(":IntegrationAction") if a.name == "contacts-action-contact-lookup"]
    request = lookup.inputs["configRequest"]
    # ExternalContactsApi.md: POST /api/v2/externalcontacts/identifierlookup/contacts, body ContactIdentifier.
    assert (request["requestType"], request["requestUrlTemplate"]) == (
        "POST",
        "/api/v2/externalcontacts/identifierlookup/contacts",
    )
    body = request["requestTemplate"]
    assert '"type": "ExternalId"' in body and '"id": "crm-external-source-id"' in body, body
    assert "?q=" not in request["requestUrlTemplate"]


def test_crm_credential_secret_is_secret(run):
    crm = run.settings.crm
    (credential,) = [c for c in run.of_type(":IntegrationCredential") if c.name.startswith("crm-")]
    assert is_secret_value(credential.inputs["fields"]), credential.urn
    fields = reveal(credential.inputs["fields"])
    if isinstance(crm, SalesforceCrm):
        assert credential.inputs["credentialTypeName"] == "userDefinedOAuth"
        assert fields["clientId"] == crm.client_id and fields["clientSecret"].startswith("sentinel-secret-")
    else:
        assert credential.inputs["credentialTypeName"] == "basicAuth"
        # Zendesk API token auth: `{email}/token` and the token (Zendesk API reference, API token).
        user = f"{crm.email}/token" if isinstance(crm, ZendeskCrm) else crm.username
        assert fields["userName"] == user and fields["password"].startswith("sentinel-secret-")


def test_contact_lookup_runs_as_the_least_privilege_client(run):
    (integration,) = [i for i in run.of_type(":Integration") if i.name.startswith("contacts-")]
    assert integration.inputs["integrationType"] == "purecloud-data-actions"
    (client,) = run.of_type(":OauthClient")
    credential = integration.inputs["config"]["credentials"]["pureCloudOAuthClient"]
    assert credential == f"access-credential-{client.name.removeprefix('access-client-')}-id"
    actions = [a for a in run.of_type(":IntegrationAction") if a.name.startswith("contacts-")]
    assert len(actions) == 4, [a.name for a in actions]
    # Relative paths: the integration calls the org's own API, so no host can point at another region.
    for action in actions:
        assert action.inputs["configRequest"]["requestUrlTemplate"].startswith("/api/v2/"), action.urn


def test_external_source_links_to_the_crm_record(run):
    (source,) = run.of_type(":ExternalcontactsExternalSource")
    assert source.inputs["linkConfiguration"]["uriTemplate"] == run.settings.crm.contact_url_template
    assert source.inputs["active"] is True


def test_queue_is_prefixed_and_in_the_stack_division(run):
    (queue,) = run.of_type(":RoutingQueue")
    assert queue.inputs["name"] == run.settings.name_prefix + run.settings.queue_name
    assert queue.inputs["divisionId"] == f"division-{run.settings.division}"
    assert queue.inputs["mediaSettingsMessage"]["alertingTimeoutSec"] >= 7


def host(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0]


# The hosts' prefixes on one region domain: the Genesys host convention (components/regions.json `_source.hosts`,
# developer.genesys.cloud/platform/api/); the API one is the provider's GetRegionBasePath (provider.go:278-280).
HOST_PREFIXES = {"apiUrl": "api.", "loginUrl": "login.", "websocketUrl": "webmessaging.", "messengerScriptUrl": "apps."}


def test_outputs_for_the_widget_match_the_region(run):
    # Any stack's values: the region is the stack's, every host sits on one domain of that region,
    # and every site's widget uses the one environment. The values themselves: the example tests below.
    outputs, code = run.outputs, run.settings.region.code
    assert outputs["region"] == code
    assert outputs["messengerEnvironment"], "the widget needs the Messenger environment"
    for key, config in outputs["widgetConfig"].items():
        assert config == {"environment": outputs["messengerEnvironment"], "deploymentId": outputs["deploymentIds"][key]}
    domain = host(outputs["apiUrl"]).removeprefix("api.")
    for name, prefix in HOST_PREFIXES.items():
        assert host(outputs[name]) == prefix + domain, f"{name}: {outputs[name]} is not {prefix}{domain}"
        assert outputs[name].startswith(("https://", "wss://")), f"{name}: {outputs[name]} is not encrypted"
    found = region_for_host(host(outputs["apiUrl"]))
    assert found is not None and found.code == code, f"{outputs['apiUrl']} is not in {code}"


# Values for the example stacks' region, by hand. eu-west-1 is mypurecloud.ie (terraform-provider-genesyscloud
# v1.84.1 f955430e, genesyscloud/provider/provider.go:247, getRegionMap); its Messenger environment prod-euw1 is the
# one on published Messenger snippets (components/regions.json `_source.messengerEnvironment`).
EU_WEST_1 = {
    "region": "eu-west-1",
    "messengerEnvironment": "prod-euw1",
    "apiUrl": "https://api.mypurecloud.ie",
    "loginUrl": "https://login.mypurecloud.ie",
    "websocketUrl": "wss://webmessaging.mypurecloud.ie",
    "messengerScriptUrl": "https://apps.mypurecloud.ie/genesys-bootstrap/genesys.min.js",
}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_example_stack_outputs_are_the_regions_real_hosts(run_with, stack):
    run = run_with(stack, {})  # tests/fixtures/Pulumi.<stack>.yaml: region eu-west-1
    assert {name: run.outputs[name] for name in EU_WEST_1} == EU_WEST_1
    assert {c["environment"] for c in run.outputs["widgetConfig"].values()} == {"prod-euw1"}
    for resolution in [r for r in run.resources if r.name.endswith("-identity-resolution")]:
        inputs = resolution.inputs
        expected = (EU_WEST_1["apiUrl"], EU_WEST_1["loginUrl"])
        assert (inputs["apiUrl"], inputs["loginUrl"]) == expected, resolution.urn


def test_no_output_and_no_plain_input_contains_a_secret(run):
    assert "sentinel-secret" not in json.dumps(run.outputs)
    assert not run.secret_outputs, "nothing the widget reads should need to be a secret"
    for resource in run.resources:
        plain = {k: v for k, v in resource.inputs.items() if not is_secret_value(v)}
        assert "sentinel-secret" not in json.dumps(plain, default=str), f"{resource.urn} has a secret in plain text"


def test_prod_protects_clients_deployments_flow_and_queue(run):
    for suffix in (":OauthClient", ":WebdeploymentsDeployment", ":Flow", ":RoutingQueue"):
        for resource in run.of_type(suffix):
            assert resource.protect == run.settings.is_prod, resource.urn


def test_three_sites_yield_three_configurations_and_deployments(run_with):
    sites = {
        key: {"domains": [f"{key}.example.com"], "languages": ["en-us"], "defaultLanguage": "en-us"}
        for key in ("www", "support", "shop")
    }
    run = run_with("prod", {f"{NS}:sites": json.dumps(sites)})
    assert len(run.of_type(":WebdeploymentsConfiguration")) == 3
    deployments = run.of_type(":WebdeploymentsDeployment")
    assert sorted(d.inputs["allowedDomains"][0] for d in deployments) == sorted(f"{k}.example.com" for k in sites)
    assert set(run.outputs["widgetConfig"]) == set(sites)


def test_region_change_moves_provider_hosts_and_environment(run_with):
    # eu-central-1 is mypurecloud.de (provider.go:251 at v1.84.1); prod-euc1 is on published Messenger snippets
    # (components/regions.json `_source.messengerEnvironment`).
    run = run_with("staging", {f"{NS}:region": "eu-central-1"})
    (provider,) = [r for r in run.resources if r.type == "pulumi:providers:genesyscloud"]
    assert provider.inputs["awsRegion"] == "eu-central-1"
    assert run.outputs["apiUrl"] == "https://api.mypurecloud.de"
    assert run.outputs["loginUrl"] == "https://login.mypurecloud.de"
    assert {c["environment"] for c in run.outputs["widgetConfig"].values()} == {"prod-euc1"}


def test_runs_in_one_process_do_not_leak_into_each_other():
    # Real runs, not the fixtures' cached ones: this is what makes caching them sound.
    for stack in ("staging", "prod", "staging"):
        run = run_program(example_config(stack))
        for resource in run.resources:
            assert resource.urn.startswith(f"urn:pulumi:{stack}::"), resource.urn
            assert not resource.parent or resource.parent.startswith(f"urn:pulumi:{stack}::"), resource.parent


def test_data_action_url_placeholders_must_all_be_substituted():
    from components.data_actions import url_template
    from components.errors import InvalidConfiguration

    assert url_template("x.yaml", "{{base}}/c/${input.id}", {"base": "https://crm"}) == "https://crm/c/${input.id}"
    with pytest.raises(InvalidConfiguration, match=r"data_actions/x.yaml: request.urlTemplate: \{\{crm_url\}\} has no"):
        url_template("x.yaml", "{{crm_url}}/c", {"base": "https://crm"})


def test_every_deployment_resolves_signed_in_customers_to_the_crm_source(run):
    (source,) = run.of_type(":ExternalcontactsExternalSource")
    deployments = {f"{d.name}-id": d for d in run.of_type(":WebdeploymentsDeployment")}
    resolutions = [r for r in run.resources if r.name.endswith("-identity-resolution")]
    assert {r.inputs["deploymentId"] for r in resolutions} == set(deployments), "one per deployment"
    for resolution in resolutions:
        inputs = resolution.inputs
        assert resolution.type == "pulumi-python:dynamic:Resource", resolution.urn
        assert inputs["externalSourceId"] == f"{source.name}-id", resolution.urn
        assert inputs["divisionId"] == f"division-{run.settings.division}", resolution.urn
        assert inputs["automergeAuthenticated"] is True, resolution.urn
        # The same region hosts the widget is given (their values: the example tests above).
        assert (inputs["apiUrl"], inputs["loginUrl"]) == (run.outputs["apiUrl"], run.outputs["loginUrl"])
        assert "sentinel-secret" not in json.dumps(inputs), f"{resolution.urn}: no credential in state"
