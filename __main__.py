"""genesys-messaging: load the stack settings once, build the stack, export its outputs."""

import pulumi

from components.errors import InvalidConfiguration
from components.settings import load_from_pulumi
from components.stack import build

try:
    outputs = build(load_from_pulumi())
except InvalidConfiguration as error:
    # Bad settings, data files or flow: the message names file, key and fix; no Python traceback.
    raise pulumi.RunError(str(error)) from None

for name, value in outputs.items():
    pulumi.export(name, value)
