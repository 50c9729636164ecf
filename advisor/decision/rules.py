"""Loading and evaluating the decision rules (`rules.yaml`).

The rules are data: a condition over the scenario, points per approach and one
sentence of rationale. This module only knows how to read, check and evaluate
them; what the rules say is in the YAML file, where it can be reviewed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from advisor.decision.approaches import APPROACHES
from advisor.decision.scenario import SCENARIO_SPACE, UNKNOWN, Scenario, coerce_field
from advisor.errors import ScenarioError

RULES_PATH = Path(__file__).with_name("rules.yaml")
VETO = "veto"

Effect = float | str  # points, or VETO


@dataclass(frozen=True)
class Rule:
    id: str
    when: dict[str, Any]
    effects: dict[str, Effect]
    rationale: str

    def fires(self, scenario: Scenario) -> bool:
        return evaluate(self.when, scenario)

    @property
    def condition_text(self) -> str:
        return describe_condition(self.when)


@dataclass(frozen=True)
class RuleSet:
    prior: dict[str, float]
    rules: tuple[Rule, ...]

    def by_id(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


# ---------------------------------------------------------------- evaluation


def _known(value: Any) -> bool:
    return value is not None and value != UNKNOWN


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "any":
        return bool(set(actual) & set(expected))
    if op == "all":
        return set(expected) <= set(actual)
    if not _known(actual):
        return False
    return {
        "eq": lambda: actual == expected,
        "in": lambda: actual in expected,
        "lt": lambda: actual < expected,
        "le": lambda: actual <= expected,
        "gt": lambda: actual > expected,
        "ge": lambda: actual >= expected,
    }[op]()


def _field_test(test: Any) -> list[tuple[str, Any]]:
    """A field's test as (operator, operand) pairs."""
    if isinstance(test, dict):
        return list(test.items())
    if isinstance(test, list):
        return [("in", test)]
    return [("eq", test)]


def evaluate(condition: dict[str, Any], scenario: Scenario) -> bool:
    """True when every entry of the condition holds for the scenario."""
    for key, test in condition.items():
        if key == "any":
            holds = any(evaluate(c, scenario) for c in test)
        elif key == "all":
            holds = all(evaluate(c, scenario) for c in test)
        elif key == "not":
            holds = not evaluate(test, scenario)
        else:
            value = getattr(scenario, key)
            holds = all(_compare(op, value, operand) for op, operand in _field_test(test))
        if not holds:
            return False
    return True


# ---------------------------------------------------------------- description

_OP_WORDS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "is", "in": "is one of"}


def describe_condition(condition: dict[str, Any]) -> str:
    """The condition in words: `labeled examples >= 100 and label quality is not low`."""
    parts = []
    for key, test in condition.items():
        if key in ("any", "all"):
            joined = f" {'or' if key == 'any' else 'and'} ".join(
                describe_condition(c) for c in test
            )
            parts.append(f"({joined})")
        elif key == "not":
            parts.append(f"not ({describe_condition(test)})")
        else:
            name = SCENARIO_SPACE[key].label
            for op, operand in _field_test(test):
                if op in ("any", "all"):
                    word = "includes any of" if op == "any" else "includes all of"
                    parts.append(f"{name} {word} {', '.join(operand)}")
                elif isinstance(operand, list):
                    parts.append(f"{name} {_OP_WORDS[op]} {', '.join(map(str, operand))}")
                else:
                    shown = (
                        {True: "yes", False: "no"}.get(operand, operand)
                        if isinstance(operand, bool)
                        else operand
                    )
                    parts.append(f"{name} {_OP_WORDS[op]} {shown}")
    return " and ".join(parts)


# ---------------------------------------------------------------- loading and checking


def _check_condition(condition: Any, where: str, path: Path) -> None:
    if not isinstance(condition, dict) or not condition:
        raise ScenarioError("a condition is a non-empty mapping", file=path, field=where)
    for key, test in condition.items():
        if key in ("any", "all"):
            if not isinstance(test, list) or not test:
                raise ScenarioError(f"'{key}' takes a list of conditions", file=path, field=where)
            for i, sub in enumerate(test):
                _check_condition(sub, f"{where}.{key}[{i}]", path)
        elif key == "not":
            _check_condition(test, f"{where}.not", path)
        elif key not in SCENARIO_SPACE:
            raise ScenarioError(f"unknown scenario field '{key}'", file=path, field=where)
        else:
            for op, operand in _field_test(test):
                _check_operand(key, op, operand, f"{where}.{key}", path)


def _check_operand(key: str, op: str, operand: Any, where: str, path: Path) -> None:
    if op not in (*_OP_WORDS, "any", "all"):
        raise ScenarioError(f"unknown operator '{op}'", file=path, field=where)
    values = operand if isinstance(operand, list) else [operand]
    for value in values:
        try:
            coerce_field(key, [value] if SCENARIO_SPACE[key].kind == "set" else value)
        except ScenarioError as exc:
            raise ScenarioError(exc.message, file=path, field=where) from None


def _check_effects(effects: Any, where: str, path: Path) -> dict[str, Effect]:
    if not isinstance(effects, dict):
        raise ScenarioError("effects is a mapping of approach: points", file=path, field=where)
    for approach, effect in effects.items():
        if approach not in APPROACHES:
            raise ScenarioError(f"unknown approach '{approach}'", file=path, field=where)
        if effect != VETO and not isinstance(effect, int | float):
            raise ScenarioError(
                f"'{approach}': points or veto, got {effect!r}", file=path, field=where
            )
    return {a: (e if e == VETO else float(e)) for a, e in effects.items()}


def parse_rules(data: dict[str, Any], path: Path = RULES_PATH) -> RuleSet:
    """Check a rules mapping (as read from YAML) and build the RuleSet."""
    prior = data.get("prior", {})
    if set(prior) != set(APPROACHES):
        raise ScenarioError(
            f"prior must score every approach: {', '.join(APPROACHES)}", file=path, field="prior"
        )
    rules, seen = [], set()
    for i, entry in enumerate(data.get("rules", [])):
        rule_id = entry.get("id") or f"rules[{i}]"
        if rule_id in seen:
            raise ScenarioError("duplicate rule id", file=path, field=rule_id)
        seen.add(rule_id)
        _check_condition(entry.get("when"), f"{rule_id}.when", path)
        if not str(entry.get("rationale", "")).strip():
            raise ScenarioError("every rule needs a rationale", file=path, field=rule_id)
        rules.append(
            Rule(
                id=rule_id,
                when=entry["when"],
                effects=_check_effects(entry.get("effects", {}), f"{rule_id}.effects", path),
                rationale=" ".join(str(entry["rationale"]).split()),
            )
        )
    return RuleSet(prior={k: float(v) for k, v in prior.items()}, rules=tuple(rules))


def load_rules(path: str | Path | None = None) -> RuleSet:
    """The shipped rules (cached), or a rules file of your own."""
    if path is None:
        return _shipped_rules()
    path = Path(path)
    return parse_rules(yaml.safe_load(path.read_text(encoding="utf-8")), path)


@functools.lru_cache(maxsize=1)
def _shipped_rules() -> RuleSet:
    return parse_rules(yaml.safe_load(RULES_PATH.read_text(encoding="utf-8")), RULES_PATH)
