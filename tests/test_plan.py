"""python -m preflight plan: exit codes, formats, bad input, and no secret in any output."""

from __future__ import annotations

import json

import pytest
import yaml

from components.stack_file import read_stack_file
from preflight.__main__ import main
from preflight.inprocess import run_program
from preflight.plan import make_plan, print_text, to_json, to_markdown
from tests.conftest import EXAMPLES, ROOT, stack_config
from tests.crm_examples import as_custom

# Each test reads what the program declares; it never changes the program (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cached_runs")

NS = "genesys-messaging"
CIPHERTEXT = "v1:cGxhY2Vob2xkZXI=:cmVwbGFjZSB3aXRoIHB1bHVtaSBjb25maWcgc2V0IC0tc2VjcmV0"


def altered_stack(tmp_path, edit) -> str:
    document = yaml.safe_load((EXAMPLES / "Pulumi.prod.yaml").read_text())
    edit(document["config"])
    path = tmp_path / "Pulumi.candidate.yaml"
    path.write_text(yaml.safe_dump(document))
    return str(path)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_committed_stacks_plan_clean_as_json(capsys, stack):
    assert main(["plan", "--stack", stack, "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    region = read_stack_file(ROOT / f"Pulumi.{stack}.yaml").config["genesys-messaging:region"]
    assert plan["stack"] == stack and plan["region"] == region
    # Clean: no mandatory violation; the only warnings allowed are secrets still the committed placeholder.
    placeholders = read_stack_file(ROOT / f"Pulumi.{stack}.yaml").placeholders
    assert plan["summary"] == {"resources": len(plan["resources"]), "violations": len(placeholders), "mandatory": 0}
    assert {v["rule"] for v in plan["violations"]} <= {"placeholder-secret"}
    types = {r["type"] for r in plan["resources"]}
    assert {"OauthClient", "WebdeploymentsDeployment", "Flow", "genesyscloud"} <= types


def test_mandatory_violation_exits_1_and_leads_the_markdown(capsys, tmp_path):
    # A CRM base URL on a Genesys host of another region: settings accept it (https), policy must not.
    path = altered_stack(tmp_path, lambda c: as_custom(c, baseUrl="https://api.mypurecloud.com/crm"))
    assert main(["plan", "--config-file", path, "--format", "markdown"]) == 1
    out = capsys.readouterr().out
    assert out.index("#### Policy violations") < out.index("#### Resources")
    assert "| mandatory | `region-consistency` | `crm-lookup-action-crm-lookup` |" in out


def test_json_violations_carry_rule_resource_message_and_fix(capsys, tmp_path):
    path = altered_stack(tmp_path, lambda c: as_custom(c, baseUrl="https://api.mypurecloud.com/crm"))
    assert main(["plan", "--config-file", path, "--format", "json"]) == 1
    violations = json.loads(capsys.readouterr().out)["violations"]
    assert violations and {"rule", "level", "resource", "message", "fix"} <= set(violations[0])


def test_text_format_lists_resources(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["plan", "--config-file", str(EXAMPLES / "Pulumi.prod.yaml")]) == 0
    out = capsys.readouterr().out
    assert "site-www-deployment" in out and "no policy violations" in out


@pytest.mark.parametrize("columns", [80, 123])
def test_text_format_uses_the_terminal_width(capsys, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["plan", "--config-file", str(EXAMPLES / "Pulumi.prod.yaml")]) == 0
    widths = {len(line) for line in capsys.readouterr().out.splitlines() if line.startswith(("┏", "└"))}
    assert widths == {columns}, widths


def test_invalid_settings_exit_1_with_every_problem(capsys, tmp_path):
    path = altered_stack(
        tmp_path, lambda c: c.update({"genesys-messaging:region": "eu-west-9", "genesys-messaging:x": 1})
    )
    assert main(["plan", "--config-file", path]) == 1
    err = capsys.readouterr().err
    assert "genesys-messaging:region" in err and "genesys-messaging:x" in err
    assert "Traceback" not in err


def test_unknown_stack_is_a_usage_error(capsys):
    assert main(["plan", "--stack", "qa"]) == 2
    err = capsys.readouterr().err
    assert "Pulumi.qa.yaml" in err and "prod" in err and "staging" in err


def test_yaml_syntax_error_is_a_usage_error_with_the_line(capsys, tmp_path):
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text("config:\n  genesys-messaging:region: [eu-west-1\n")
    assert main(["plan", "--config-file", str(path)]) == 2
    assert "line" in capsys.readouterr().err


def test_missing_arguments_is_a_usage_error(capsys):
    assert main(["plan"]) == 2
    assert main(["plan", "--stack", "prod", "--format", "html"]) == 2


def test_no_secret_in_any_format(capsys):
    # Sentinels stand for decrypted secrets; the committed placeholders for encrypted ones.
    plan = make_plan(run_program(stack_config("prod")))
    print_text(plan)
    outputs = [to_json(plan), to_markdown(plan), capsys.readouterr().out]
    for out in outputs:
        assert "sentinel-secret" not in out
        assert "[secret]" in out, "secret inputs are shown as [secret]"
    assert main(["plan", "--stack", "prod", "--format", "json"]) == 0
    assert CIPHERTEXT not in capsys.readouterr().out


def test_placeholder_secrets_are_named_with_the_command_to_set_them(capsys, tmp_path):
    path = altered_stack(tmp_path, lambda c: c[f"{NS}:crm"].update({"apiToken": {"secure": CIPHERTEXT}}))
    assert main(["plan", "--config-file", path, "--format", "json"]) == 0  # a warning in an offline plan
    (found,) = [v for v in json.loads(capsys.readouterr().out)["violations"] if v["rule"] == "placeholder-secret"]
    assert found["level"] == "advisory"
    assert found["message"] == f"{NS}:crm.apiToken is the committed placeholder, not a real secret"
    assert found["fix"].startswith(f"pulumi config set --secret --path '{NS}:crm.apiToken' <value>")
    # The deploy workflow asks for real secrets: then it is a failure.
    assert main(["plan", "--config-file", path, "--require-real-secrets"]) == 1


def test_real_ciphertexts_are_not_placeholders(capsys):
    assert main(["plan", "--config-file", str(EXAMPLES / "Pulumi.prod.yaml"), "--format", "json"]) == 0
    rules = {v["rule"] for v in json.loads(capsys.readouterr().out)["violations"]}
    assert "placeholder-secret" not in rules


def test_json_plan_gives_each_resource_in_the_engines_terms(capsys):
    assert main(["plan", "--config-file", str(EXAMPLES / "Pulumi.prod.yaml"), "--format", "json"]) == 0
    resources = json.loads(capsys.readouterr().out)["resources"]
    by_urn = {r["urn"]: r for r in resources}
    names = {r["name"] for r in resources}
    for r in resources:
        assert r["urn"].endswith(f"::{r['name']}") and r["urn"].split("::")[2].endswith(r["type_token"]), r["urn"]
        assert r["parent"] == "" or r["parent"].startswith("urn:pulumi:prod::"), r["urn"]
        if r["type_token"].startswith("genesyscloud:"):
            assert by_urn[r["provider"]]["type_token"] == "pulumi:providers:genesyscloud", r["urn"]
        text = json.dumps(r["inputs"])
        # An id Genesys assigns is never shown as if it were a value: the offline stand-in is labelled.
        assert not any(f'"{name}-id"' in text for name in names), f"{r['urn']}: raw offline id in {text[:200]}"
    (credential,) = [r for r in resources if r["name"] == "crm-lookup-credential"]
    assert credential["inputs"]["fields"] == "[secret]"


def test_diff_output_is_the_same_in_every_run():
    import subprocess
    import sys

    command = [sys.executable, "-m", "preflight", "diff", "staging", "prod"]
    outputs = {subprocess.run(command, cwd=ROOT, capture_output=True, text=True).stdout for _ in range(3)}
    assert len(outputs) == 1, "diff order changed between runs"


HIDDEN = "\u202e\u2066\u200b\ufeff\x1b[2J\r"


def test_hidden_characters_reaching_a_plan_are_shown_escaped(capsys, monkeypatch):
    # Settings refuse them; a plan escapes any that come another way (a bootstrap division, a rule's message).
    import dataclasses

    monkeypatch.setenv("COLUMNS", "400")
    plan = make_plan(run_program(stack_config("prod")))
    first = dataclasses.replace(plan.resources[0], name=f"queue{HIDDEN}", key_inputs={"name": f"Ho{HIDDEN}me"})
    plan = dataclasses.replace(plan, resources=[first, *plan.resources[1:]])
    plan.violations.append(
        {"rule": "r", "level": "advisory", "resource": "x", "message": f"m{HIDDEN}", "fix": f"f{HIDDEN}"}
    )
    print_text(plan)
    for out in (to_markdown(plan), capsys.readouterr().out):
        assert not any(char in out for char in HIDDEN.replace("[2J", "")), repr(out)
        assert "queue\\u202e\\u2066\\u200b\\ufeff\\x1b[2J\\x0d" in out and "Ho\\u202e" in out and "m\\u202e" in out


@pytest.mark.parametrize(
    ("value", "warned"),
    [(None, True), (["aws"], True), ("genesyscloud", True), (["genesyscloud"], False), (["aws", "*"], False)],
    ids=["removed", "another-package", "not-a-list", "genesyscloud", "all"],
)
def test_a_stack_that_keeps_the_default_provider_gets_a_warning_with_the_line_to_add(capsys, tmp_path, value, warned):
    def edit(config):
        config.pop("pulumi:disable-default-providers")
        if value is not None:
            config["pulumi:disable-default-providers"] = value

    path = altered_stack(tmp_path, edit)
    assert main(["plan", "--config-file", path, "--format", "json"]) == 0  # advisory
    found = [v for v in json.loads(capsys.readouterr().out)["violations"] if v["rule"] == "disable-default-providers"]
    assert bool(found) == warned, found
    if warned:
        assert found[0]["level"] == "advisory" and "Pulumi.candidate.yaml" in found[0]["message"]
        assert found[0]["fix"] == (
            'add this line under config: in Pulumi.candidate.yaml:  pulumi:disable-default-providers: ["genesyscloud"]'
        )
