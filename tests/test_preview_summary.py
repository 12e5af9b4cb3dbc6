"""The live preview reaches the PR comment only as its exit code, change counts and a link (issue 25)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT
from tests.test_workflows import steps, workflow

SCRIPT = ROOT / "scripts" / "preview_summary.py"
PLANTED = ("s3cr3t-passphrase-9f8e7d", "c2VjcmV0LWNsaWVudC1pZDpzZWNyZXQ=", "ghp_" + "A1b2C3d4E5f6G7h8I9j0")
# A preview as Pulumi prints it (`pulumi preview --diff`), with values a provider or program might echo.
PREVIEW = f"""Previewing update (staging)

     Type                                  Name          Plan
 +   pulumi:pulumi:Stack                   gm-staging    create
 ~   genesyscloud:index/flow:Flow          inbound-flow  update
       ~ substitutions: "crm_password" => "{PLANTED[0]}"
 error: Authorization: Basic {PLANTED[1]} refused; token {PLANTED[2]}

Policies:
    [mandatory]  genesys-messaging v1  region-consistency ({PLANTED[0]})
    [advisory]  genesys-messaging v1  deployment-allowed-domains

Resources:
    + 2 to create
    ~ 1 to update
    +-1 to replace
    26 unchanged
"""


def run(text: str, code: int = 0, url: str = "https://github.com/acme/gm/actions/runs/1") -> str:
    command = [sys.executable, str(SCRIPT), "--exit-code", str(code), "--log-url", url]
    return subprocess.run(command, input=text, capture_output=True, text=True, check=True).stdout


def test_only_the_counts_and_the_link_leave_the_job():
    out = run(PREVIEW, code=255)
    for secret in PLANTED:
        assert secret not in out, out
    assert out.splitlines() == [
        "exit code: 255 (failed)",
        "changes: 2 to create, 1 to update, 1 to replace, 26 unchanged",
        "policy violations: 1 advisory, 1 mandatory",
        "the full preview, with secrets masked: https://github.com/acme/gm/actions/runs/1",
    ]


def test_an_unexpected_link_is_not_echoed():
    assert "javascript" not in run(PREVIEW, url="javascript:alert(1)")


def test_the_workflow_keeps_the_full_preview_out_of_the_artifact():
    job = workflow("pull-request.yml")["jobs"]["preview"]
    (step,) = [s for s in steps(job) if "pulumi preview --stack" in s.get("run", "")]
    script = step["run"]
    # The raw output is written outside the uploaded folder, printed to the masked log, summarised, then removed.
    assert "> full-preview.txt" in script and "cat full-preview.txt" in script, script
    summarise = 'preview_summary.py --exit-code "$code" --log-url "$LOG_URL" < full-preview.txt > "preview/preview-'
    assert summarise in script, script
    assert "rm -f full-preview.txt" in script
    assert not [line for line in script.splitlines() if "pulumi preview" in line and "preview/" in line], script
