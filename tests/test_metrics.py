"""Scoring: figure normalisation, facts, style, declines, hallucinations, aggregation.

Hand-made cases, many of them the ways a small model garbles a right answer,
and the near misses that must not count.
"""

from __future__ import annotations

import math

import pytest

from advisor.tasks import StyleRules, TestItem
from benchmarks.metrics import (
    METRICS,
    Quantity,
    aggregate,
    exact_match,
    extract_quantities,
    fact_present,
    fact_recall,
    hallucinated_numbers,
    higher_is_better,
    is_decline,
    known_figures,
    label_score,
    parse_number,
    retrieval_recall,
    score_item,
    style_checks,
    style_score,
    token_f1,
    word_count,
)

BANK_STYLE = StyleRules(
    description="One or two sentences, amounts as Q5,000.00, signed — Ceiba Assist.",
    max_words=45,
    money_pattern=r"Q\d{1,3}(?:,\d{3})*\.\d{2}",
    required_patterns=(r"— Ceiba Assist$",),
    forbidden_patterns=(r"(?i)\bas an ai\b",),
)
DECLINE = (r"\bI can only help with\b", r"\boutside what I can help with\b")


def item(kind: str = "seen", facts=("Q5.00",), reference: str = "", **extra) -> TestItem:
    return TestItem(
        id=extra.pop("id", "t1"),
        question=extra.pop("question", "How much does a SINPE transfer cost?"),
        reference=reference or "A SINPE transfer costs Q5.00. — Ceiba Assist",
        facts=tuple(facts),
        kind=kind,
        line=1,
        **extra,
    )


def canon(text: str) -> list[str]:
    return [q.canonical for q in extract_quantities(text)]


# ---------------------------------------------------------------- extraction


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Q5", ["Q5.00"]),
        ("Q5.00", ["Q5.00"]),
        ("Q 5.00", ["Q5.00"]),
        ("GTQ 5", ["Q5.00"]),
        ("GTQ5.00", ["Q5.00"]),
        ("5 quetzales", ["Q5.00"]),
        ("1 quetzal", ["Q1.00"]),
        ("Q5,000", ["Q5,000.00"]),
        ("Q5000.00", ["Q5,000.00"]),
        ("5,000 quetzales", ["Q5,000.00"]),
        ("five thousand quetzales", ["Q5,000.00"]),
        ("Q5k", ["Q5,000.00"]),
        ("Q1.5 million", ["Q1,500,000.00"]),
        ("$20.00", ["$20.00"]),
        ("between 5 and 15 quetzales", ["Q5.00", "Q15.00"]),
        ("Q5.00-Q15.00", ["Q5.00", "Q15.00"]),
        ("1.5%", ["1.5%"]),
        ("1.5 percent", ["1.5%"]),
        ("2 per cent", ["2%"]),
        ("1-2%", ["1%", "2%"]),
        ("24 hours", ["24 hours"]),
        ("24hrs", ["24 hours"]),
        ("a 24-hour wait", ["24 hours"]),
        ("twenty-four hours", ["24 hours"]),
        ("1 hour", ["1 hour"]),
        ("1-2 hours", ["1-2 hours"]),
        ("1–2 hours", ["1-2 hours"]),
        ("1 to 2 hours", ["1-2 hours"]),
        ("one to two hours", ["1-2 hours"]),
        ("between 1 and 2 hours", ["1-2 hours"]),
        ("3 business days", ["3 business days"]),
        ("three working days", ["3 business days"]),
        ("2-3 banking days", ["2-3 business days"]),
        ("45 minutes", ["45 minutes"]),
        ("half an hour", ["30 minutes"]),
        ("within an hour", ["1 hour"]),
        ("2 weeks, 6 months, 1 year", ["2 weeks", "6 months", "1 year"]),
        ("8:00 am", ["8:00 am"]),
        ("8 am", ["8:00 am"]),
        ("8AM", ["8:00 am"]),
        ("8:00 a.m.", ["8:00 am"]),
        ("5.30 pm", ["5:30 pm"]),
        ("12 pm", ["12:00 pm"]),
        ("12 am", ["12:00 am"]),
        ("noon", ["12:00 pm"]),
        ("08:00", ["8:00 am"]),
        ("20:00", ["8:00 pm"]),
        ("8:00", ["8:00"]),
        ("8 o'clock", ["8:00"]),
        ("1 March 2026", ["March 1, 2026"]),
        ("March 1st, 2026", ["March 1, 2026"]),
        ("2026-03-01", ["March 1, 2026"]),
        ("from May 15", ["May 15"]),
        ("call 2277-1722", ["2277-1722"]),
        ("dial *1722", ["1722"]),
        ("1,722", ["1722"]),
        ("twelve", ["12"]),
        ("one hundred and fifty", ["150"]),
        ("a thousand", ["1000"]),
        ("10-15 items", ["10", "15"]),
    ],
)
def test_extract_quantities_reads_the_many_ways_a_figure_is_written(text, expected):
    assert canon(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "We are open 24/7.",
        "Support 24 hours a day, 7 days a week.",
        "Our SmolLM2 model",
        "COVID-19",
        "the 1st and 2nd",
        "version 2.0.1",
        "you may ask",
        "I am here",
    ],
)
def test_extract_quantities_finds_nothing_in_text_without_figures(text):
    assert extract_quantities(text) == []


@pytest.mark.parametrize(
    "text, expected",
    [("8 amounts", ["8"]), ("5 pmt", ["5"]), ("once a day", []), ("Q5 a month", ["Q5.00"])],
)
def test_words_that_look_like_units_are_not(text, expected):
    assert canon(text) == expected


def test_list_numbering_is_not_a_quantity():
    assert canon("1. Open the app\n2. Tap Transfers\n10) Confirm") == []


def test_a_falling_pair_is_not_a_range():
    assert canon("Call 1722 or 2 hours later") == ["1722", "2 hours"]


def test_quantities_keep_the_text_they_were_read_from_and_reading_order():
    found = extract_quantities("From 8 am, Q 5.00 and 1–2 hours.")
    assert [q.text for q in found] == ["8 am", "Q 5.00", "1–2 hours"]
    assert [q.kind for q in found] == ["time", "money", "duration"]


def test_quantities_compare_by_figure_not_by_text():
    assert Quantity("money", 5.0, "GTQ", text="Q5") == Quantity(
        "money", 5.0, "GTQ", text="5 quetzales"
    )
    assert len({*extract_quantities("Q5"), *extract_quantities("GTQ 5.00")}) == 1


@pytest.mark.parametrize(
    "text, value",
    [("5,000.50", 5000.5), ("twenty-four", 24), ("five thousand", 5000), ("a hundred", 100)],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


# ---------------------------------------------------------------- facts


@pytest.mark.parametrize(
    "fact, answer",
    [
        ("Q5.00", "It costs Q5."),
        ("Q5.00", "It costs Q5.00 — Ceiba Assist"),
        ("Q5.00", "It costs 5 quetzales."),
        ("Q5.00", "It costs GTQ 5.00."),
        ("Q5.00", "It costs Q 5.00."),
        ("Q5.00", "It costs five quetzales."),
        ("Q5,000.00", "The limit is Q5000."),
        ("Q5,000.00", "The limit is 5,000 quetzales."),
        ("Q5,000.00", "The limit is Q5,000."),
        ("1-2 hours", "It takes 1–2 hours."),
        ("1-2 hours", "It takes 1 to 2 hours."),
        ("1-2 hours", "It takes one to two hours."),
        ("1-2 hours", "It takes between 1 and 2 hours."),
        ("1-2 hours", "It takes 1 - 2 hrs."),
        ("24 hours", "Within twenty-four hours."),
        ("24 hours", "Within 24hrs."),
        ("3 business days", "It takes 3 working days."),
        ("3 business days", "It takes three business days."),
        ("30 minutes", "About half an hour."),
        ("8:00 am", "We open at 8 am."),
        ("8:00 am", "We open at 8:00 a.m."),
        ("8:00 am", "We open at 08:00."),
        ("8:00 am", "We open at 8:00."),  # no am/pm: either reading counts
        ("8:00 pm", "We close at 20:00."),
        ("5:00 pm", "Open 8am-5pm."),
        ("1.5%", "The rate is 1.5 percent."),
        ("1.5%", "The rate is 1.5%."),
        ("1722", "Dial *1722 from your phone."),
        ("1722", "Dial 1722."),
        ("2277-1722", "Call 2277-1722."),
        ("DPI", "Bring your dpi and a utility bill."),
        ("passport", "A valid Passport is enough."),
        ("Banca Móvil", "Use banca movil to pay."),
        ("Monday to Friday", "Open Monday to Friday."),
        ("March 1, 2026", "The new fee applies from 1 March 2026."),
        ("8:00 am to 5:00 pm", "We are open from 8 am until 5 pm."),
        ("Saturday 9:00 am", "On Saturdays? No: Saturday from 9 a.m."),
        ("18", "You must be 18 years old."),
        ("1-2 hours", "It takes 1 or 2 hours."),
    ],
)
def test_fact_present_accepts_equivalent_forms(fact, answer):
    assert fact_present(fact, answer)


@pytest.mark.parametrize(
    "fact, answer",
    [
        ("Q5.00", "It costs Q15.00."),
        ("Q5.00", "It costs Q5,000.00."),
        ("Q5.00", "It costs Q50.00."),
        ("Q5.00", "It costs Q0.50."),
        ("Q5.00", "It costs 5."),  # a bare number is not an amount
        ("Q5.00", "It costs 5.00."),
        ("Q5.00", "It takes 5 hours."),
        ("Q5.00", "It costs $5.00."),
        ("Q5,000.00", "The limit is Q500."),
        ("Q5,000.00", "The limit is 5,000."),
        ("1-2 hours", "It takes 1-2 business days."),
        ("1-2 hours", "It takes 1-2 days."),
        ("1-2 hours", "It takes 2 hours."),
        ("1-2 hours", "It takes 1-3 hours."),
        ("24 hours", "We are open 24/7."),
        ("24 hours", "Support is available 24 hours a day."),
        ("24 hours", "It takes 1 day."),  # no unit conversion
        ("3 business days", "It takes 3 days."),
        ("3 days", "It takes 3 business days."),
        ("8:00 am", "We open at 8."),
        ("8:00 am", "We open at 8 pm."),
        ("8:00 am", "We open at 18:00."),
        ("8:00 pm", "We close at 8 am."),
        ("1.5%", "The rate is 15%."),
        ("1.5%", "The rate is 1.5."),
        ("1722", "Dial 17220."),
        ("1722", "It costs Q1,722.00."),
        ("DPI", "Bring your DPIs."),
        ("passport", "No documents needed."),
        ("March 1, 2026", "The new fee applies from March 1, 2025."),
        ("Saturday 9:00 am", "Open at 9:00 am on weekdays."),
        ("18", "It costs Q18.00."),
        ("Q5.00", ""),
        ("", "anything"),
    ],
)
def test_fact_present_rejects_near_misses(fact, answer):
    assert not fact_present(fact, answer)


def test_fact_recall_is_partial_and_exact_is_all_or_nothing():
    facts = ["Q5.00", "Q15.00", "1-2 hours"]
    answer = "Q5.00 up to Q5,000.00; 1 to 2 hours."
    assert fact_recall(facts, answer) == pytest.approx(2 / 3)
    assert exact_match(facts, answer) == 0.0
    assert exact_match(facts, answer + " Above that, Q15.") == 1.0
    assert fact_recall(facts, "") == 0.0


def test_no_facts_means_not_applicable():
    assert fact_recall([], "anything") is None
    assert exact_match([], "anything") is None
    assert retrieval_recall([], ["anything"]) is None


def test_retrieval_recall_looks_across_all_passages():
    passages = ["SINPE transfers cost Q5.00 up to Q5,000.00.", "They arrive in 1-2 hours."]
    assert retrieval_recall(["Q5.00", "1-2 hours"], passages) == 1.0
    assert retrieval_recall(["Q5.00", "1-2 hours"], passages[:1]) == 0.5
    assert retrieval_recall(["Q5.00"], []) == 0.0


# ---------------------------------------------------------------- token F1


@pytest.mark.parametrize(
    "answer, reference, expected",
    [
        ("", "", 1.0),
        ("", "It costs Q5.00.", 0.0),
        ("It costs Q5.00.", "", 0.0),
        ("It costs Q5.00.", "it costs q5.00", 1.0),
        ("The fee.", "A fee!", 1.0),  # articles and punctuation dropped
        ("cats", "dogs", 0.0),
        ("costs Q5.00 today", "costs Q5.00", 0.8),  # p = 2/3, r = 1
        ("fee fee fee", "fee", 0.5),  # repeats count once per reference token
    ],
)
def test_token_f1(answer, reference, expected):
    assert token_f1(answer, reference) == pytest.approx(expected)


# ---------------------------------------------------------------- style


GOOD = "A SINPE transfer costs Q5.00 up to Q5,000.00 and Q15.00 above. — Ceiba Assist"


def test_style_checks_pass_a_house_style_answer():
    assert style_checks(GOOD, BANK_STYLE) == {
        "max_words": True,
        "money_format": True,
        "required: — Ceiba Assist$": True,
        "forbidden: (?i)\\bas an ai\\b": True,
    }
    assert style_score(GOOD + "\n", BANK_STYLE) == 1.0


@pytest.mark.parametrize(
    "answer, failed",
    [
        (GOOD.replace("Q5.00", "5 quetzales"), "money_format"),
        (GOOD.replace("Q5,000.00", "Q5000"), "money_format"),
        (GOOD.replace("Q5.00", "Q 5.00"), "money_format"),
        (GOOD.replace(" — Ceiba Assist", ""), "required: — Ceiba Assist$"),
        (
            GOOD.replace(" — Ceiba Assist", " — Ceiba Assist. Anything else?"),
            "required: — Ceiba Assist$",
        ),
        ("As an AI, " + GOOD, "forbidden: (?i)\\bas an ai\\b"),
        ("word " * 50 + GOOD, "max_words"),
    ],
)
def test_style_checks_name_the_rule_a_bad_answer_breaks(answer, failed):
    checks = style_checks(answer, BANK_STYLE)
    assert [name for name, ok in checks.items() if not ok] == [failed]
    assert style_score(answer, BANK_STYLE) == pytest.approx(3 / 4)


def test_style_money_format_holds_vacuously_without_amounts():
    assert style_checks("We open at 8:00 am. — Ceiba Assist", BANK_STYLE)["money_format"]


def test_style_only_checks_the_rules_a_task_has():
    assert style_checks(GOOD, StyleRules(max_words=5)) == {"max_words": False}
    assert style_score(GOOD, StyleRules()) is None
    assert style_score(GOOD, StyleRules(description="be nice")) is None


def test_word_count_ignores_bare_punctuation():
    assert word_count("It costs Q5.00 — Ceiba Assist") == 5


# ---------------------------------------------------------------- declines and labels


@pytest.mark.parametrize(
    "answer, patterns, declined",
    [
        ("I can only help with Ceiba Bank services. — Ceiba Assist", DECLINE, True),
        ("i CAN ONLY HELP WITH banking.", DECLINE, True),
        ("That is outside what I can help with.", DECLINE, True),
        ("The capital of France is Paris.", DECLINE, False),
        ("I'm sorry, but I can't help with that.", (), True),  # default patterns
        ("That is outside my scope.", (), True),
        ("I cannot assist with medical questions.", (), True),
        ("A SINPE transfer costs Q5.00.", (), False),
        ("", (), False),
    ],
)
def test_is_decline(answer, patterns, declined):
    assert is_decline(answer, patterns) is declined


LABELS = ("card", "credit card", "loan", "fraud")


@pytest.mark.parametrize(
    "answer, reference, expected",
    [
        ("loan", "loan", 1.0),
        ("Category: LOAN.", "loan", 1.0),
        ("This is about a credit card.", "credit card", 1.0),  # "card" inside it does not count
        ("credit card", "card", 0.0),
        ("loan or fraud", "loan", 0.0),  # hedging between labels scores nothing
        ("loans", "loan", 1.0),  # a near spelling of one label
        ("lone", "loan", 0.0),
        ("It is about a loan, I think.", "loan", 1.0),
        ("", "loan", 0.0),
    ],
)
def test_label_score(answer, reference, expected):
    assert label_score(answer, reference, LABELS) == expected


# ---------------------------------------------------------------- hallucinated figures


KNOWN = known_figures(
    [
        "SINPE transfers cost Q5.00 up to Q5,000.00 and Q15.00 above. They take 1-2 hours.",
        "Branches open 8:00 am to 5:00 pm. Call 1722. Card replacement takes 3 business days.",
        "Savings earn 1.5% a year. Helpline 2277-1722.",
    ]
)


@pytest.mark.parametrize(
    "answer, invented",
    [
        ("It costs Q5.00 and takes 1–2 hours.", []),
        ("It costs Q7.50.", ["Q7.50"]),  # an invented fee
        ("It costs 5 quetzales, up to 5,000 quetzales.", []),
        ("Transfers up to 5,000 cost less.", []),  # a bare known figure
        ("It takes 2 hours.", []),  # an end of a known range
        ("It takes 3 hours.", ["3 hours"]),
        ("It takes 3 days.", ["3 days"]),
        ("We open at 8 am and close at 17:00.", []),
        ("We open at 9 am.", ["9 am"]),
        ("Call *1722 or 22771722.", []),
        ("Call 2277-1999.", ["2277-1999"]),
        ("The rate is 2.5%.", ["2.5%"]),
        ("1. Open the app\n2. Tap Transfers\n3. Confirm", []),  # list numbering
        ("Bring 2 documents and wait 5 minutes.", ["5 minutes"]),  # small counts are fine
        ("We serve 250 branches. 250 of them!", ["250"]),  # once each
        ("Open 24/7.", []),
        ("It costs Q7.50, or Q7.5.", ["Q7.50"]),
    ],
)
def test_hallucinated_numbers(answer, invented):
    assert hallucinated_numbers(answer, KNOWN) == invented


def test_known_figures_are_canonical():
    assert Quantity("money", 5000.0, "GTQ") in KNOWN
    assert Quantity("duration", 1.0, "hours", 2.0) in KNOWN
    assert known_figures([]) == set()


# ---------------------------------------------------------------- one item


def score(test_item: TestItem, answer: str, **kwargs):
    kwargs.setdefault("style", BANK_STYLE)
    kwargs.setdefault("decline_patterns", DECLINE)
    kwargs.setdefault("known", KNOWN)
    return score_item(test_item, answer, **kwargs)


def test_score_item_returns_every_metric():
    row = score(item(), "A SINPE transfer costs Q5.00. — Ceiba Assist")
    assert set(row) == set(METRICS)
    assert row["score"] == row["fact_recall"] == row["exact"] == 1.0
    assert row["token_f1"] == 1.0
    assert row["style"] == 1.0
    assert row["declined"] == 0.0 and row["false_decline"] == 0.0
    assert row["correct_decline"] is None
    assert row["hallucinated_numbers"] == 0.0
    assert row["stale"] is None and row["retrieval_recall"] is None
    assert row["embedding_similarity"] is None


def test_score_item_seen_item_scores_fact_recall():
    row = score(item(facts=["Q5.00", "1-2 hours"]), "It costs 5 quetzales.")
    assert row["score"] == row["fact_recall"] == 0.5
    assert row["exact"] == 0.0
    assert row["style"] < 1.0  # not the house style, but the score ignores that


def test_score_item_passes_similarity_and_scores_passages():
    row = score(item(), "Q5.00", similarity=0.83, passages=["The fee is Q5.00."])
    assert row["embedding_similarity"] == 0.83
    assert row["retrieval_recall"] == 1.0
    assert score(item(), "Q5.00", passages=[])["retrieval_recall"] == 0.0


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("I can only help with Ceiba Bank services. — Ceiba Assist", 1.0),
        ("The capital of France is Paris.", 0.0),
    ],
)
def test_score_item_out_of_scope_scores_the_decline(answer, expected):
    row = score(
        item(kind="out_of_scope", facts=[], question="What is the capital of France?"), answer
    )
    assert row["score"] == row["correct_decline"] == row["declined"] == expected
    assert row["false_decline"] is None
    assert row["fact_recall"] is None and row["exact"] is None


def test_score_item_false_decline_is_a_decline_without_facts():
    refused = score(item(), "I can only help with accounts. — Ceiba Assist")
    assert refused["declined"] == 1.0 and refused["false_decline"] == 1.0
    hedged = score(item(), "I can only help with SINPE: it costs Q5.00. — Ceiba Assist")
    assert hedged["declined"] == 1.0 and hedged["false_decline"] == 0.0


def test_score_item_style_item_mixes_style_and_facts():
    style_item = item(kind="style")
    assert score(style_item, GOOD)["score"] == 1.0
    unsigned = score(style_item, "It costs Q5.00.")  # fact present, style 3/4
    assert unsigned["score"] == pytest.approx((1.0 + 0.75) / 2)
    no_facts = score(item(kind="style", facts=[]), "It costs Q5.00.")
    assert no_facts["score"] == pytest.approx(0.75)
    assert score(style_item, "Q5.00", style=StyleRules())["score"] == 1.0


def test_score_item_drift_flags_stale_values():
    drift = item(kind="drift", facts=["Q6.00"], stale_facts=("Q5.00",))
    fresh = score(drift, "It now costs Q6.00.")
    assert fresh["score"] == 1.0 and fresh["stale"] == 0.0
    stale = score(drift, "It costs Q5.00.")
    assert stale["score"] == 0.0 and stale["stale"] == 1.0
    assert stale["hallucinated_numbers"] == 0.0  # an old value is stale, not invented
    assert score(item(kind="drift", facts=["Q6.00"]), "Q6.00")["stale"] is None


def test_score_item_counts_invented_figures_but_not_the_questions_own():
    question = "How much is a SINPE transfer of Q10,000?"
    asked = item(facts=["Q15.00"], question=question)
    assert score(asked, "Sending Q10,000 costs Q15.00.")["hallucinated_numbers"] == 0.0
    assert score(asked, "Sending Q10,000 costs Q19.99 plus Q2.00.")["hallucinated_numbers"] == 2.0
    assert score(asked, "Q15.00", known=None)["hallucinated_numbers"] is None


def test_score_item_classification_uses_labels():
    classify = item(kind="seen", facts=[], reference="loan", question="I want to borrow money")
    right = score(classify, "loan", labels=LABELS)
    assert right["score"] == right["exact"] == 1.0
    assert right["fact_recall"] is None
    assert score(classify, "loan or fraud", labels=LABELS)["score"] == 0.0


def test_score_item_handles_an_empty_answer():
    row = score(item(), "")
    assert row["score"] == 0.0 and row["token_f1"] == 0.0
    assert row["declined"] == 0.0 and row["false_decline"] == 0.0
    assert row["hallucinated_numbers"] == 0.0


# ---------------------------------------------------------------- aggregation


def test_aggregate_means_over_present_values_overall_and_per_kind():
    rows = [
        {"id": "a", "kind": "seen", "score": 1.0, "stale": None, "latency_s": 2.0, "answer": "x"},
        {"id": "b", "kind": "seen", "score": 0.0, "stale": None, "latency_s": 4.0, "answer": "y"},
        {"id": "c", "kind": "drift", "score": 0.5, "stale": 1.0, "latency_s": 3.0, "answer": "z"},
        {"id": "d", "kind": "out_of_scope", "score": 1.0, "correct_decline": 1.0, "answer": ""},
    ]
    result = aggregate(rows)
    overall = result["overall"]
    assert overall["n"] == 4
    assert overall["score"] == pytest.approx(2.5 / 4)
    assert overall["stale"] == 1.0  # None is "not applicable", not zero
    assert overall["latency_s"] == 3.0
    assert overall["correct_decline"] == 1.0
    assert "answer" not in overall and "id" not in overall and "kind" not in overall
    assert list(result["by_kind"]) == ["seen", "out_of_scope", "drift"]
    assert result["by_kind"]["seen"] == {"score": 0.5, "latency_s": 3.0, "n": 2}
    assert result["by_kind"]["drift"]["stale"] == 1.0
    assert "stale" not in result["by_kind"]["seen"]


def test_aggregate_ignores_nan_and_counts_booleans():
    result = aggregate(
        [{"kind": "seen", "score": math.nan, "ok": True}, {"kind": "seen", "ok": False}]
    )
    assert "score" not in result["overall"]
    assert result["overall"]["ok"] == 0.5


def test_aggregate_of_scored_items():
    rows = [
        {"id": "1", "kind": "seen", **score(item(), "It costs Q5.00. — Ceiba Assist")},
        {"id": "2", "kind": "seen", **score(item(), "It costs Q7.00.")},
    ]
    overall = aggregate(rows)["overall"]
    assert overall["score"] == 0.5
    assert overall["hallucinated_numbers"] == 0.5
    assert "correct_decline" not in overall


def test_aggregate_of_nothing():
    assert aggregate([]) == {"overall": {"n": 0}, "by_kind": {}}


def test_lower_is_better_metrics():
    assert not higher_is_better("hallucinated_numbers")
    assert not higher_is_better("false_decline")
    assert not higher_is_better("stale")
    assert higher_is_better("score") and higher_is_better("fact_recall")
