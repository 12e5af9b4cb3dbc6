"""Whether a target stack may be promoted from a source stack: the checks behind `preflight promote`.

A target is promotable when it matches the source in everything but its environment-specific
values (preflight/promotion.yaml, the allow-list, as data): the same explicitly set config keys,
the same roles and permissions, the same flow content after substitution, the same policy
results with nothing mandatory violated in the target, and no other resource added, removed or
changed. Every reason is collected, each naming the key or resource and what differs.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

from components import provider_binding as binding
from components import yaml_loading
from components.flow_template import FlowError, render
from components.provider_binding import type_token
from components.settings_model import NAMESPACE, PROJECT_ROOT
from preflight.compare import ABSENT, Change, diff_plans, diff_values, normalise_value, short_type, show
from preflight.inprocess import Declared, Run
from preflight.shared_org import name_collisions, prefix_problems
from preflight.stacks import Plan

ALLOW_LIST_FILE = Path(__file__).with_name("promotion.yaml")
ACCESS_TYPES = frozenset(type_token(cls) for cls in (binding.AuthRole, binding.OauthClient))
FLOW_TYPE = type_token(binding.Flow)
_MAX_FLOW_LINES = 8


@dataclass(frozen=True)
class Reason:
    """Why the target is not promotable."""

    check: str
    """config, roles and permissions, flow content, policy or resources."""
    subject: str
    """The config key or the resource (type and logical name) that differs."""
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.subject}: {self.message}"


@dataclass(frozen=True)
class Allowed:
    """A difference the allow-list permits, with its reason."""

    subject: str
    path: str
    why: str


@dataclass
class Verdict:
    reasons: list[Reason] = field(default_factory=list)
    allowed: list[Allowed] = field(default_factory=list)

    @property
    def promotable(self) -> bool:
        return not self.reasons


def _matches(path: str, pattern: str) -> bool:
    """A pattern covers its path and everything beneath it."""
    return any(fnmatchcase(path, p) for p in (pattern, f"{pattern}.*", f"{pattern}[*"))


@dataclass(frozen=True)
class AllowList:
    entries: dict[str, tuple[dict[str, str], ...]]

    def why(self, section: str, path: str, type_: str = "", name: str = "") -> str | None:
        for entry in self.entries.get(section, ()):
            if (
                _matches(path, entry["path"])
                and fnmatchcase(type_, entry.get("type", "*"))
                and fnmatchcase(name, entry.get("name", "*"))
            ):
                return entry["why"]
        return None


@cache
def allow_list(path: Path = ALLOW_LIST_FILE) -> AllowList:
    document = yaml_loading.safe_load(path.read_text()) or {}
    return AllowList({section: tuple(entries or ()) for section, entries in document.items()})


def _sides(change: Change, source: Plan, target: Plan) -> str:
    return f"{source.label} {show(change.before)}, {target.label} {show(change.after)}"


# --- config -----------------------------------------------------------------------------------


def _explicit_keys(plan: Plan) -> set[str]:
    prefix = NAMESPACE + ":"
    return {key.removeprefix(prefix) for key in plan.stack.config if key.startswith(prefix)}


def check_config(source: Plan, target: Plan, allowed: AllowList, verdict: Verdict) -> None:
    """Same explicitly set keys, and the same values but for environment-specific ones."""
    values = [normalise_value(dict(p.run.settings.raw), "") for p in (source, target)]
    explicit = [_explicit_keys(p) for p in (source, target)]
    plans = (source, target)
    for key in sorted(explicit[0] ^ explicit[1]):
        why = allowed.why("config", key)
        if why:
            verdict.allowed.append(Allowed("config", key, why))
            continue
        i = 1 if key in explicit[1] else 0
        only, other, other_value = plans[i], plans[1 - i], values[1 - i].get(key, ABSENT)
        elsewhere = (
            f"{other.label} does not set it"
            if other_value is ABSENT
            else f"{other.label} uses the default {show(other_value)}"
        )
        message = f"set explicitly in {only.label} only ({only.label} {show(values[i][key])}; {elsewhere})"
        verdict.reasons.append(Reason("config", f"{NAMESPACE}:{key}", message))
    for key in sorted(explicit[0] & explicit[1]):
        for change in diff_values({key: values[0][key]}, {key: values[1][key]}):
            why = allowed.why("config", change.path)
            if why:
                verdict.allowed.append(Allowed("config", change.path, why))
            else:
                verdict.reasons.append(
                    Reason("config", f"{NAMESPACE}:{change.path}", f"differs ({_sides(change, source, target)})")
                )


# --- resources, roles and permissions ---------------------------------------------------------


def check_resources(source: Plan, target: Plan, allowed: AllowList, verdict: Verdict) -> None:
    """No resource added, removed or changed but for allowed inputs and options."""
    for diff in diff_plans(source.run, target.run):
        check = "roles and permissions" if diff.type in ACCESS_TYPES else "resources"
        subject = f"{diff.short_type} {diff.name}"
        if diff.status != "changed":
            only = target if diff.status == "added" else source
            verdict.reasons.append(Reason(check, subject, f"is declared only in {only.label} ({diff.type})"))
            continue
        for section, changes in (("inputs", diff.inputs), ("options", diff.options)):
            for change in changes:
                why = allowed.why(section, change.path, diff.type, diff.name)
                label = change.path if section == "inputs" else f"option {change.path}"
                if why:
                    verdict.allowed.append(Allowed(subject, label, why))
                else:
                    verdict.reasons.append(
                        Reason(check, subject, f"{label} differs ({_sides(change, source, target)})")
                    )


# --- flow content -----------------------------------------------------------------------------


def _rendered(resource: Declared, prefix: str) -> list[str]:
    substitutions = normalise_value(resource.inputs.get("substitutions") or {}, prefix)
    template = PROJECT_ROOT / resource.inputs["filepath"]
    return render(template, substitutions).text.splitlines()


def check_flows(source: Plan, target: Plan, verdict: Verdict) -> None:
    """Each flow renders to the same text once each stack's prefix is stripped from its substitutions."""
    flows = [{r.name: r for r in p.run.resources if r.type == FLOW_TYPE} for p in (source, target)]
    for name in sorted(flows[0].keys() & flows[1].keys()):
        subject = f"{short_type(FLOW_TYPE)} {name}"
        try:
            texts = [_rendered(flows[i][name], p.run.settings.name_prefix) for i, p in enumerate((source, target))]
        except FlowError as error:
            verdict.reasons.append(Reason("flow content", subject, f"cannot render: {error}"))
            continue
        if texts[0] == texts[1]:
            continue
        lines = [
            line
            for line in difflib.unified_diff(texts[0], texts[1], source.label, target.label, n=0, lineterm="")
            if not line.startswith(("---", "+++"))
        ]
        shown = lines[:_MAX_FLOW_LINES] + (
            [f"... {len(lines) - _MAX_FLOW_LINES} more lines"] * (len(lines) > _MAX_FLOW_LINES)
        )
        verdict.reasons.append(
            Reason(
                "flow content",
                subject,
                "the rendered flow differs after substitution:\n      " + "\n      ".join(shown),
            )
        )


# --- policy -----------------------------------------------------------------------------------


def check_policy(source: Plan, target: Plan, results: Callable[[Run], Iterable[Any]], verdict: Verdict) -> None:
    """Same (rule, resource) policy results in both stacks, and no mandatory violation in the target."""
    try:
        found = [list(results(p.run)) for p in (source, target)]
    except ImportError as error:
        verdict.reasons.append(
            Reason("policy", "policy.rules", f"cannot evaluate the policy rules ({error}); promotion needs them")
        )
        return
    names = [{r.urn: r.name for r in p.run.resources} for p in (source, target)]
    keys = [{(v.rule_id, names[i].get(v.urn, v.urn)) for v in found[i]} for i in (0, 1)]
    for (rule, name), where, missing in [
        *((k, source, target) for k in sorted(keys[0] - keys[1])),
        *((k, target, source) for k in sorted(keys[1] - keys[0])),
    ]:
        verdict.reasons.append(Reason("policy", name, f"{rule} reports it in {where.label} but not in {missing.label}"))
    for violation in found[1]:
        if violation.level == "mandatory":
            name = names[1].get(violation.urn, violation.urn)
            verdict.reasons.append(
                Reason("policy", name, f"mandatory {violation.rule_id} violated in {target.label}: {violation.message}")
            )


def evaluate_promotion(
    source: Plan, target: Plan, policy_results: Callable[[Run], Iterable[Any]], allowed: AllowList | None = None
) -> Verdict:
    allowed = allowed or allow_list()
    verdict = Verdict()
    check_config(source, target, allowed, verdict)
    check_resources(source, target, allowed, verdict)
    check_flows(source, target, verdict)
    check_policy(source, target, policy_results, verdict)
    check_shared_org(source, target, verdict)
    return verdict


def check_shared_org(source: Plan, target: Plan, verdict: Verdict) -> None:
    """Two stacks of one org must not name any object alike (preflight/shared_org.py)."""
    if source.label == target.label:
        return  # one stack against a candidate version of itself: its names are its own
    first, second = source.run.settings, target.run.settings
    problems = prefix_problems(first, second, f"stack {source.label}")
    problems += prefix_problems(second, first, f"stack {target.label}")
    for problem in dict.fromkeys(problems):
        verdict.reasons.append(Reason("shared org", f"{NAMESPACE}:namePrefix", problem))
    for kind, name in name_collisions(source.run, target.run):
        verdict.reasons.append(
            Reason(
                "shared org", f"{kind} {name!r}", f"both {source.label} and {target.label} would manage it in one org"
            )
        )
