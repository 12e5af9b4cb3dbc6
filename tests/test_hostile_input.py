"""Hostile and broken stack files: refused with the file, the key (or line) and the fix; never a hang or a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from preflight.__main__ import main
from tests.conftest import EXAMPLES, ROOT

NS = "genesys-messaging"


def plan(capsys, path: Path | str) -> tuple[int, str]:
    code = main(["plan", "--config-file", str(path)])
    out, err = capsys.readouterr()
    return code, out + err


def edited(tmp_path: Path, edit: Callable[[dict], None]) -> Path:
    document = yaml.safe_load((EXAMPLES / "Pulumi.staging.yaml").read_text())
    edit(document["config"])
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


# --- the file itself -------------------------------------------------------------------------------


def test_alias_bomb_is_refused_at_once(capsys, tmp_path):
    lines = ["config:", '  a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    bomb = tmp_path / "Pulumi.bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    assert len(bomb.read_bytes()) < 2048
    started = time.monotonic()
    code, text = plan(capsys, bomb)
    assert code == 2 and "Pulumi.bomb.yaml: expands to more than" in text and "aliases" in text
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("path", ["/dev/zero", "big"])
def test_endless_or_huge_file_is_refused(capsys, tmp_path, path):
    if path == "big":
        path = tmp_path / "Pulumi.big.yaml"
        path.write_text("config:\n" + "".join(f"  k{i}: {'v' * 100}\n" for i in range(3000)))
    code, text = plan(capsys, path)
    assert code == 2 and "KiB, which no stack file needs" in text


def test_a_key_given_twice_names_both_lines(capsys, tmp_path):
    text = (EXAMPLES / "Pulumi.staging.yaml").read_text()
    twice = tmp_path / "Pulumi.staging.yaml"
    twice.write_text(text.replace("config:\n", f"config:\n  {NS}:region: us-east-1\n", 1))
    code, out = plan(capsys, twice)
    assert code == 2
    assert "Pulumi.staging.yaml: line " in out and f"key '{NS}:region' is given twice (first at line" in out


def test_a_site_given_twice_is_refused(capsys, tmp_path):
    text = (EXAMPLES / "Pulumi.staging.yaml").read_text()
    site = "    support:\n"
    assert site in text
    twice = tmp_path / "Pulumi.staging.yaml"
    twice.write_text(text.replace(site, site + "      domains: [a.example.com]\n" + site, 1))
    code, out = plan(capsys, twice)
    assert code == 2 and "key 'support' is given twice" in out


@pytest.mark.parametrize("command", ["plan", "diff", "doctor"])
def test_a_file_that_is_not_utf8_names_file_line_and_fix(capsys, tmp_path, monkeypatch, command):
    latin = tmp_path / "Pulumi.staging.yaml"
    latin.write_bytes((EXAMPLES / "Pulumi.staging.yaml").read_bytes().replace(b"config:", b"# caf\xe9\nconfig:", 1))
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "id")
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "secret")
    argv = {
        "plan": ["plan", "--config-file", str(latin)],
        "diff": ["diff", str(latin), str(EXAMPLES / "Pulumi.prod.yaml")],
        "doctor": ["doctor", "--config-file", str(latin)],
    }[command]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert "Pulumi.staging.yaml: line " in err and "is not UTF-8; fix: save the file as UTF-8" in err
    assert "Traceback" not in out + err


# --- settings that flow into templates ------------------------------------------------------------

URL_WITH_USER = "https://lookup:hunter2@crm.example.com/api"


@pytest.mark.parametrize(
    ("edit", "key", "expected"),
    [
        (lambda c: c[f"{NS}:crm"].update(baseUrl=URL_WITH_USER), "crm.baseUrl", "user name or password in the URL"),
        (
            lambda c: c[f"{NS}:identityProvider"].update(discoveryUri="https://a:b@id.example.com/.well-known/x"),
            "identityProvider.discoveryUri",
            "user name or password",
        ),
        (
            lambda c: c[f"{NS}:crm"].update(baseUrl="https://${input.externalId}/api"),
            "crm.baseUrl",
            "is not a plain https host name",
        ),
        (
            lambda c: c[f"{NS}:crm"].update(baseUrl="https://crm.example.com/api/$input"),
            "crm.baseUrl",
            "that the data action's template would read",
        ),
        (
            lambda c: c[f"{NS}:crm"].update(contactUrlTemplate="https://crm.example.com/#{{externalId.value}}"),
            "crm.contactUrlTemplate",
            "that the data action's template would read",
        ),
        (lambda c: c.update({f"{NS}:routing": {"queueName": 'VIP "gold"'}}), "routing.queueName", "would change"),
        (lambda c: c.update({f"{NS}:routing": {"queueName": "a }} b"}}), "routing.queueName", "would change"),
        (lambda c: c.update({f"{NS}:routing": {"queueName": "a\nb: c"}}), "routing.queueName", "would change"),
        (lambda c: c.update({f"{NS}:routing": {"queueName": "a # b"}}), "routing.queueName", "would change"),
        (lambda c: c.update({f"{NS}:division": "*"}), "division", "all divisions"),
        (lambda c: c.update({f"{NS}:division": "Home${x}"}), "division", "would change"),
    ],
    ids=[
        "crm-credentials-in-url",
        "idp-credentials-in-url",
        "velocity-host",
        "velocity-path",
        "fragment",
        "quote",
        "braces",
        "newline",
        "hash",
        "all-divisions",
        "velocity-division",
    ],
)
def test_values_substituted_into_templates_are_checked_for_where_they_land(capsys, tmp_path, edit, key, expected):
    code, text = plan(capsys, edited(tmp_path, edit))
    assert code == 1
    assert f"Pulumi.staging.yaml: {NS}:{key}: " in text and expected in text, text
    assert "fix:" in text and "hunter2" not in text and "Traceback" not in text


def test_the_same_domain_under_two_sites_is_refused(capsys, tmp_path):
    def edit(config):
        sites = config[f"{NS}:sites"]
        sites["support"]["domains"].append(sites["www"]["domains"][0])

    code, text = plan(capsys, edited(tmp_path, edit))
    assert code == 1 and "is also a domain of site 'www': two deployments would accept it" in text


def test_a_late_error_prints_its_message_and_no_asyncio_traceback():
    # An error after some resources registered left their tasks on the loop, whose __del__ then
    # printed `Exception ignored in: BaseEventLoop.__del__` at exit, in about half the runs.
    script = (
        "import sys\n"
        "import components.web_messaging as wm\n"
        "from components.errors import InvalidConfiguration\n"
        "class Late(wm.WebdeploymentsDeployment):\n"
        "    def __init__(self, *a, **k):\n"
        "        raise InvalidConfiguration('late error from the last component')\n"
        "wm.WebdeploymentsDeployment = Late\n"
        "from preflight.__main__ import main\n"
        f"sys.exit(main(['plan', '--config-file', {str(EXAMPLES / 'Pulumi.prod.yaml')!r}]))\n"
    )
    for _ in range(10):
        result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 1 and "late error from the last component" in result.stderr
        assert "Exception ignored" not in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("command", [["diff", "staging", "prod"], ["plan", "--stack", "prod", "--format", "json"]])
def test_a_reader_that_goes_away_gets_no_traceback(command):
    # `python -m preflight diff staging prod | head -1`, with the reader gone before the first write (so the
    # outcome does not depend on who is faster): every write fails with EPIPE.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "preflight", *command],
            cwd=ROOT,
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    finally:
        os.close(write_end)
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert result.returncode == 141, (result.returncode, stderr)  # what cat or grep report when cut off


def test_ctrl_c_ends_a_command_with_one_line_and_no_traceback():
    # The SIGINT is sent from inside the run, while the program is being planned: a signal sent after a
    # delay from outside would race the interpreter's start-up and exit, which no program can handle.
    script = (
        "import os, runpy, signal, sys\n"
        "import preflight.stacks as stacks\n"
        "real = stacks.run_program\n"
        "def interrupted(stack):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(stack)\n"
        "stacks.run_program = interrupted\n"
        "sys.argv = ['preflight', 'plan', '--stack', 'prod']\n"
        "runpy.run_module('preflight', run_name='__main__', alter_sys=True)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr and "KeyboardInterrupt" not in result.stderr, result.stderr
    assert (result.returncode, result.stderr.strip().splitlines()[-1]) == (130, "interrupted")


# --- YAML values config cannot hold ----------------------------------------------------------------

LONG_INT = "9" * (sys.get_int_max_str_digits() + 1)


@pytest.mark.parametrize(
    ("value", "what", "fix"),
    [
        ("2026-01-01", "is read by YAML as a date or time, not as text", "quote it: '2026-01-01'"),
        ("2026-01-01 10:00:00", "is read by YAML as a date or time", "quote it: '2026-01-01 10:00:00'"),
        ("!!binary aGVsbG8=", "is !!binary data", "remove the !!binary tag"),
        ("!!set {a: null}", "is a !!set", "write a list instead"),
        (LONG_INT, "is an integer of more than 4300 digits", "use a number in the range the key allows"),
        ("0x" + "f" * 4000, "is an integer of more than 4300 digits", "use a number in the range the key allows"),
    ],
    ids=["date", "datetime", "binary", "set", "long-integer", "long-hex-integer"],
)
@pytest.mark.parametrize("command", ["plan", "diff"])
def test_a_yaml_value_config_cannot_hold_names_file_line_key_and_fix(capsys, tmp_path, command, value, what, fix):
    text = (EXAMPLES / "Pulumi.staging.yaml").read_text()
    anchor = f"  {NS}:namePrefix: stg-\n"
    line = text.splitlines().index(anchor.rstrip("\n")) + 2
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(text.replace(anchor, f"{anchor}  {NS}:org: {value}\n", 1))
    argv = {
        "plan": ["plan", "--config-file", str(path)],
        "diff": ["diff", str(path), str(EXAMPLES / "Pulumi.prod.yaml")],
    }[command]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert f"Pulumi.staging.yaml: line {line}: {NS}:org: {what}" in err and f"fix: {fix}" in err, err
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("  ? [a, b]\n  : c\n", "a key is a list or a mapping; fix: use a plain name as the key"),
        (f"  {NS}:org: {{? [a] : b}}\n", "a key is a list or a mapping"),
        ("  1: x\n", "config key 1 is not a name; fix: use <namespace>:<key>"),
        ("  ~: x\n", "config key None is not a name"),
        (f"  {NS}:sites2: {{2026-01-01: x}}\n", f"{NS}:sites2 (a key): is read by YAML as a date"),
    ],
    ids=["list-key", "nested-list-key", "integer-key", "null-key", "date-key"],
)
def test_a_key_that_is_not_a_name_is_refused_without_a_traceback(capsys, tmp_path, entry, expected):
    text = (EXAMPLES / "Pulumi.staging.yaml").read_text()
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(text.replace("config:\n", "config:\n" + entry, 1))
    code, out = plan(capsys, path)
    assert code == 2 and "Pulumi.staging.yaml: " in out and expected in out, out
    assert "Traceback" not in out


# --- characters a reader cannot see -----------------------------------------------------------------

HIDDEN = {
    "newline": ("\n", "U+000A"),
    "escape": ("\x1b[2J", "U+001B"),
    "rlo": ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    "zwsp": ("\u200b", "U+200B ZERO WIDTH SPACE"),
    "bom": ("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    "isolate": ("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    "line-separator": ("\u2028", "U+2028 LINE SEPARATOR"),
}


def _string_leaves(value, path: str):
    """The key (as problems name it, `ns:sites.www.domains[0]`) of every string in a setting; `secure:` skipped."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict) and set(value) != {"secure"}:
        for key, child in value.items():
            yield from _string_leaves(child, f"{path}.{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _string_leaves(child, f"{path}[{i}]")


def _append(config: dict, key: str, text: str) -> None:
    """Append `text` to the string at `key` (`ns:a.b[0]`) in the stack file's config."""
    top, _, rest = key.partition(".")
    node, last = config, top
    for part in rest.replace("[", ".").replace("]", "").split(".") if rest else []:
        node = node[last]
        last = int(part) if isinstance(node, list) else part
    node[last] = node[last] + text


EXAMPLE_CONFIG = yaml.safe_load((EXAMPLES / "Pulumi.staging.yaml").read_text())["config"]
STRING_SETTINGS = [
    leaf for key, value in EXAMPLE_CONFIG.items() if key.startswith(f"{NS}:") for leaf in _string_leaves(value, key)
]
"""Every plain-text string setting of the example stack (its secrets are opaque to plan)."""


@pytest.mark.parametrize("key", STRING_SETTINGS)
@pytest.mark.parametrize("char", list(HIDDEN), ids=list(HIDDEN))
def test_a_hidden_character_in_any_string_setting_is_refused_with_key_and_fix(capsys, tmp_path, key, char):
    text, name = HIDDEN[char]
    code, out = plan(capsys, edited(tmp_path, lambda config: _append(config, key, text)))
    assert code == 1, out
    assert f"Pulumi.staging.yaml: {key}: " in out and name in out and "control or format character" in out, out
    assert "fix: retype the value without it" in out and "Traceback" not in out
    if text != "\n":
        assert text not in out


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("namePrefix", "stg-"),
        ("org", "acme-eu"),
        ("oidcIntegrationType", "openid-connect-messenger-configuration"),
        ("division", "Home"),
    ],
)
def test_a_value_with_a_final_newline_is_refused(capsys, tmp_path, key, value):
    # `^...$` patterns let `value + "\n"` through: `$` matches before a final newline.
    code, out = plan(capsys, edited(tmp_path, lambda config: config.update({f"{NS}:{key}": value + "\n"})))
    assert code == 1 and f"Pulumi.staging.yaml: {NS}:{key}: " in out and "U+000A" in out, out


def test_a_site_key_with_a_hidden_character_is_refused(capsys, tmp_path):
    def edit(config):
        sites = config[f"{NS}:sites"]
        sites["w\u202eww"] = sites.pop("www")

    code, out = plan(capsys, edited(tmp_path, edit))
    assert code == 1 and f"{NS}:sites.w\\u202eww: the key has" in out and "\u202e" not in out, out


def test_an_unknown_key_with_a_hidden_character_is_shown_escaped(capsys, tmp_path):
    code, out = plan(capsys, edited(tmp_path, lambda config: config.update({f"{NS}:regi\u202eon": "eu-west-1"})))
    assert code == 1 and f"{NS}:regi\\u202eon" in out and "\u202e" not in out, out


def test_a_secure_value_on_a_plain_key_fails_the_plan(capsys, tmp_path):
    code, out = plan(capsys, edited(tmp_path, lambda c: c[f"{NS}:routing"].update(queueName={"secure": "v1:a:b"})))
    assert code == 1, out
    assert f"Pulumi.staging.yaml: {NS}:routing.queueName: is a secure: (encrypted) value, but it is not a secret" in out
