"""Preflight's adapter to the policy rules: runs policy/rules.py over a planned stack as the pack would.

The pack only ever sees a real preview; this module turns the offline run into the same pulumi-policy
argument objects, and owns what belongs to the offline run rather than to the rules:
- ids: a declared resource's id is `<name>-id` under the mocks (preflight/inprocess.py); the rules get it
  as the `id` output the engine would have after create;
- secrets: the run keeps Pulumi's secret wrappers, so preflight checks what the pack cannot see, that
  every secret-named input is a secret (`secret-inputs-encrypted`); the rules get the values revealed,
  as pulumi-policy hands them to the pack.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from policy.common import DATA, ReportViolation, Rule
from preflight.inprocess import Run, is_secret_value, offline_id, reveal


@dataclass(frozen=True)
class Violation:
    rule_id: str
    level: str
    """'mandatory' or 'advisory'."""
    urn: str
    message: str
    """What is wrong and how to fix it."""
    fix: str


# --- the check only preflight can make -------------------------------------------------------------

_SECRET_KEYWORDS = tuple(DATA["secretNames"]["keywords"])
_NOT_SECRET = frozenset(DATA["secretNames"]["notSecret"])


def secret_named(name: str) -> bool:
    """Whether an input's name says it holds a secret."""
    if name in _NOT_SECRET:
        return False
    folded = name.lower().replace("_", "").replace("-", "")
    return any(keyword in folded for keyword in _SECRET_KEYWORDS)


def _plain_secrets(value: Any, path: str = "") -> Iterator[str]:
    """Paths of secret-named inputs that hold a known, non-empty value without a secret wrapper."""
    if is_secret_value(value):
        return
    if isinstance(value, Mapping):
        for key, child in value.items():
            child_path = f"{path}.{key}" if path else str(key)
            if not secret_named(str(key)):
                yield from _plain_secrets(child, child_path)
            elif not is_secret_value(child) and child not in (None, "", [], {}) and not isinstance(child, bool):
                yield child_path
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _plain_secrets(child, f"{path}[{i}]")


def secret_inputs_encrypted_validator(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Secret-named inputs are Pulumi secrets (props here keep Pulumi's secret wrappers)."""
    for path in _plain_secrets(args.props):
        report_violation(
            f"{args.urn} input {path} holds a secret in plain text. Pass it as a secret "
            "(pulumi.Output.secret or a `pulumi config set --secret` value)."
        )


SECRET_RULE = Rule(
    id="secret-inputs-encrypted",
    level="mandatory",
    description="Require secret-named inputs to be Pulumi secrets (checked by preflight).",
    fix="Pass the value as a secret (pulumi.Output.secret / pulumi config set --secret).",
    validator=secret_inputs_encrypted_validator,
)


# --- running the rules -----------------------------------------------------------------------------


def _provider_urn(reference: str) -> str:
    """A provider reference is `<provider urn>::<provider id>`."""
    return reference.rsplit("::", 1)[0] if reference.count("::") > 3 else reference


def _options(resource: Mapping[str, Any]) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=bool(resource.get("protect")),
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=resource.get("parent") or None,
    )


def evaluate(resources: Sequence[Mapping[str, Any]], context: Mapping[str, Any]) -> list[Violation]:
    """Run every rule over declared resources, as the pack would during a preview, then the secret check.

    resources: dicts with `urn`, `type`, `name`, `props` (inputs, camelCase; secrets may keep Pulumi's
    secret wrapper), `provider` (provider reference `<urn>::<id>`, '' if none), `protect`, `parent`.
    context: `region` and `environment` of the stack (the policy config of every rule).
    Returns the violations in rule order, then resource order.
    """
    # Looked up at each run, so a missing rules module fails the caller (promote fails closed on it).
    from policy.rules import RULES

    # What the pack would see: secrets revealed, and each resource's id as the engine knows it once created.
    props_by_urn = {r["urn"]: {"id": offline_id(r["name"]), **reveal(r.get("props") or {})} for r in resources}
    resources_by_urn = {r["urn"]: r for r in resources}

    def provider_of(resource: Mapping[str, Any]) -> PolicyProviderResource | None:
        reference = resource.get("provider") or ""
        if not reference:
            return None
        urn = _provider_urn(reference)
        declared = resources_by_urn.get(urn)
        if declared is not None:
            return PolicyProviderResource(declared["type"], props_by_urn[urn], urn, declared["name"])
        parts = urn.split("::")  # urn:pulumi:<stack>::<project>::<parent types$>type::name
        provider_type = parts[-2].rsplit("$", 1)[-1] if len(parts) > 2 else ""
        return PolicyProviderResource(provider_type, {}, urn, parts[-1])

    def resource_args(r: Mapping[str, Any], props: Mapping[str, Any]) -> ResourceValidationArgs:
        return ResourceValidationArgs(r["type"], props, r["urn"], r["name"], _options(r), provider_of(r), config)

    config = dict(context)
    violations: list[Violation] = []
    for rule in RULES:

        def collect(message: str, urn: str | None = None, *, _rule: Rule = rule) -> None:
            violations.append(Violation(_rule.id, _rule.level, urn or "", message, _rule.fix))

        if rule.stack:
            stack_resources = [
                PolicyResource(
                    r["type"], props_by_urn[r["urn"]], r["urn"], r["name"], _options(r), provider_of(r), None, [], {}
                )
                for r in resources
            ]
            rule.validator(StackValidationArgs(stack_resources, config), collect)
            continue
        for r in resources:
            args = resource_args(r, props_by_urn[r["urn"]])
            rule.validator(args, lambda message, urn=None, _urn=r["urn"]: collect(message, urn or _urn))
    for r in resources:
        for message in _messages(SECRET_RULE, resource_args(r, r.get("props") or {})):
            violations.append(Violation(SECRET_RULE.id, SECRET_RULE.level, r["urn"], message, SECRET_RULE.fix))
    return violations


def _messages(rule: Rule, args: ResourceValidationArgs) -> list[str]:
    found: list[str] = []
    rule.validator(args, lambda message, urn=None: found.append(message))
    return found


def evaluate_run(run: Run) -> list[Violation]:
    """Every rule's violations for what the program declared, with the stack's region and environment."""
    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "props": r.inputs,
            "provider": r.provider,
            "protect": r.protect,
            "parent": r.parent,
        }
        for r in run.resources
    ]
    return evaluate(resources, {"region": run.settings.region.code, "environment": run.settings.environment})
