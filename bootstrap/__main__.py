"""genesys-messaging bootstrap: the org's custom roles and the deployer client (once per org)."""

import sys
from pathlib import Path

import pulumi

# The bootstrap project lives in bootstrap/; the components it shares with the stacks sit one level up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.errors import InvalidConfiguration
from components.org import build_org
from components.org_settings import load_org_settings

try:
    outputs = build_org(load_org_settings())
except InvalidConfiguration as error:
    raise pulumi.RunError(str(error)) from None

for name, value in outputs.items():
    pulumi.export(name, value)
