"""The declared estate of the example stacks equals the reviewed snapshots (tests/snapshots/, `make snapshot`)."""

from __future__ import annotations

import difflib

import pytest

from scripts import snapshot_estate
from scripts.snapshot_estate import SNAPSHOTS, snapshots


def test_the_estate_matches_the_reviewed_snapshots():
    for name, text in snapshots().items():
        committed = (SNAPSHOTS / name).read_text()
        if committed != text:
            diff = "".join(difflib.unified_diff(committed.splitlines(True), text.splitlines(True), name, "now", n=2))
            pytest.fail(f"tests/snapshots/{name} is out of date: run `make snapshot` and review:\n{diff[:4000]}")


@pytest.mark.parametrize(
    ("module", "attribute", "change"),
    [
        ("components.messaging_queue", "MESSAGE_MEDIA_SETTINGS", lambda v: {**v, "alerting_timeout_sec": 31}),
        ("components.naming", "CRM_TICKET_ACTION_NAME", lambda v: v + " (v2)"),
    ],
    ids=["queue-alerting-timeout", "ticket-action-name"],
)
def test_a_quiet_change_to_what_would_be_deployed_shows_in_a_snapshot(monkeypatch, module, attribute, change):
    import importlib

    target = importlib.import_module(module)
    monkeypatch.setattr(target, attribute, change(getattr(target, attribute)))
    changed = [name for name, text in snapshots().items() if (SNAPSHOTS / name).read_text() != text]
    assert changed, f"changing {module}.{attribute} left every snapshot unchanged"


def _changed_snapshots() -> list[str]:
    return sorted(name for name, text in snapshots().items() if (SNAPSHOTS / name).read_text() != text)


@pytest.mark.parametrize(
    ("prefix_property", "replacement"),
    [("login_url", "https://signin.{domain}"), ("websocket_url", "wss://messaging.{domain}")],
    ids=["login-host-prefix", "websocket-host-prefix"],
)
def test_a_changed_host_prefix_shows_in_every_stack_snapshot(monkeypatch, prefix_property, replacement):
    from components.regions import Region

    monkeypatch.setattr(Region, prefix_property, property(lambda region: replacement.format(domain=region.domain)))
    assert {"staging.json", "prod.json"} <= set(_changed_snapshots())


def test_a_changed_messenger_environment_code_shows_in_a_snapshot(monkeypatch, tmp_path):
    import json

    from components import regions

    table = json.loads(regions._TABLE_FILE.read_text())
    for row in table["regions"].values():
        row["messengerEnvironment"] += "-x"
    changed = tmp_path / "regions.json"
    changed.write_text(json.dumps(table))
    monkeypatch.setattr(regions, "_TABLE_FILE", changed)
    regions.regions.cache_clear()
    try:
        assert {"staging.json", "prod.json"} <= set(_changed_snapshots())
    finally:
        regions.regions.cache_clear()


def test_an_inverted_lookup_decision_in_the_flow_shows_in_every_stack_snapshot(monkeypatch):
    from components import flow_template, inbound_flow

    render = inbound_flow.render

    def inverted(template, substitutions):
        rendered = render(template, substitutions)
        text = rendered.text.replace("exp: Message.IsAuthenticated and", "exp: !Message.IsAuthenticated and")
        assert text != rendered.text, "the flow no longer guards its lookups with Message.IsAuthenticated"
        return flow_template.RenderedFlow(template=rendered.template, text=text, document=rendered.document)

    monkeypatch.setattr(inbound_flow, "render", inverted)
    assert {"staging.json", "prod.json"} <= set(_changed_snapshots())


def test_check_mode_names_stale_snapshots(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(snapshot_estate, "SNAPSHOTS", tmp_path)
    assert snapshot_estate.main(["--check"]) == 1
    assert "run make snapshot" in capsys.readouterr().err
    assert not list(tmp_path.iterdir()), "--check writes nothing"


def test_a_hard_coded_session_upgrade_shows_in_a_snapshot(monkeypatch):
    # Settings refuse identityProvider.allowSessionUpgrade: true, so every valid stack has false and a
    # hard-coded true shows in each snapshot.
    import components.web_messaging as web_messaging

    original = web_messaging.WebdeploymentsConfiguration

    def hard_coded(resource_name, opts, **inputs):
        inputs["authentication_settings"] = {**inputs["authentication_settings"], "allow_session_upgrade": True}
        return original(resource_name, opts, **inputs)

    monkeypatch.setattr(web_messaging, "WebdeploymentsConfiguration", hard_coded)
    changed = [name for name, text in snapshots().items() if (SNAPSHOTS / name).read_text() != text]
    assert sorted(changed) == ["prod.json", "staging.json"], changed
