"""python -m preflight <command>: the project's command-line tools, thin over the program and the rules.

Each command is a module of this package exposing `add_arguments(parser)` and `run(args) -> int`.
Exit codes are shared: 0 clean, 1 a problem was found, 2 the command could not run (usage).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from preflight import EXIT_INTERRUPTED, EXIT_OK, EXIT_OUTPUT_CUT, EXIT_USAGE

COMMANDS = {
    "plan": "run the program offline under mocks with a stack's config and check every policy rule",
    "diff": "show resource-by-resource differences between two stacks' plans",
    "promote": "refuse a promotion unless the target stack matches the source in everything but its settings",
    "doctor": "diagnose a live org's messaging setup and name the cause of a 401/403",
    "adopt": "find objects the stack declares that already exist in the org and write a pulumi import file",
    "verify": "prove one signed-in conversation end to end on the org after a deploy, or name the failing link",
    "migrate": "carry Sunshine Conversations users over as External Contacts, and map the app's webhooks",
    "policy-config": "write policy/config.<stack>.json (the policy pack's region and environment) from the stack",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m preflight", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Import only the command asked for (doctor pulls in an HTTP client that plan does not need).
    chosen = [argv[0]] if argv and argv[0] in COMMANDS else list(COMMANDS)
    modules = {name: importlib.import_module(f"preflight.{name.replace('-', '_')}") for name in chosen}
    for name, help_text in COMMANDS.items():
        subparser = commands.add_parser(name, help=help_text, description=help_text)
        if name in modules:
            modules[name].add_arguments(subparser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_OK
    return modules[args.command].run(args)


def _reader_went_away() -> int:
    """The reader of our output closed it (`preflight diff ... | head`): stop quietly, as cat does, without a
    traceback. Standard output points at /dev/null so the interpreter's last flush cannot raise again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OUTPUT_CUT


if __name__ == "__main__":
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        code = _reader_went_away()
    except KeyboardInterrupt:
        # Ctrl-C is the user's choice, not a failure to explain: one line, no traceback. Nothing was deployed.
        print("interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    sys.exit(code)
