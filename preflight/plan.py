"""python -m preflight plan: what a stack will declare, and every policy rule over it, offline.

Runs the real program in-process under Pulumi's mocks with the stack's config (no CLI, no
credentials, no org). Encrypted values stay opaque and no secret is ever printed.
Exit codes: 0 clean, 1 a mandatory violation or invalid settings, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from components.errors import InvalidConfiguration
from components.settings import secret_paths
from components.settings_model import NAMESPACE
from components.stack_file import (
    StackConfig,
    StackFileError,
    read_stack_file,
    read_values_file,
    with_external_values,
)
from components.visible_text import printable, printable_lines
from preflight import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE
from preflight.bootstrap_org import BOOTSTRAP_DIR, bootstrap_violations
from preflight.compare import normalise_value, short_type
from preflight.inprocess import LOOKUP_KINDS, Declared, Run, looked_up_name, offline_id, run_bootstrap, run_program
from preflight.policy_check import evaluate_run
from preflight.policy_config import policy_config_violations
from preflight.shared_org import sibling_problems
from preflight.stacks import Plan, load_for_command, resolve

KEY_INPUTS_FILE = Path(__file__).with_name("key_inputs.json")


@cache
def key_inputs() -> dict[str, list[str]]:
    """The inputs a reviewer needs to see, per resource type (data file)."""
    return json.loads(KEY_INPUTS_FILE.read_text())


def component_of(resource: Declared) -> str:
    """The logical name of the component a resource belongs to ('' for the stack itself)."""
    return resource.parent.rsplit("::", 1)[-1] if "genesys-messaging:index:" in resource.parent else ""


@dataclass(frozen=True)
class PlannedResource:
    type: str
    name: str
    component: str
    key_inputs: dict[str, Any]
    protect: bool
    urn: str
    type_token: str
    parent: str
    provider: str
    """The provider's URN (the engine's reference without its `::<id>`), '' for none."""
    inputs: dict[str, Any]
    """Every input as the engine would receive it: secrets as [secret], offline ids labelled."""


@dataclass(frozen=True)
class PlanReport:
    """What `plan` reports for one stack: its resources and the policy violations."""

    stack: str
    source: str
    region: str
    environment: str
    resources: list[PlannedResource]
    violations: list[dict[str, str]]

    @property
    def mandatory(self) -> list[dict[str, str]]:
        return [v for v in self.violations if v["level"] == "mandatory"]


def policy_violations(run: Run) -> list[dict[str, str]]:
    """Every policy rule over the declared resources; the same rules the policy pack enforces."""
    return [
        {"rule": v.rule_id, "level": v.level, "resource": v.urn.rsplit("::", 1)[-1], "message": v.message, "fix": v.fix}
        for v in evaluate_run(run)
    ]


def planned_resources(run: Run) -> list[PlannedResource]:
    """Every declared resource as a reviewer reads it: all inputs masked and labelled, key inputs picked."""
    resources = []
    labels = offline_ids(run)
    for r in run.resources:
        inputs = labelled(normalise_value({k: r.inputs[k] for k in sorted(r.inputs) if k != "__provider"}, ""), labels)
        if "__provider" in r.inputs:
            inputs["__provider"] = "(the dynamic provider's serialized code)"
        wanted = key_inputs().get(short_type(r.type), [])
        shown = {key: inputs[key] for key in wanted if inputs.get(key) is not None}
        provider = r.provider.rsplit("::", 1)[0] if r.provider else ""
        resources.append(
            PlannedResource(
                short_type(r.type), r.name, component_of(r), shown, r.protect, r.urn, r.type, r.parent, provider, inputs
            )
        )
    return resources


def make_plan(run: Run) -> PlanReport:
    resources = planned_resources(run)
    # Stack-level components first, then each component's children, in a stable order for review.
    resources.sort(key=lambda r: (r.component, r.name))
    settings = run.settings
    return PlanReport(
        settings.stack, settings.source, settings.region.code, settings.environment, resources, policy_violations(run)
    )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for child in value.values():
            yield from _strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child)


def offline_ids(run: Run) -> dict[str, str]:
    """The stand-ins the offline run uses for ids Genesys assigns, each with what it stands for."""
    labels = {offline_id(r.name): f"<id of {r.name}, known after create>" for r in run.resources}
    for r in run.resources:
        for text in _strings(r.inputs):
            for kind in LOOKUP_KINDS:
                name = looked_up_name(kind, text)
                if name is not None and text not in labels:
                    labels[text] = f"<id of {kind} '{name}', looked up at deploy>"
    return labels


def labelled(value: Any, labels: dict[str, str]) -> Any:
    """The value with every offline stand-in id replaced by its label."""
    if isinstance(value, str):
        return labels.get(value, value)
    if isinstance(value, dict):
        return {k: labelled(v, labels) for k, v in value.items()}
    if isinstance(value, list):
        return [labelled(v, labels) for v in value]
    return value


# --- formats ---------------------------------------------------------------------------------------


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "))


def to_json(plan: PlanReport) -> str:
    return json.dumps(
        {
            "stack": plan.stack,
            "source": plan.source,
            "region": plan.region,
            "environment": plan.environment,
            "summary": {
                "resources": len(plan.resources),
                "violations": len(plan.violations),
                "mandatory": len(plan.mandatory),
            },
            "resources": [vars(r) for r in plan.resources],
            "violations": plan.violations,
        },
        indent=2,
    )


def summary_line(plan: PlanReport) -> str:
    verdict = (
        "no policy violations"
        if not plan.violations
        else f"{len(plan.violations)} policy violation(s), {len(plan.mandatory)} mandatory"
    )
    return f"Stack `{plan.stack}` ({plan.environment}, {plan.region}): {len(plan.resources)} resources, {verdict}"


def to_markdown(plan: PlanReport) -> str:
    lines = [f"### Offline plan: {plan.stack}", "", summary_line(plan), ""]
    if plan.violations:
        lines += ["#### Policy violations", "", "| level | rule | resource | problem | fix |", "|---|---|---|---|---|"]
        lines += [
            f"| {v['level']} | `{v['rule']}` | `{v['resource']}` | {_cell(v['message'])} | {_cell(v['fix'])} |"
            for v in plan.violations
        ]
        lines.append("")
    groups: dict[str, list[PlannedResource]] = {}
    for r in plan.resources:
        groups.setdefault(r.component or "(stack)", []).append(r)
    lines += ["#### Resources", ""]
    for component, members in groups.items():
        lines += [
            f"<details><summary><b>{component}</b> ({len(members)})</summary>",
            "",
            "| type | name | protect | key inputs |",
            "|---|---|---|---|",
        ]
        for r in members:
            inputs = _cell("; ".join(f"{k}={_compact(v)}" for k, v in r.key_inputs.items()))
            lines.append(f"| {r.type} | `{r.name}` | {'yes' if r.protect else ''} | {inputs} |")
        lines += ["", "</details>", ""]
    # Values come from the stack's settings: a bidirectional override or zero-width space would reorder or
    # hide what the reviewer reads, so every hidden character is shown as its escape (the lines stay lines).
    return printable_lines("\n".join(lines))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def print_text(plan: PlanReport) -> None:
    from rich.console import Console
    from rich.table import Table

    # markup off: values such as [secret] must print as they are, not as rich tags.
    # The terminal's width (COLUMNS when set; rich falls back to 80 without a terminal).
    console = Console(soft_wrap=False, markup=False)
    # Every cell escaped (visible_text.printable): settings must not reorder or hide what the table shows.
    p = printable
    console.print(p(summary_line(plan).replace("`", "")))
    resources = Table(title="Resources", show_lines=False)
    for column in ("component", "type", "name", "protect", "key inputs"):
        resources.add_column(column, overflow="fold")
    for r in plan.resources:
        inputs = "\n".join(p(f"{k}={_compact(v)}") for k, v in r.key_inputs.items())
        resources.add_row(p(r.component), p(r.type), p(r.name), "yes" if r.protect else "", inputs)
    console.print(resources)
    if plan.violations:
        violations = Table(title="Policy violations")
        for column in ("level", "rule", "resource", "problem", "fix"):
            violations.add_column(column, overflow="fold")
        for v in plan.violations:
            violations.add_row(*(p(v[field]) for field in ("level", "rule", "resource", "message", "fix")))
        console.print(violations)


# --- command line ----------------------------------------------------------------------------------


FIX = "give each stack of one org its own namePrefix, or label different orgs with genesys-messaging:org"
DEFAULT_PROVIDERS_KEY = "pulumi:disable-default-providers"
DEFAULT_PROVIDERS_LINE = f'{DEFAULT_PROVIDERS_KEY}: ["genesyscloud"]'


def default_provider_violations(stack: StackConfig) -> list[dict[str, str]]:
    """Advisory unless the stack file disables the default genesyscloud provider (by name or `*`, pulumi/pulumi#8829):
    without it, a resource that forgot the explicit provider deploys with the ambient credentials and region."""
    try:
        disabled = json.loads(stack.config.get(DEFAULT_PROVIDERS_KEY, "[]"))
    except ValueError:
        disabled = []
    if isinstance(disabled, list) and ("genesyscloud" in disabled or "*" in disabled):
        return []
    return [
        {
            "rule": "disable-default-providers",
            "level": "advisory",
            "resource": stack.stack,
            "message": f"{stack.source} does not disable the default genesyscloud provider: a resource without the "
            "explicit provider would deploy with whatever credentials and region the environment holds",
            "fix": f"add this line under config: in {stack.source}:  {DEFAULT_PROVIDERS_LINE}",
        }
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="stack name: reads Pulumi.<stack>.yaml in the project root")
    source.add_argument("--config-file", type=Path, help="any stack file, e.g. a candidate config")
    source.add_argument(
        "--bootstrap", metavar="ORG", help="a bootstrap/ stack (the org's roles, clients): bootstrap/Pulumi.<ORG>.yaml"
    )
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument(
        "--values-file",
        type=Path,
        help="config the stack gets from a Pulumi ESC environment: the JSON of `pulumi config --json --open` or of "
        "`pulumi env open <env>` (secrets are taken as set and never shown)",
    )
    parser.add_argument(
        "--require-real-secrets",
        action="store_true",
        help="fail (not just warn) on a secret that is still the committed placeholder (the deploy workflow)",
    )


def _print(plan: PlanReport, fmt: str) -> None:
    if fmt == "json":
        print(to_json(plan))
    elif fmt == "markdown":
        print(to_markdown(plan))
    else:
        print_text(plan)


def _run_bootstrap_plan(args: argparse.Namespace) -> int:
    """The offline plan of a bootstrap/ stack, with the pack's rules (environment prod: org-wide, protected)."""
    path = BOOTSTRAP_DIR / f"Pulumi.{args.bootstrap}.yaml"
    try:
        stack = read_stack_file(path)
        run = run_bootstrap(stack)
    except StackFileError as error:
        known = ", ".join(p.name for p in sorted(BOOTSTRAP_DIR.glob("Pulumi.*.yaml"))) or "none"
        print(printable_lines(f"error: {error} (bootstrap stack files: {known})"), file=sys.stderr)
        return EXIT_USAGE
    except InvalidConfiguration as error:
        print(printable_lines(str(error)), file=sys.stderr)
        return EXIT_PROBLEM
    plan = make_plan(run)
    plan.violations.extend(default_provider_violations(stack))
    _print(plan, args.format)
    return EXIT_PROBLEM if plan.mandatory else EXIT_OK


def _load_with_values(ref: str, values_file: Path) -> list[Plan] | int:
    """The stack planned with the values its ESC environment gives it (stack_file.read_values_file)."""
    try:
        stack = read_stack_file(resolve(ref))
        secrets = frozenset(f"{NAMESPACE}:{path}" for path in secret_paths())
        stack = with_external_values(stack, read_values_file(values_file, NAMESPACE, secrets))
        return [Plan(label=stack.stack, stack=stack, run=run_program(stack))]
    except StackFileError as error:
        print(printable_lines(f"error: {error}"), file=sys.stderr)
        return EXIT_USAGE
    except InvalidConfiguration as error:
        print(printable_lines(str(error)), file=sys.stderr)
        return EXIT_PROBLEM


def _environment_hint(ref: str) -> None:
    """A stack importing ESC environments lacks their keys here: say how to give them."""
    try:
        stack = read_stack_file(resolve(ref))
    except StackFileError:
        return
    if stack.environments:
        names = ", ".join(stack.environments)
        print(
            printable_lines(
                f"note: {stack.source} imports the Pulumi ESC environment(s) {names}, whose values are not in the "
                f"file; fix: pulumi config --json --open --stack {stack.stack} > values.json, "
                "then add --values-file values.json"
            ),
            file=sys.stderr,
        )


def run(args: argparse.Namespace) -> int:
    if args.bootstrap:
        return _run_bootstrap_plan(args)
    # An absolute path is always taken as a file, never as a stack name.
    ref = str(args.config_file.resolve()) if args.config_file else args.stack
    outcome = _load_with_values(ref, args.values_file) if args.values_file else load_for_command([ref])
    if isinstance(outcome, int):
        if outcome == EXIT_PROBLEM and not args.values_file:
            _environment_hint(ref)
        return outcome
    planned = outcome[0]
    run = planned.run
    plan = make_plan(run)
    level = "mandatory" if args.require_real_secrets else "advisory"
    plan.violations.extend(
        {
            "rule": "placeholder-secret",
            "level": level,
            "resource": run.settings.stack,
            "message": f"{path} is the committed placeholder, not a real secret",
            "fix": f"pulumi config set --secret --path '{path}' <value> --stack {run.settings.stack}",
        }
        for path in sorted(planned.stack.placeholders)
    )
    plan.violations.extend(default_provider_violations(planned.stack))
    # Stacks beside this one that deploy to the same org must not take its names.
    stack_file = args.config_file.resolve() if args.config_file else resolve(args.stack)
    plan.violations.extend(
        {"rule": "shared-org", "level": "mandatory", "resource": run.settings.stack, "message": problem, "fix": FIX}
        for problem in sibling_problems(stack_file, run.settings)
    )
    # The org's bootstrap stack (bootstrap/ beside the stack file) must let the deployer grant in its division.
    plan.violations.extend(bootstrap_violations(run.settings, stack_file.parent / BOOTSTRAP_DIR.name))
    # The real preview reads the stack's context from policy/config.<stack>.json: it must say what the stack says.
    plan.violations.extend(policy_config_violations(stack_file, run.settings))
    _print(plan, args.format)
    return EXIT_PROBLEM if plan.mandatory else EXIT_OK
