"""The decision engine: a team's situation (and any measured evidence) in, a ranked
recommendation with reasons out.

    from advisor.decision import Scenario, recommend
    rec = recommend(Scenario(labeled_examples=100, gaps=("tone",)))
    rec.approach            # "sft"
    rec.top.for_            # the rules that spoke for it

Nothing here imports torch or sentence-transformers at import time; free-text
parsing loads MiniLM only when asked to (see `advisor.decision.matcher`).
"""

from __future__ import annotations

from advisor.decision.approaches import APPROACH_LABELS, APPROACHES
from advisor.decision.engine import recommend, recommend_from_run
from advisor.decision.recommendation import (
    ApproachVerdict,
    Recommendation,
    Understood,
)
from advisor.decision.report import render_recommendation, to_html, to_markdown
from advisor.decision.scenario import (
    SCENARIO_SPACE,
    Scenario,
    apply_overrides,
    load_scenario_file,
    random_scenario,
    scenario_from_mapping,
)
from advisor.decision.text import (
    OptionChoice,
    ParsedScenario,
    choose_option,
    classify_option,
    parse_scenario_text,
)

__all__ = [
    "APPROACHES",
    "APPROACH_LABELS",
    "SCENARIO_SPACE",
    "ApproachVerdict",
    "OptionChoice",
    "ParsedScenario",
    "Recommendation",
    "Scenario",
    "Understood",
    "apply_overrides",
    "choose_option",
    "classify_option",
    "load_scenario_file",
    "parse_scenario_text",
    "random_scenario",
    "recommend",
    "recommend_from_run",
    "render_recommendation",
    "scenario_from_mapping",
    "to_html",
    "to_markdown",
]
