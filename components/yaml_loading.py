"""YAML parsing through libyaml when PyYAML was built with it: the pure-Python parser costs more
than everything else the offline plan does (measured by scripts/benchmark_plan.py)."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # type: ignore[assignment]
"""The same safe schema either way: CSafeLoader only swaps the scanner and parser for libyaml's."""


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=SafeLoader)
