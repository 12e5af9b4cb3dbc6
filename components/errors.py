"""The error every check raises for bad input found before anything is deployed.

Its message names the file, the key (or YAML path) and the fix; entry points (`__main__.py`,
`preflight`) print it as it is, never as a traceback.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from components import yaml_loading
from components.schema_check import proven_valid

SCHEMAS_DIR = Path(__file__).with_name("schemas")


class InvalidConfiguration(Exception):
    """Bad input: settings, a data file, a flow, or a resource the provider would refuse."""


@cache
def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS_DIR / name).read_text())


def load_data_file(path: Path, schema_name: str) -> Any:
    """A project data file (YAML), checked against its JSON Schema in components/schemas/."""
    where = f"{path.parent.name}/{path.name}"
    try:
        document = yaml_loading.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise InvalidConfiguration(f"{where}: cannot be read as YAML ({error})") from None
    schema = _schema(schema_name)
    if proven_valid(document, schema):
        return document
    import jsonschema  # only for a file the quick check could not prove valid: it finds and words every problem

    problems = [
        f"{where}: {'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in jsonschema.Draft202012Validator(schema).iter_errors(document)
    ]
    if problems:
        raise InvalidConfiguration(
            "\n".join(problems) + f"\n    fix: make the file match components/schemas/{schema_name}"
        )
    return document
