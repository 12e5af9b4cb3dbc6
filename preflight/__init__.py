"""preflight: the command-line tools over the program and the policy rules (python -m preflight)."""

# Exit codes shared by every command.
EXIT_OK = 0
"""Ran, and found nothing wrong."""
EXIT_PROBLEM = 1
"""Ran, and found a problem (invalid settings, a mandatory violation, not promotable, a broken org)."""
EXIT_USAGE = 2
"""Could not run: unknown stack, unreadable file, bad option, missing credentials."""
EXIT_OUTPUT_CUT = 141
"""Whatever it found went unprinted: the reader of its output went away (`... | head`), as `cat` reports it."""
EXIT_INTERRUPTED = 130
"""Stopped by Ctrl-C (128 + SIGINT, as shells report it)."""
