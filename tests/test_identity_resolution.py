"""The identity resolution dynamic resource, driven against the loopback fake org (tests/fake_genesys.py).

Expected bodies are the DeploymentIdentityResolutionConfig of the Genesys platform SDK reference
(WebDeploymentsApi.md / DeploymentIdentityResolutionConfig.md, 257.1.0), written out by hand.
"""

from __future__ import annotations

import pytest

from components.identity_resolution import IdentityResolutionError, IdentityResolutionProvider
from tests.fake_genesys import CLIENT_ID, CLIENT_SECRET, FakeOrg, serve
from tests.test_doctor import staging_settings

DEPLOYMENT = "deployment-www"
PATH = f"/api/v2/webdeployments/deployments/{DEPLOYMENT}/identityresolution"


@pytest.fixture
def org() -> FakeOrg:
    return FakeOrg(staging_settings())


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", CLIENT_SECRET)


def props(base: str, org: FakeOrg, **changes: object) -> dict[str, object]:
    return {
        "deploymentId": DEPLOYMENT,
        "externalSourceId": "source-crm",
        "divisionId": "division-home",
        "automergeAuthenticated": True,
        "apiUrl": base,
        "loginUrl": f"{base}/login/{org.home_region}",
        "resolveIdentities": None,
        **changes,
    }


def test_create_puts_the_documented_body_and_reports_resolution_on(org, credentials):
    with serve(org) as base:
        result = IdentityResolutionProvider().create(props(base, org))
    assert result.id == DEPLOYMENT
    assert org.puts == [
        (
            PATH,
            {
                "resolveIdentities": True,
                "externalSource": {"id": "source-crm"},
                "division": {"id": "division-home"},
                "automerge": {"authenticatedWebMessaging": True, "webTracking": False},
            },
        )
    ]
    assert result.outs["resolveIdentities"] is True and result.outs["externalSourceId"] == "source-crm"


def test_read_shows_a_setting_changed_in_the_ui_and_diff_turns_it_back_on(org, credentials):
    provider = IdentityResolutionProvider()
    with serve(org) as base:
        created = provider.create(props(base, org)).outs
        org.identity_resolution[DEPLOYMENT] = {**org.identity_resolution[DEPLOYMENT], "resolveIdentities": False}
        read = provider.read(DEPLOYMENT, created).outs
    assert read["resolveIdentities"] is False
    diff = provider.diff(DEPLOYMENT, read, props(base, org))
    assert diff.changes and not diff.replaces


def test_update_puts_the_new_source(org, credentials):
    provider = IdentityResolutionProvider()
    with serve(org) as base:
        olds = provider.create(props(base, org)).outs
        news = props(base, org, externalSourceId="source-new")
        assert provider.diff(DEPLOYMENT, olds, news).changes
        outs = provider.update(DEPLOYMENT, olds, news).outs
    assert org.puts[-1][1]["externalSource"] == {"id": "source-new"}
    assert outs["externalSourceId"] == "source-new"


def test_unchanged_inputs_show_no_diff(org, credentials):
    provider = IdentityResolutionProvider()
    with serve(org) as base:
        olds = provider.create(props(base, org)).outs
    diff = provider.diff(DEPLOYMENT, olds, props(base, org))
    assert not diff.changes


def test_another_deployment_replaces(org):
    diff = IdentityResolutionProvider().diff(DEPLOYMENT, props("h", org), props("h", org, deploymentId="other"))
    assert diff.replaces == ["deploymentId"]


def test_delete_switches_resolution_off_there_is_no_delete(org, credentials):
    provider = IdentityResolutionProvider()
    with serve(org) as base:
        provider.delete(DEPLOYMENT, provider.create(props(base, org)).outs)
    assert org.puts[-1] == (PATH, {"resolveIdentities": False})


def test_unknown_deployment_is_a_clear_error_without_secrets(org, credentials):
    with serve(org) as base, pytest.raises(IdentityResolutionError) as caught:
        IdentityResolutionProvider().create(props(base, org, deploymentId="deployment-gone"))
    message = str(caught.value)
    assert "PUT /api/v2/webdeployments/deployments/deployment-gone/identityresolution" in message
    assert "404" in message
    assert CLIENT_SECRET not in message and "fake-access-token" not in message


def test_forbidden_names_the_missing_permission(org, credentials):
    org.forbidden.add("/api/v2/webdeployments/deployments/")
    with serve(org) as base, pytest.raises(IdentityResolutionError, match="webDeployments:identityResolution"):
        IdentityResolutionProvider().create(props(base, org))


def test_wrong_credentials_fail_at_the_token_without_printing_them(org, monkeypatch):
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "wrong-secret-1234")
    org.echo_credentials = True  # a careless gateway quotes what it received
    with serve(org) as base, pytest.raises(IdentityResolutionError) as caught:
        IdentityResolutionProvider().create(props(base, org))
    assert "token exchange" in str(caught.value)
    assert "wrong-secret-1234" not in str(caught.value)
    assert org.puts == []


def test_missing_credentials_name_the_variables(org, monkeypatch):
    monkeypatch.delenv("GENESYSCLOUD_OAUTHCLIENT_ID", raising=False)
    monkeypatch.delenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", raising=False)
    with pytest.raises(
        IdentityResolutionError, match="GENESYSCLOUD_OAUTHCLIENT_ID and GENESYSCLOUD_OAUTHCLIENT_SECRET"
    ):
        IdentityResolutionProvider().create(props("http://127.0.0.1:9", org))


def test_the_serialized_provider_holds_no_credential(credentials):
    import dill

    blob = dill.dumps(IdentityResolutionProvider(), recurse=True)
    assert CLIENT_SECRET.encode() not in blob and CLIENT_ID.encode() not in blob
