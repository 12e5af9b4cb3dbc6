"""python -m preflight promote: a target is promotable only if nothing but environment-specific values differ."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from preflight import promote, stacks
from preflight.promotion import ALLOW_LIST_FILE, AllowList, allow_list, evaluate_promotion
from tests.crm_examples import as_custom
from tests.test_diff import altered_stack, cli, distinct_sentinels, example_stacks  # noqa: F401 (autouse)

# Each test reads what the program declares; it never changes the program (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cached_runs")

NS = "genesys-messaging"


@pytest.fixture(autouse=True)
def no_policy_violations(monkeypatch):
    """policy/rules.py is written elsewhere; tests that are not about policy see a clean result."""
    monkeypatch.setattr(promote, "_policy_results", lambda run: [])


def promote_to(capsys, target: str, *extra: str) -> tuple[int, str, str]:
    return cli(capsys, "promote", "--from", "staging", "--to", target, *extra)


def reasons(capsys, target: str) -> list[dict]:
    code, out, err = promote_to(capsys, target, "--format", "json")
    document = json.loads(out)
    assert code == (0 if document["promotable"] else 1), err
    return document["reasons"]


@pytest.mark.committed
def test_committed_stacks_are_promotable(capsys):
    code, out, err = promote_to(capsys, "prod")
    assert code == 0, out + err
    assert out.startswith("promote staging -> prod: promotable")


def test_example_stacks_are_promotable_with_their_differences_explained(capsys):
    code, out, err = promote_to(capsys, "prod")
    assert code == 0, out + err
    assert out.startswith("promote staging -> prod: promotable")
    # The environment-specific differences are listed as allowed, with their reason.
    assert "WebdeploymentsDeployment site-www-deployment: allowedDomains: the site's domains" in out
    assert "config: identityProvider.discoveryUri: each environment signs customers in" in out


def test_two_labelled_orgs_promote(capsys, tmp_path):
    # What the README tells a team with two orgs to do: label each. Promotion must still be possible.
    target = altered_stack(tmp_path, lambda c: c.update({f"{NS}:org": "acme-prod"}))
    code, out, err = promote_to(capsys, target)
    assert code == 0, out + err
    assert "config: org: labels the Genesys org of each stack" in out, out


def test_an_extra_config_key_fails(capsys, tmp_path):
    target = altered_stack(tmp_path, lambda c: c.update({f"{NS}:division": "Home"}))
    (reason,) = reasons(capsys, target)
    assert reason["check"] == "config"
    assert reason["subject"] == f"{NS}:division"
    assert 'set explicitly in prod only (prod "Home"; staging uses the default "Home")' in reason["message"]


def test_a_different_token_validity_fails_on_config_and_access(capsys, tmp_path):
    def edit(config):
        config[f"{NS}:tokenValiditySeconds"] = 7200

    found = reasons(capsys, altered_stack(tmp_path, edit))
    assert {(r["check"], r["subject"]) for r in found} == {
        ("config", f"{NS}:tokenValiditySeconds"),
        ("roles and permissions", "OauthClient access-client-contact-lookup"),
    }
    access = next(r for r in found if r["check"] == "roles and permissions")
    assert access["message"] == "accessTokenValiditySeconds differs (staging 3600, prod 7200)"


def test_a_different_queue_name_fails_on_config_queue_and_flow(capsys, tmp_path):
    def edit(config):
        config[f"{NS}:routing"]["queueName"] = "Web Support"

    code, out, _ = promote_to(capsys, altered_stack(tmp_path, edit))
    assert code == 1
    assert f'[config] {NS}:routing.queueName: differs (staging "Web Messaging Support", prod "Web Support")' in out
    assert '[resources] RoutingQueue routing-queue: name differs (staging "Web Messaging Support"' in out
    assert "[flow content] Flow inbound-flow-flow: the rendered flow differs after substitution" in out
    assert "Web Support" in out.split("[flow content]")[1]


def test_a_different_site_language_list_fails(capsys, tmp_path):
    def edit(config):
        config[f"{NS}:sites"]["www"]["languages"] = ["en-us", "nl"]

    found = {(r["check"], r["subject"]): r["message"] for r in reasons(capsys, altered_stack(tmp_path, edit))}
    # The flow speaks the sites' languages: staging's flow has German, this prod's has not.
    flow = found.pop(("flow content", "Flow inbound-flow-flow"))
    assert "-    de:" in flow and "+    de:" not in flow, flow
    substitution = found.pop(("resources", "Flow inbound-flow-flow"))
    assert substitution.startswith("substitutions.supported_languages differs"), substitution
    assert found == {
        ("config", f"{NS}:sites.www.languages"): 'differs (staging ["en-us", "nl", "de"], prod ["en-us", "nl"])',
        ("resources", "WebdeploymentsConfiguration site-www-configuration"): (
            'languages differs (staging ["en-us", "nl", "de"], prod ["en-us", "nl"])'
        ),
    }


def test_an_extra_site_fails(capsys, tmp_path):
    def edit(config):
        config[f"{NS}:sites"]["blog"] = {"domains": ["blog.example.com"], "languages": ["en"], "defaultLanguage": "en"}

    found = {(r["check"], r["subject"]) for r in reasons(capsys, altered_stack(tmp_path, edit))}
    assert ("config", f"{NS}:sites.blog.languages") in found
    assert ("config", f"{NS}:sites.blog.defaultLanguage") in found
    assert ("resources", "WebdeploymentsConfiguration site-blog-configuration") in found
    assert ("resources", "WebdeploymentsDeployment site-blog-deployment") in found
    assert ("config", f"{NS}:sites.blog.domains") not in found


def test_an_altered_flow_fails_on_flow_content(capsys, monkeypatch, tmp_path):
    template = Path(stacks.PROJECT_ROOT / "flows" / "inbound_message.yaml")
    altered = tmp_path / "inbound_message.yaml"
    text = template.read_text()
    assert "  startUpRef: " in text
    other = '  startUpRef: "/inboundShortMessage/states/state[Other]"\n  #'
    altered.write_text(text.replace("  startUpRef: ", other, 1))
    load = stacks.load

    def load_with_altered_flow(ref, root=stacks.PROJECT_ROOT):
        plan = load(ref, root)
        if plan.label == "prod":
            (flow,) = plan.run.of_type(":Flow")
            flow.inputs["filepath"] = str(altered)
        return plan

    monkeypatch.setattr(stacks, "load", load_with_altered_flow)
    code, out, _ = promote_to(capsys, "prod")
    assert code == 1
    assert "[flow content] Flow inbound-flow-flow: the rendered flow differs after substitution" in out
    assert '-  startUpRef: "/inboundShortMessage/states/state[Identify and route_10]"' in out
    assert '+  startUpRef: "/inboundShortMessage/states/state[Other]"' in out


def test_allowed_differences_come_from_the_data_file(capsys):
    entries = yaml.safe_load(ALLOW_LIST_FILE.read_text())
    assert all(entry.get("why") for section in entries.values() for entry in section)
    source, target = stacks.load("staging"), stacks.load("prod")
    assert evaluate_promotion(source, target, lambda run: []).promotable
    without_domains = AllowList(
        {
            section: tuple(e for e in found if e["path"] != "allowedDomains")
            for section, found in allow_list().entries.items()
        }
    )
    verdict = evaluate_promotion(source, target, lambda run: [], without_domains)
    assert {(r.subject, r.message.split(" ")[0]) for r in verdict.reasons} == {
        ("WebdeploymentsDeployment site-www-deployment", "allowedDomains"),
        ("WebdeploymentsDeployment site-support-deployment", "allowedDomains"),
    }


def violation(rule_id: str, urn: str, level: str = "advisory") -> SimpleNamespace:
    return SimpleNamespace(rule_id=rule_id, level=level, urn=urn, message=f"{rule_id} says so", fix="fix it")


def test_a_mandatory_violation_in_the_target_fails(capsys, monkeypatch):
    def results(run):
        (queue,) = run.of_type(":RoutingQueue")
        return [violation("queue-rule", queue.urn, "mandatory")]

    monkeypatch.setattr(promote, "_policy_results", results)
    found = reasons(capsys, "prod")
    assert found == [
        {
            "check": "policy",
            "subject": "routing-queue",
            "message": "mandatory queue-rule violated in prod: queue-rule says so",
        }
    ]


def test_different_policy_results_fail(capsys, monkeypatch):
    def results(run):
        (flow,) = run.of_type(":Flow")
        return [violation("advice", flow.urn)] if run.settings.environment == "staging" else []

    monkeypatch.setattr(promote, "_policy_results", results)
    found = reasons(capsys, "prod")
    assert found == [
        {"check": "policy", "subject": "inbound-flow-flow", "message": "advice reports it in staging but not in prod"}
    ]


def test_the_same_advisory_results_pass(capsys, monkeypatch):
    monkeypatch.setattr(promote, "_policy_results", lambda run: [violation("advice", run.of_type(":Flow")[0].urn)])
    assert promote_to(capsys, "prod")[0] == 0


def test_without_the_policy_rules_promotion_fails_closed(capsys, monkeypatch):
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "policy.rules", None)
    code, out, _ = promote_to(capsys, "prod")
    assert code == 1
    assert "[policy] policy.rules: cannot evaluate the policy rules" in out


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_never_appear(capsys, monkeypatch, tmp_path, fmt):
    distinct_sentinels(monkeypatch)
    # A failing promotion prints every difference it saw, allowed or not.
    target = altered_stack(tmp_path, lambda c: c.update({f"{NS}:tokenValiditySeconds": 600}))
    code, out, err = promote_to(capsys, target, "--format", fmt)
    assert code == 1
    assert "sentinel-secret" not in out + err
    if fmt == "json":
        assert json.loads(out)["promotable"] is False


def test_usage_errors_exit_2(capsys, tmp_path):
    assert promote_to(capsys, "nosuchstack")[0] == 2
    assert promote_to(capsys, str(tmp_path / "Pulumi.gone.yaml"))[0] == 2
    assert cli(capsys, "promote", "--from", "staging")[0] == 2


def test_invalid_target_settings_exit_1_with_the_problems(capsys, tmp_path):
    code, out, err = promote_to(capsys, altered_stack(tmp_path, lambda c: c.update({f"{NS}:environment": "live"})))
    assert (code, out) == (1, "")
    assert f"{NS}:environment" in err


def test_reasons_name_the_stacks_in_order(capsys, tmp_path):
    target = altered_stack(tmp_path, lambda c: c[f"{NS}:routing"].update({"queueName": "Other"}), stack="staging")
    code, out, _ = cli(capsys, "promote", "--from", "prod", "--to", target)
    assert code == 1
    assert f'{NS}:routing.queueName: differs (prod "Web Messaging Support", staging "Other")' in out


def test_verdict_is_a_plain_value():
    source = stacks.load("staging")
    verdict = evaluate_promotion(source, source, lambda run: [])
    assert dataclasses.asdict(verdict) == {"reasons": [], "allowed": []}


@pytest.mark.committed
def test_committed_stacks_are_promotable_under_the_real_policy_rules(capsys, monkeypatch):
    from preflight.policy_check import evaluate_run

    monkeypatch.setattr(promote, "_policy_results", evaluate_run)
    code, out, err = promote_to(capsys, "prod")
    assert code == 0, out + err


def test_a_mandatory_violation_in_the_target_blocks_promotion_under_the_real_rules(capsys, monkeypatch, tmp_path):
    from preflight.policy_check import evaluate_run

    monkeypatch.setattr(promote, "_policy_results", evaluate_run)
    # crm.baseUrl may differ between stacks, but not onto a Genesys host of another region.
    target = altered_stack(tmp_path, lambda c: as_custom(c, baseUrl="https://api.mypurecloud.com/crm"))
    code, out, _ = promote_to(capsys, target)
    assert code == 1
    assert "region-consistency" in out
