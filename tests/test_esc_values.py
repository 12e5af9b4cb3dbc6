"""A stack whose settings live in a Pulumi ESC environment plans clean with the values its user has, offline.

The values files are written here by hand in the two shapes Pulumi documents: `pulumi config --json`
(key -> {"value", "objectValue", "secret"}, the value left out for a secret without --show-secrets:
pulumi/pulumi pkg/cmd/pulumi/config.go configValueJSON; "[secret]" inside an object, the blinding decrypter) and
`pulumi env open` (the evaluated environment as JSON, its stack config under `pulumiConfig`:
https://www.pulumi.com/docs/iac/cli/commands/pulumi_env_open/,
https://www.pulumi.com/docs/esc/integrations/infrastructure/pulumi-iac/). The settings moved to ESC are the
committed staging stack's own, whatever they are.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from preflight.__main__ import main
from tests.conftest import ROOT

NS = "genesys-messaging"
MOVED = ("identityProvider", "crm", "routing", "sites")
"""What the team keeps in ESC; the stack file keeps region, environment and prefix."""
PLAIN_SECRETS = {"clientSecret": "idp-s3cret-Zq81", "apiToken": "crm-t0ken-Xv27", "password": "crm-p4ss-Lm55"}


def _secure(node):
    return isinstance(node, dict) and set(node) == {"secure"}


def _with_secrets(node, value):
    """The object with each `secure:` entry replaced by value(key)."""
    if isinstance(node, dict):
        return {k: (value(k) if _secure(v) else _with_secrets(v, value)) for k, v in node.items()}
    return node


def _esc_project(tmp_path: Path) -> tuple[Path, dict]:
    """A scratch project whose staging stack imports an ESC environment holding MOVED; returns the moved values."""
    document = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())
    moved = {key: document["config"].pop(f"{NS}:{key}") for key in MOVED}
    document["environment"] = ["acme/genesys-staging"]
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    shutil.copytree(ROOT / "policy", tmp_path / "policy", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "bootstrap", tmp_path / "bootstrap", ignore=shutil.ignore_patterns("__pycache__", ".venv"))
    return path, moved


def _config_json(moved: dict) -> dict:
    """`pulumi config --json --open` without --show-secrets: secrets blinded, no value shown."""
    out = {}
    for key, value in moved.items():
        has_secret = _with_secrets(value, lambda _k: "[secret]") != value
        shown = _with_secrets(value, lambda _k: "[secret]")
        out[f"{NS}:{key}"] = {"value": json.dumps(shown), "objectValue": shown, "secret": has_secret}
    return out


def _env_open_json(moved: dict) -> dict:
    """`pulumi env open acme/genesys-staging`: secrets in plain text, unmarked; bare keys take the project's."""
    config = {
        key: _with_secrets(value, lambda k: PLAIN_SECRETS.get(k, "other-s3cret-Q")) for key, value in moved.items()
    }
    return {"environmentVariables": {"GREETING": "hello"}, "pulumiConfig": config}


def _plan(capsys, path: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["plan", "--config-file", str(path), "--require-real-secrets", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_without_the_values_plan_names_the_environment_and_the_file_that_gives_them(capsys, tmp_path):
    path, _ = _esc_project(tmp_path)
    code, _, err = _plan(capsys, path)
    assert code == 1
    assert "acme/genesys-staging" in err and "--values-file" in err, err
    assert "pulumi config --json --open --stack staging" in err, err


@pytest.mark.parametrize("shape", ["config", "env"])
def test_an_esc_users_values_pass_the_real_secrets_gate_and_no_secret_is_shown(capsys, tmp_path, shape):
    path, moved = _esc_project(tmp_path)
    values = tmp_path / "values.json"
    values.write_text(json.dumps(_config_json(moved) if shape == "config" else _env_open_json(moved)))
    for fmt in ("json", "markdown", "text"):
        code, out, err = _plan(capsys, path, "--values-file", str(values), "--format", fmt)
        for secret in (*PLAIN_SECRETS.values(), "other-s3cret-Q"):
            assert secret not in out + err, f"{fmt}: a secret from the values file was shown"
        assert code == 0, f"{fmt}: {err}\n{out[-2000:]}"
    plan = json.loads(_plan(capsys, path, "--values-file", str(values), "--format", "json")[1])
    assert plan["summary"]["mandatory"] == 0 and not [
        v for v in plan["violations"] if v["rule"] == "placeholder-secret"
    ]
    queues = [r for r in plan["resources"] if r["type"] == "RoutingQueue"]
    assert queues and moved["routing"]["queueName"] in queues[0]["key_inputs"]["name"], queues


def test_a_placeholder_the_stack_file_keeps_still_fails_the_gate(capsys, tmp_path):
    path, moved = _esc_project(tmp_path)
    document = yaml.safe_load(path.read_text())
    # The file's own key wins over the environment's (ESC: explicit stack config wins), placeholder and all.
    document["config"][f"{NS}:crm"] = moved["crm"]
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    values = tmp_path / "values.json"
    values.write_text(json.dumps(_config_json(moved)))
    code, out, _ = _plan(capsys, path, "--values-file", str(values), "--format", "json")
    assert code == 1
    rules = {v["rule"] for v in json.loads(out)["violations"] if v["level"] == "mandatory"}
    assert rules == {"placeholder-secret"}, rules


@pytest.mark.parametrize(
    "content, expected",
    [
        ("{not json", "not JSON"),
        ("[]", "expected a JSON object"),
        ('{"genesys-messaging:region": "eu-west-1"}', "is not a pulumi config --json entry"),
        ('{"pulumiConfig": []}', "pulumiConfig is not an object"),
    ],
)
def test_a_values_file_of_another_shape_is_refused_naming_the_file(capsys, tmp_path, content, expected):
    path, _ = _esc_project(tmp_path)
    values = tmp_path / "values.json"
    values.write_text(content)
    code, _, err = _plan(capsys, path, "--values-file", str(values))
    assert code == 2 and "values.json" in err and expected in err, err
