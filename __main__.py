"""genesys-messaging: load the stack settings once, build the stack, export its outputs."""

import pulumi

from components.settings import SettingsError, load_from_pulumi
from components.stack import build

try:
    settings = load_from_pulumi()
except SettingsError as error:
    # A clear list of every bad setting, without a Python traceback.
    raise pulumi.RunError(str(error)) from None

for name, value in build(settings).items():
    pulumi.export(name, value)
