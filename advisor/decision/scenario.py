"""The scenario: the facts about a team's situation that decide how to adapt a model.

A `Scenario` is a frozen, validated dataclass. Every field may be left unknown
(the default), and a rule only fires on what is known. It is built from a
mapping (`scenario_from_mapping`), a YAML or JSON file (`load_scenario_file`,
errors name the file, line and field), `field=value` command-line overrides
(`apply_overrides`), or free text (`advisor.decision.text`).

`SCENARIO_SPACE` lists what each field can be: a quiz generator samples from
it, the engine searches it for "what would change the verdict", and validation
checks against it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from advisor.errors import ScenarioError
from advisor.fileio import read_text

UNKNOWN = "unknown"
EXAMPLES_DIR = Path(__file__).with_name("examples")


@dataclass(frozen=True)
class FieldSpec:
    """What one scenario field can hold.

    `kind` is "choice" (one of `values`), "count" (a whole number >= 0; `values`
    is a ladder of typical amounts), "flag" (true/false), "set" (any subset of
    `values`) or "number" (a positive limit; `values` are typical ones).
    """

    kind: str
    values: tuple[Any, ...]
    help: str
    label: str


SCENARIO_SPACE: dict[str, FieldSpec] = {
    "labeled_examples": FieldSpec(
        "count",
        (0, 12, 40, 100, 500, 5_000, 50_000),
        "curated input -> output examples you have (0: none)",
        "labeled examples",
    ),
    "label_quality": FieldSpec(
        "choice",
        ("high", "mixed", "low"),
        "how clean and consistent the examples are",
        "label quality",
    ),
    "unlabeled_corpus": FieldSpec(
        "choice",
        ("none", "small", "medium", "large", "massive"),
        "raw domain text: small < 1M tokens (a handbook), medium < 100M, large < 10B, massive beyond",
        "unlabeled domain corpus",
    ),
    "knowledge": FieldSpec(
        "choice",
        ("none", "public", "private"),
        "facts the answers need: none, public (the model may know them), private/proprietary",
        "knowledge the answers need",
    ),
    "knowledge_changes": FieldSpec(
        "choice",
        ("never", "yearly", "monthly", "weekly", "daily", "realtime"),
        "how often that knowledge changes",
        "knowledge changes",
    ),
    "output": FieldSpec(
        "choice",
        ("labels", "text"),
        "what the model must produce: labels (routing, tagging, classification) or free text",
        "output",
    ),
    "gaps": FieldSpec(
        "set",
        ("facts", "format", "tone", "behaviour", "task_skill", "vocabulary", "modality"),
        "what is wrong with the base model today",
        "what the base model gets wrong",
    ),
    "base_model_fit": FieldSpec(
        "choice",
        ("close", "partial", "far"),
        "how close the base model already is (close: nearly there)",
        "base model today",
    ),
    "base_model_exists": FieldSpec(
        "flag",
        (True, False),
        "a suitable pre-trained model exists for this data",
        "a suitable base model exists",
    ),
    "compute": FieldSpec(
        "choice",
        ("api_only", "cpu", "single_gpu", "multi_gpu", "cluster"),
        "compute you can train on (api_only: none, a hosted model's API)",
        "compute",
    ),
    "budget": FieldSpec(
        "choice",
        ("minimal", "low", "medium", "high", "vast"),
        "money for building and running it",
        "budget",
    ),
    "timeline": FieldSpec(
        "choice", ("days", "weeks", "months", "long"), "time until it must ship", "timeline"
    ),
    "latency": FieldSpec(
        "choice",
        ("strict", "normal", "relaxed"),
        "response-time requirement",
        "latency requirement",
    ),
    "token_budget": FieldSpec(
        "choice",
        ("tight", "normal", "generous"),
        "prompt tokens you can afford per query",
        "token budget",
    ),
    "teacher": FieldSpec(
        "flag",
        (True, False),
        "a larger model already does the task well and its outputs may be used to train another",
        "a capable teacher model",
    ),
    "preference_data": FieldSpec(
        "flag",
        (True, False),
        "human preference comparisons, ratings or a reward signal (a grader) are available",
        "preference data",
    ),
    "deployment": FieldSpec(
        "choice",
        ("cloud", "on_device"),
        "where the model must run: cloud (servers) or on_device (a phone, a laptop, an edge box)",
        "deployment",
    ),
    "citations": FieldSpec(
        "flag",
        (True, False),
        "answers must cite their sources or be auditable",
        "citations or audit trail",
    ),
    "on_premises": FieldSpec(
        "flag", (True, False), "data must not leave the premises", "data stays on premises"
    ),
    "training_allowed": FieldSpec(
        "flag", (True, False), "you may change the model's weights at all", "training allowed"
    ),
    "goal": FieldSpec(
        "choice",
        ("balanced", "least_effort", "lowest_cost", "best_quality", "lowest_latency"),
        "what matters most when options tie",
        "goal",
    ),
    "max_latency_s": FieldSpec(
        "number",
        (0.5, 2.0, 5.0),
        "seconds per answer you can accept (checked against a run)",
        "max latency (s)",
    ),
    "max_prompt_tokens": FieldSpec(
        "number",
        (200, 500, 2000),
        "prompt tokens per query you can accept (checked against a run)",
        "max prompt tokens",
    ),
}

# Friendly spellings accepted in files, flags and text.
ALIASES: dict[str, dict[str, str]] = {
    "compute": {
        "api": "api_only",
        "none": "api_only",
        "gpu": "single_gpu",
        "multi-gpu": "multi_gpu",
        "single-gpu": "single_gpu",
        "api-only": "api_only",
    },
    "gaps": {
        "behavior": "behaviour",
        "skill": "task_skill",
        "task": "task_skill",
        "task-skill": "task_skill",
        "knowledge": "facts",
        "terminology": "vocabulary",
        "style": "format",
    },
    "goal": {
        "least-effort": "least_effort",
        "cost": "lowest_cost",
        "lowest-cost": "lowest_cost",
        "quality": "best_quality",
        "best-quality": "best_quality",
        "latency": "lowest_latency",
        "lowest-latency": "lowest_latency",
        "effort": "least_effort",
    },
    "knowledge": {"proprietary": "private", "internal": "private"},
    "deployment": {"on-device": "on_device", "edge": "on_device", "device": "on_device"},
    "output": {
        "label": "labels",
        "classification": "labels",
        "classes": "labels",
        "intents": "labels",
        "free_text": "text",
        "generation": "text",
        "answers": "text",
    },
    "knowledge_changes": {"real-time": "realtime", "static": "never", "hourly": "realtime"},
    "unlabeled_corpus": {"huge": "massive", "web-scale": "massive"},
}


@dataclass(frozen=True)
class Scenario:
    """A team's situation. Unknown fields are "unknown" (or None); rules skip them."""

    labeled_examples: int | None = None
    label_quality: str = UNKNOWN
    unlabeled_corpus: str = UNKNOWN
    knowledge: str = UNKNOWN
    knowledge_changes: str = UNKNOWN
    output: str = UNKNOWN
    gaps: tuple[str, ...] = ()
    base_model_fit: str = UNKNOWN
    base_model_exists: bool = True
    teacher: bool = False
    preference_data: bool = False
    deployment: str = UNKNOWN
    compute: str = UNKNOWN
    budget: str = UNKNOWN
    timeline: str = UNKNOWN
    latency: str = UNKNOWN
    token_budget: str = UNKNOWN
    citations: bool = False
    on_premises: bool = False
    training_allowed: bool = True
    goal: str = "balanced"
    max_latency_s: float | None = None
    max_prompt_tokens: int | None = None

    def __post_init__(self) -> None:
        for name, spec in SCENARIO_SPACE.items():
            _check_value(name, spec, getattr(self, name))

    def replace(self, **changes: Any) -> Scenario:
        return dataclasses.replace(self, **changes)

    def known(self) -> dict[str, Any]:
        """The fields that differ from "unknown" / the defaults, in field order."""
        default = Scenario()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["gaps"] = list(self.gaps)
        return data


def _check_value(name: str, spec: FieldSpec, value: Any) -> None:
    """The dataclass's own guard: a Scenario never holds a value outside its space."""
    ok = {
        "choice": lambda v: (
            v == UNKNOWN or (name == "goal" and v == "balanced") or v in spec.values
        ),
        "count": lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0),
        "flag": lambda v: isinstance(v, bool),
        "set": lambda v: isinstance(v, tuple) and all(x in spec.values for x in v),
        "number": lambda v: (
            v is None or (isinstance(v, int | float) and not isinstance(v, bool) and v > 0)
        ),
    }[spec.kind](value)
    if not ok:
        raise ScenarioError(f"invalid value {value!r}", field=name, hint=_hint(name, spec))


def format_value(name: str, value: Any) -> str:
    """A field's value as people read it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ", ".join(value) if value else "none"
    if isinstance(value, int) and name == "labeled_examples":
        return f"{value:,}"
    return "unknown" if value is None else str(value)


def describe(scenario: Scenario) -> list[tuple[str, str]]:
    """(label, value) for each known field: the scenario as a report shows it."""
    return [(SCENARIO_SPACE[k].label, format_value(k, v)) for k, v in scenario.known().items()]


# ---------------------------------------------------------------- coercion


def _hint(name: str, spec: FieldSpec) -> str:
    if spec.kind == "choice":
        return f"one of: {', '.join(map(str, spec.values))} (or unknown)"
    if spec.kind == "set":
        return f"a list drawn from: {', '.join(spec.values)}"
    if spec.kind == "flag":
        return f"true or false, e.g. {name}: true"
    if spec.kind == "count":
        return f"a whole number, e.g. {name}: 500"
    return f"a positive number, e.g. {name}: {spec.values[1]}"


_MULTIPLIERS = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


def _parse_count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d[\d,_]*(?:\.\d+)?)\s*([kmb]?)\s*", value.lower())
        if match:
            number = float(match.group(1).replace(",", "").replace("_", ""))
            number *= _MULTIPLIERS.get(match.group(2), 1)
            if number.is_integer():
                return int(number)
    return None


def corpus_bucket(tokens: float) -> str:
    """A corpus size in tokens → its `unlabeled_corpus` bucket."""
    if tokens <= 0:
        return "none"
    for limit, bucket in ((1e6, "small"), (1e8, "medium"), (1e10, "large")):
        if tokens < limit:
            return bucket
    return "massive"


def coerce_field(name: str, value: Any) -> Any:
    """Check and convert one raw value (from YAML, JSON or a flag). Raises ScenarioError."""
    if name not in SCENARIO_SPACE:
        import difflib

        close = difflib.get_close_matches(name, SCENARIO_SPACE, n=1)
        hint = (
            f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(SCENARIO_SPACE)}"
        )
        raise ScenarioError("unknown field", field=name, hint=hint)
    spec = SCENARIO_SPACE[name]
    if value is None:
        return Scenario.__dataclass_fields__[name].default
    converted = _CONVERTERS[spec.kind](name, spec, value)
    if converted is _INVALID:
        raise ScenarioError(_expected(spec, value), field=name, hint=_hint(name, spec))
    return converted


_INVALID = object()


def _expected(spec: FieldSpec, value: Any) -> str:
    values = ", ".join(map(str, spec.values))
    wanted = {
        "choice": f"expected one of {values}",
        "count": "expected a whole number",
        "flag": "expected true or false",
        "set": f"expected a list of {values}",
        "number": "expected a positive number",
    }[spec.kind]
    return f"{wanted}, got {value!r}"


def _choice(name: str, spec: FieldSpec, value: Any) -> Any:
    if not isinstance(value, str):
        if (
            name == "unlabeled_corpus"
            and isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
        ):
            return corpus_bucket(value)
        return _INVALID
    text = value.strip().lower().replace(" ", "_")
    text = ALIASES.get(name, {}).get(text.replace("_", "-"), ALIASES.get(name, {}).get(text, text))
    if name == "unlabeled_corpus" and (count := _parse_count(value)) is not None:
        return corpus_bucket(count)
    if text == UNKNOWN or text in spec.values or (name == "goal" and text == "balanced"):
        return text
    return _INVALID


def _count(name: str, spec: FieldSpec, value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("none", "no"):
        return 0
    if isinstance(value, str) and value.strip().lower() == UNKNOWN:
        return None
    count = _parse_count(value)
    return count if count is not None and count >= 0 else _INVALID


def _flag(name: str, spec: FieldSpec, value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "y", "on", "1"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "n", "off", "0"):
        return False
    return _INVALID


def _set(name: str, spec: FieldSpec, value: Any) -> Any:
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        return _INVALID
    result = []
    for item in items:
        if not isinstance(item, str):
            return _INVALID
        key = item.strip().lower().replace(" ", "_")
        key = ALIASES["gaps"].get(key, key)
        if key in ("", "none"):
            continue
        if key not in spec.values:
            return _INVALID
        if key not in result:
            result.append(key)
    return tuple(v for v in spec.values if v in result)


def _number(name: str, spec: FieldSpec, value: Any) -> Any:
    if isinstance(value, bool):
        return _INVALID
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str) and (parsed := _parse_count(value)) is not None:
        number = parsed
    else:
        try:
            number = float(str(value).strip().rstrip("s"))
        except ValueError:
            return _INVALID
    if not math.isfinite(number) or number <= 0:
        return _INVALID
    return int(number) if name == "max_prompt_tokens" and float(number).is_integer() else number


_CONVERTERS = {"choice": _choice, "count": _count, "flag": _flag, "set": _set, "number": _number}


# ---------------------------------------------------------------- building


def scenario_from_mapping(
    data: dict[str, Any],
    *,
    base: Scenario | None = None,
    file: str | Path | None = None,
    lines: dict[str, int] | None = None,
) -> Scenario:
    """Apply a mapping of raw values to `base` (default: all unknown). Errors carry file and line."""
    changes = {}
    for key, value in data.items():
        try:
            changes[str(key)] = coerce_field(str(key), value)
        except ScenarioError as exc:
            exc.file = str(file) if file is not None else exc.file
            exc.line = (lines or {}).get(str(key), exc.line)
            raise
    return dataclasses.replace(base or Scenario(), **changes)


def _yaml_key_lines(text: str) -> dict[str, int]:
    """Top-level key → 1-based line, read from YAML node marks (JSON is YAML too)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 1 for k, _ in node.value}


def _parse_file_text(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"malformed JSON ({exc.msg})", file=path, line=exc.lineno) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioError(
            f"not valid YAML ({getattr(exc, 'problem', exc)})",
            file=path,
            line=mark.line + 1 if mark is not None else None,
        ) from None


def load_scenario_file(path: str | Path, base: Scenario | None = None) -> Scenario:
    """A scenario from a YAML or JSON file. A top-level `scenario:` key is optional."""
    path = Path(path)
    text = read_text(
        path, ScenarioError, what="scenario file", hint="pass a scenario .yaml or .json file"
    )
    data = _parse_file_text(path, text)
    if data is None:
        raise ScenarioError("the file is empty", file=path, hint=_EXAMPLE_HINT)
    if not isinstance(data, dict):
        raise ScenarioError(
            "expected a mapping of scenario fields", file=path, line=1, hint=_EXAMPLE_HINT
        )
    lines = _yaml_key_lines(text)
    if set(data) == {"scenario"} and isinstance(data["scenario"], dict):
        data = data["scenario"]
        lines = _nested_key_lines(text, "scenario")
    return scenario_from_mapping(data, base=base, file=path, lines=lines)


def _nested_key_lines(text: str, parent: str) -> dict[str, int]:
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    for key, value in node.value if isinstance(node, yaml.MappingNode) else ():
        if key.value == parent and isinstance(value, yaml.MappingNode):
            return {str(k.value): k.start_mark.line + 1 for k, _ in value.value}
    return {}


_EXAMPLE_HINT = (
    "for example:  labeled_examples: 500\n        gaps: [tone]\n        compute: single_gpu"
)


def apply_overrides(base: Scenario, overrides: list[str]) -> Scenario:
    """`field=value` strings (from the command line) applied to a scenario."""
    data: dict[str, Any] = {}
    for text in overrides:
        if "=" not in text:
            raise ScenarioError(
                f"'{text}' is not field=value",
                hint="for example: labeled_examples=100 gaps=tone compute=cpu",
            )
        key, raw = text.split("=", 1)
        key = key.strip().replace("-", "_")
        try:
            data[key] = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            data[key] = raw
        spec = SCENARIO_SPACE.get(key)
        if spec is not None and spec.kind == "set" and not isinstance(data[key], str | list | None):
            data[key] = [str(data[key])]
    return scenario_from_mapping(data, base=base)


def random_scenario(rng: random.Random, n_facts: int | None = None) -> Scenario:
    """A scenario with a few known facts drawn from `SCENARIO_SPACE` (for quizzes).

    `n_facts` fields (default 3 to 6, chosen by `rng`) are set; the rest stay
    unknown, so each question turns on a handful of facts as exam questions do.
    """
    names = [n for n in SCENARIO_SPACE if n not in ("max_latency_s", "max_prompt_tokens")]
    count = n_facts if n_facts is not None else rng.randint(3, 6)
    changes: dict[str, Any] = {}
    for name in rng.sample(names, min(count, len(names))):
        spec = SCENARIO_SPACE[name]
        if spec.kind == "set":
            changes[name] = tuple(
                v for v in spec.values if v in rng.sample(spec.values, rng.randint(1, 2))
            )
        else:
            changes[name] = rng.choice(spec.values)
    return Scenario(**changes)
