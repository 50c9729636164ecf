"""Scoring one answer against one test item, and averaging the scores.

Small models write the same figure many ways ("Q5", "Q 5.00", "5 quetzales",
"GTQ 5"), so facts are not compared as strings: `extract_quantities` reads typed
quantities (money, percentages, durations, clock times, dates, codes, plain
numbers) out of text, and a fact is present when the answer holds an equal
quantity of the same kind. Facts that hold no figure ("DPI", "passport") are
matched as whole words or phrases, ignoring case and accents.

Everything here is pure Python and `re`: it is called on every answer of every
strategy and seed, and its tests run in milliseconds. The embedding similarity
needs a model, so the harness computes it and passes it in.

The decisions a reader may disagree with are listed in docs/metrics.md.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from advisor.tasks import KINDS, StyleRules, TestItem
from benchmarks.results import LOWER_IS_BETTER

METRICS: dict[str, str] = {
    "score": "the primary number: fact recall, decline on out-of-scope, style + facts on style items",
    "fact_recall": "share of the item's facts present in the answer",
    "exact": "1 when every fact is present",
    "token_f1": "SQuAD-style token overlap with the reference answer",
    "embedding_similarity": "cosine similarity of answer and reference embeddings",
    "style": "share of the task's style checks the answer passes",
    "declined": "1 when the answer declines",
    "correct_decline": "out-of-scope items: 1 when the answer declines",
    "false_decline": "in-scope items: 1 when the answer declines and gives none of the facts",
    "hallucinated_numbers": "figures in the answer found nowhere in the task",
    "stale": "drift items: 1 when the answer gives a superseded value",
    "retrieval_recall": "share of the item's facts present in the retrieved passages",
}

DEFAULT_DECLINE_PATTERNS: tuple[str, ...] = (
    r"\b(?:can ?not|can't|cannot|unable to|not able to)\s+(?:help|assist|answer|provide|advise)",
    r"\b(?:outside|beyond)\s+(?:of\s+)?(?:my|the|our)\s+(?:scope|area|expertise)",
    r"\bonly\s+(?:help|assist|answer)\s+(?:you\s+)?with\b",
    r"\bI(?:'m| am) (?:sorry|afraid)\b.{0,40}\b(?:not|can't|cannot)\b",
)
"""Used by `is_decline` when a task lists no decline patterns of its own."""

TRIVIAL_NUMBER_MAX = 10
"""Plain whole numbers up to this are never counted as hallucinated: they count
things ("2 documents", "step 3") far more often than they state a figure."""


def higher_is_better(metric: str) -> bool:
    """Whether a larger mean is better (the scores file's `LOWER_IS_BETTER` decides)."""
    return metric not in LOWER_IS_BETTER


# ---------------------------------------------------------------- quantities


@dataclass(frozen=True)
class Quantity:
    """A typed figure read from text, compared by kind, value and unit only.

    kind   money | percent | duration | time | date | code | number
    value  the amount; minutes after midnight for a time; yyyymmdd for a date
           (year 0 when not given); the digits as a number for a code
    high   the upper end of a duration range ("1-2 hours"), else None
    unit   GTQ/USD for money; "hours", "business days", ... for a duration;
           "unspecified" for a clock time written without am/pm that could be
           either ("8:00"); the code as written for a code
    text   the text it was read from (not compared)
    """

    kind: str
    value: float
    unit: str = ""
    high: float | None = None
    text: str = field(default="", compare=False)

    @property
    def canonical(self) -> str:
        """The house form of the figure: `Q5,000.00`, `1.5%`, `1-2 hours`, `8:00 pm`."""
        if self.kind == "money":
            symbol = "Q" if self.unit == "GTQ" else "$" if self.unit == "USD" else self.unit
            return f"{symbol}{self.value:,.2f}"
        if self.kind == "percent":
            return f"{_plain(self.value)}%"
        if self.kind == "duration":
            if self.high is not None:
                return f"{_plain(self.value)}-{_plain(self.high)} {self.unit}"
            unit = self.unit[:-1] if self.value == 1 and self.unit.endswith("s") else self.unit
            return f"{_plain(self.value)} {unit}"
        if self.kind == "time":
            return _clock(int(self.value), self.unit == "unspecified")
        if self.kind == "date":
            return _date_text(int(self.value))
        if self.kind == "code":
            return self.unit
        return _plain(self.value)


def _plain(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return format(value, "f").rstrip("0").rstrip(".")


def _clock(minutes: int, unspecified: bool) -> str:
    hour, minute = divmod(minutes, 60)
    if unspecified:
        return f"{hour}:{minute:02d}"
    suffix = "am" if hour < 12 else "pm"
    return f"{(hour % 12) or 12}:{minute:02d} {suffix}"


_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]


def _date_text(value: int) -> str:
    year, rest = divmod(value, 10000)
    month, day = divmod(rest, 100)
    text = f"{_MONTHS[month - 1].title()} {day}"
    return f"{text}, {year}" if year else text


# Number words ("one" .. "twenty", tens, "hundred", "thousand", "million").
_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD_VALUES = {
    "zero": 0,
    "a": 1,
    **{w: i for i, w in enumerate(_UNITS, start=1)},
    **{w: i for i, w in enumerate(_TEENS, start=10)},
    **{w: 10 * i for i, w in enumerate(_TENS, start=2)},
}
_SMALL = rf"(?:(?:{'|'.join(_TENS)})(?:[\s-](?:{'|'.join(_UNITS)}))?|{'|'.join(_TEENS)}|{'|'.join(_UNITS)}|zero)\b"
_HUNDREDS = rf"(?:(?:{_SMALL}|a)\s+hundred(?:\s+(?:and\s+)?{_SMALL})?)"
_WORDNUM = (
    rf"(?:(?:{_HUNDREDS}|{_SMALL}|a)\s+(?:thousand|million)(?:\s+(?:and\s+)?(?:{_HUNDREDS}|{_SMALL}))?"
    rf"|{_HUNDREDS}|{_SMALL})"
)
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_NUM = rf"(?:{_DIGITS}|\b(?=[zotfsena]){_WORDNUM})"  # the lookahead only saves time
_RANGE = rf"(?:between\s+)?(?P<lo>{_NUM})\s*(?:-|–|—|to|or|and|through)\s*"
_MULTIPLIERS = {"thousand": 1_000, "million": 1_000_000, "k": 1_000}

# The masked text keeps its length; NUL never matches \w, \s or a digit.
_MASK = "\x00"
_NO_NUMBER_BEFORE = r"(?<![\w.,])(?<![^\W\d_]-)"
_NO_NUMBER_AFTER = r"(?![\w]|[.,]\d)"

_NOT_QUANTITIES = re.compile(
    r"\b24\s*/\s*7\b|\b(?:24|twenty[\s-]four) hours a day\b|\b(?:7|seven) days a week\b"
    r"|\b365 days a year\b|(?m:^[ \t]*(?:\d{1,2}[.)]|\(\d{1,2}\))(?=\s))",
    re.IGNORECASE,
)
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|(?-i:May)|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DATE_PATTERNS = (
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"),
    re.compile(
        rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MONTH})\b\.?(?:,?\s+(?P<y>\d{{4}})\b)?",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b(?P<mon>{_MONTH})\b\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{{4}})\b)?",
        re.IGNORECASE,
    ),
)
_TIME_AMPM = re.compile(
    r"(?<![\w:.$])(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<ap>[ap])(?:\.\s?m\b\.?|\s?m\b)",
    re.IGNORECASE,
)
_TIME_COLON = re.compile(r"(?<![\w:.$])(?P<h>\d{1,2}):(?P<m>\d{2})(?![\d:])")
_TIME_OCLOCK = re.compile(r"(?<![\w:.$])(?P<h>\d{1,2})\s*o['’]clock\b", re.IGNORECASE)
_TIME_WORDS = re.compile(r"\b(?P<word>noon|midday|midnight)\b", re.IGNORECASE)

_CURRENCY_PREFIX = {"gtq": "GTQ", "q": "GTQ", "us$": "USD", "usd": "USD", "$": "USD"}
_CURRENCY_SUFFIX = {"quetzal": "GTQ", "gtq": "GTQ", "usd": "USD", "dollar": "USD"}
_MONEY_PREFIX = re.compile(
    rf"(?<![\w$])(?P<cur>GTQ|US\$|USD|Q|\$)\s?(?P<num>{_DIGITS})(?!\d)"
    r"(?:\s?(?P<mult>thousand|million|k)\b)?",
    re.IGNORECASE,
)
_CURRENCY_WORD = r"(?P<cur>quetzal(?:es|s)?|GTQ|USD|(?:US\s+)?dollars?)\b"
_MONEY_SUFFIX_RANGE = re.compile(
    rf"{_NO_NUMBER_BEFORE}{_RANGE}(?P<num>{_NUM})(?:\s+(?P<mult>thousand|million))?\s*{_CURRENCY_WORD}",
    re.IGNORECASE,
)
_MONEY_SUFFIX = re.compile(
    rf"{_NO_NUMBER_BEFORE}(?P<num>{_NUM})(?:\s+(?P<mult>thousand|million))?\s*{_CURRENCY_WORD}",
    re.IGNORECASE,
)
_PERCENT_WORD = r"\s*(?:%|percent\b|per\s*cent\b|pct\b)"
_PERCENT_RANGE = re.compile(
    rf"{_NO_NUMBER_BEFORE}{_RANGE}(?P<num>{_NUM}){_PERCENT_WORD}", re.IGNORECASE
)
_PERCENT = re.compile(rf"{_NO_NUMBER_BEFORE}(?P<num>{_NUM}){_PERCENT_WORD}", re.IGNORECASE)
_DURATION_UNIT = (
    r"(?:(?P<adj>business|working|banking|bank)\s+)?"
    r"(?P<unit>minutes?|mins?|hours?|hrs?|h|days?|weeks?|wks?|months?|years?|yrs?)\b"
)
_DURATION_RANGE = re.compile(
    rf"{_NO_NUMBER_BEFORE}{_RANGE}(?P<num>{_NUM})\s*-?\s*{_DURATION_UNIT}", re.IGNORECASE
)
_DURATION = re.compile(
    rf"{_NO_NUMBER_BEFORE}(?P<num>{_NUM})\s*-?\s*{_DURATION_UNIT}", re.IGNORECASE
)
_DURATION_ARTICLE = re.compile(
    r"(?:\b(?:within|in|under|about|around|takes?|up\s+to|than|only|over)\s+|\b(?=half\s))"
    rf"(?P<q>(?P<half>half\s+)?an?\s+{_DURATION_UNIT})",
    re.IGNORECASE,
)
_CODE = re.compile(r"(?<![\w.-])\d+(?:-\d+)+(?![\w-])")
_NUMBER = re.compile(rf"{_NO_NUMBER_BEFORE}(?P<num>{_NUM}){_NO_NUMBER_AFTER}", re.IGNORECASE)
_UNIT_NAMES = {
    "min": "minutes",
    "hour": "hours",
    "hr": "hours",
    "h": "hours",
    "day": "days",
    "week": "weeks",
    "wk": "weeks",
    "month": "months",
    "year": "years",
    "yr": "years",
}


def parse_number(text: str) -> float:
    """`5,000.50` or `twenty-four` / `five thousand` as a number."""
    cleaned = text.strip().lower()
    if cleaned[:1].isdigit():
        return float(cleaned.replace(",", ""))
    total, current = 0, 0
    for word in re.findall(r"[a-z]+", cleaned):
        if word == "and":
            continue
        if word == "hundred":
            current = (current or 1) * 100
        elif word in ("thousand", "million"):
            total += (current or 1) * _MULTIPLIERS[word]
            current = 0
        else:
            current += _WORD_VALUES[word]
    return float(total + current)


def extract_quantities(text: str) -> list[Quantity]:
    """Every figure in `text`, typed, in reading order.

    Readers run from the most specific form to the least (dates, clock times,
    money, percentages, durations, codes, plain numbers); each masks what it
    read so that "Q5,000.00" is one amount and not also the number 5,000, and
    "1-2 business days" is one duration and not the numbers 1 and 2.
    """
    if not text:
        return []
    masked = _mask_spans(text, [m.span() for m in _NOT_QUANTITIES.finditer(text)])
    found: list[tuple[int, Quantity]] = []
    for pattern, build, group in _READERS:
        taken = []
        for match in pattern.finditer(masked):
            if _MASK in match.group(0):
                continue  # touches text an earlier reader already read
            quantities = build(match)
            if not quantities:
                continue
            start, end = match.span(group)
            found.extend((start, replace(q, text=text[start:end])) for q in quantities)
            taken.append((start, end))
        masked = _mask_spans(masked, taken)
    return [quantity for _, quantity in sorted(found, key=lambda pair: pair[0])]


def _mask_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = _MASK * (end - start)
    return "".join(chars)


def _date(match: re.Match) -> list[Quantity]:
    if match.groupdict().get("m"):
        month = int(match["m"])
    else:
        month = 1 + next(
            i for i, name in enumerate(_MONTHS) if name[:3] == match["mon"][:3].lower()
        )
    day, year = int(match["d"]), int(match["y"] or 0)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return []
    return [Quantity("date", year * 10000 + month * 100 + day)]


def _time_ampm(match: re.Match) -> list[Quantity]:
    hour, minute = int(match["h"]), int(match["m"] or 0)
    if not (1 <= hour <= 12 and minute < 60):
        return []
    hour = hour % 12 + (12 if match["ap"].lower() == "p" else 0)
    return [Quantity("time", hour * 60 + minute)]


def _time_colon(match: re.Match) -> list[Quantity]:
    hour, minute = int(match["h"]), int(match["m"])
    if hour > 23 or minute > 59:
        return []
    # "08:00" and "20:00" are the 24-hour clock; "8:00" could be morning or evening.
    ambiguous = 1 <= hour <= 12 and not match["h"].startswith("0")
    return [Quantity("time", hour * 60 + minute, "unspecified" if ambiguous else "")]


def _time_oclock(match: re.Match) -> list[Quantity]:
    hour = int(match["h"])
    return [Quantity("time", hour * 60, "unspecified")] if 1 <= hour <= 12 else []


def _time_word(match: re.Match) -> list[Quantity]:
    return [Quantity("time", 0 if match["word"].lower() == "midnight" else 720)]


def _money(number: str, multiplier: str | None, currency: str) -> Quantity:
    value = parse_number(number) * _MULTIPLIERS.get((multiplier or "").lower(), 1)
    return Quantity("money", round(value, 2), currency)


def _money_prefix(match: re.Match) -> list[Quantity]:
    return [_money(match["num"], match["mult"], _CURRENCY_PREFIX[match["cur"].lower()])]


def _suffix_currency(word: str) -> str:
    word = word.lower()
    return next(code for stem, code in _CURRENCY_SUFFIX.items() if stem in word)


def _money_suffix(match: re.Match) -> list[Quantity]:
    currency = _suffix_currency(match["cur"])
    numbers = [match["num"]] if "lo" not in match.groupdict() else [match["lo"], match["num"]]
    if len(numbers) == 2 and not _rising(match):
        return []
    return [_money(number, match["mult"], currency) for number in numbers]


def _percent(match: re.Match) -> list[Quantity]:
    numbers = [match["num"]] if "lo" not in match.groupdict() else [match["lo"], match["num"]]
    if len(numbers) == 2 and not _rising(match):
        return []
    return [Quantity("percent", parse_number(number)) for number in numbers]


def _rising(match: re.Match) -> bool:
    """A range reads low to high; "call 1722 or 2 hours" is not one."""
    return parse_number(match["lo"]) < parse_number(match["num"])


def _duration_unit(match: re.Match) -> str:
    base = match["unit"].lower()
    base = _UNIT_NAMES.get(base.rstrip("s"), base)
    base = base if base.endswith("s") else base + "s"
    return f"business {base}" if match["adj"] else base


def _duration(match: re.Match) -> list[Quantity]:
    unit = _duration_unit(match)
    if "lo" not in match.groupdict():
        return [Quantity("duration", parse_number(match["num"]), unit)]
    if not _rising(match):
        return []
    return [Quantity("duration", parse_number(match["lo"]), unit, parse_number(match["num"]))]


def _duration_article(match: re.Match) -> list[Quantity]:
    unit = _duration_unit(match)
    if match["half"] and unit == "hours":
        return [Quantity("duration", 30, "minutes")]
    return [Quantity("duration", 0.5 if match["half"] else 1, unit)]


def _code(match: re.Match) -> list[Quantity]:
    digits = re.sub(r"\D", "", match.group(0))
    # "2277-1722" is a phone number; "10-15" is two numbers.
    return [Quantity("code", int(digits), match.group(0))] if len(digits) >= 6 else []


def _number(match: re.Match) -> list[Quantity]:
    return [Quantity("number", parse_number(match["num"]))]


Reader = tuple[re.Pattern, Callable[[re.Match], list[Quantity]], int | str]
_READERS: tuple[Reader, ...] = (
    *((pattern, _date, 0) for pattern in _DATE_PATTERNS),
    (_TIME_AMPM, _time_ampm, 0),
    (_TIME_COLON, _time_colon, 0),
    (_TIME_OCLOCK, _time_oclock, 0),
    (_TIME_WORDS, _time_word, 0),
    (_MONEY_PREFIX, _money_prefix, 0),
    (_MONEY_SUFFIX_RANGE, _money_suffix, 0),
    (_MONEY_SUFFIX, _money_suffix, 0),
    (_PERCENT_RANGE, _percent, 0),
    (_PERCENT, _percent, 0),
    (_DURATION_RANGE, _duration, 0),
    (_DURATION, _duration, 0),
    (_DURATION_ARTICLE, _duration_article, "q"),
    (_CODE, _code, 0),
    (_NUMBER, _number, 0),
)


# ---------------------------------------------------------------- facts


_FACT_FILLER = frozenset(
    {"to", "and", "or", "per", "a", "an", "the", "of", "from", "between", "until"}
)


def fold(text: str) -> str:
    """Lower case, accents and underscores dropped: "Banca Móvil" == "banca movil"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold().replace("_", " ")


def _phrase_pattern(phrase: str) -> re.Pattern | None:
    words = re.findall(r"\w+", fold(phrase))
    if not words:
        return None
    return re.compile(r"(?<!\w)" + r"\W+".join(map(re.escape, words)) + r"(?!\w)")


@dataclass(frozen=True)
class _Fact:
    quantities: tuple[Quantity, ...]
    words: tuple[re.Pattern, ...]  # each must appear as a whole word or phrase


@lru_cache(maxsize=4096)
def _parse_fact(fact: str) -> _Fact:
    """A fact's figures, and the words it needs besides them.

    A fact without figures is one phrase ("Monday to Friday"); the words left
    around figures ("Saturday 9:00 am to 1:00 pm") are each needed on their
    own, connectives aside.
    """
    quantities = tuple(extract_quantities(fact))
    if not quantities:
        phrase = _phrase_pattern(fact)
        return _Fact((), (phrase,) if phrase else ())
    rest = fact
    for quantity in quantities:
        rest = rest.replace(quantity.text, " ", 1)
    words = [w for w in re.findall(r"\w+", rest) if w.lower() not in _FACT_FILLER]
    return _Fact(quantities, tuple(p for w in words if (p := _phrase_pattern(w))))


def satisfies(found: Quantity, wanted: Quantity) -> bool:
    """Whether a figure read from an answer states the figure a fact asks for.

    Kinds must agree (a bare "5" is not "Q5.00"), except that a plain-number
    fact ("1722") is met by the same number however it is dressed, short of
    money, percentages, times and dates.
    """
    if wanted.kind == "number":
        return (
            found.kind in ("number", "code", "duration")
            and found.high is None
            and math.isclose(found.value, wanted.value)
        )
    if wanted.kind == "code":
        return found.kind in ("code", "number") and found.value == wanted.value
    if found.kind != wanted.kind:
        return False
    if wanted.kind == "money":
        return found.unit == wanted.unit and round(found.value * 100) == round(wanted.value * 100)
    if wanted.kind == "time":
        if "unspecified" in (found.unit, wanted.unit):
            return found.value % 720 == wanted.value % 720
        return found.value == wanted.value
    if wanted.kind == "date":
        if wanted.value < 10000:  # the fact gives no year: month and day must agree
            return found.value % 10000 == wanted.value
        return found.value == wanted.value
    same_high = (found.high is None and wanted.high is None) or (
        found.high is not None and wanted.high is not None and math.isclose(found.high, wanted.high)
    )
    return found.unit == wanted.unit and math.isclose(found.value, wanted.value) and same_high


def _present(fact: str, quantities: Sequence[Quantity], folded_answer: str) -> bool:
    parsed = _parse_fact(fact)
    if not parsed.quantities and not parsed.words:
        return False
    figures_ok = all(any(satisfies(q, wanted) for q in quantities) for wanted in parsed.quantities)
    return figures_ok and all(p.search(folded_answer) for p in parsed.words)


def fact_present(fact: str, answer: str) -> bool:
    """Whether `answer` states `fact`: equal figures, or the fact's words as a phrase."""
    return _present(fact, extract_quantities(answer), fold(answer))


def _facts_found(facts: Sequence[str], text: str) -> list[bool]:
    quantities, folded = extract_quantities(text), fold(text)
    return [_present(fact, quantities, folded) for fact in facts]


def fact_recall(facts: Sequence[str], answer: str) -> float | None:
    """Share of `facts` present in `answer`; None when there are no facts to find."""
    if not facts:
        return None
    found = _facts_found(facts, answer)
    return sum(found) / len(found)


def exact_match(facts: Sequence[str], answer: str) -> float | None:
    """1.0 when every fact is present, else 0.0; None when there are no facts."""
    if not facts:
        return None
    return 1.0 if all(_facts_found(facts, answer)) else 0.0


def retrieval_recall(facts: Sequence[str], passages: Sequence[str]) -> float | None:
    """Share of `facts` present in the retrieved passages: did retrieval find the answer?"""
    return fact_recall(facts, "\n\n".join(passages))


# ---------------------------------------------------------------- text overlap


_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def _squad_tokens(text: str) -> list[str]:
    text = "".join(
        c
        for c in text.lower()
        if not unicodedata.category(c).startswith("P") and c not in "$+<=>^`|~"
    )
    return _ARTICLES.sub(" ", text).split()


def token_f1(answer: str, reference: str) -> float:
    """SQuAD-style F1 of word overlap: lower-cased, punctuation and articles dropped.

    Two empty texts agree (1.0); one empty text shares nothing (0.0).
    """
    predicted, gold = _squad_tokens(answer), _squad_tokens(reference)
    if not predicted or not gold:
        return float(predicted == gold)
    remaining = list(gold)
    common = 0
    for token in predicted:
        if token in remaining:
            remaining.remove(token)
            common += 1
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


# ---------------------------------------------------------------- style, declines, labels


def word_count(text: str) -> int:
    """Words as a reader counts them: "—" and "1." alone are not words, "Q5.00" is."""
    return sum(1 for token in text.split() if re.search(r"\w", token))


def style_checks(answer: str, style: StyleRules) -> dict[str, bool]:
    """Each of the task's style rules that applies, and whether `answer` keeps it.

    Keys: `max_words`, `money_format` (every amount in the answer matches the
    task's money pattern; vacuously true with no amounts), `required: <regex>`
    and `forbidden: <regex>`. Patterns are case-sensitive (a sign-off is exact)
    and searched in the answer with surrounding whitespace stripped.
    """
    text = answer.strip()
    checks: dict[str, bool] = {}
    if style.max_words is not None:
        checks["max_words"] = word_count(text) <= style.max_words
    if style.money_pattern:
        amounts = [q.text for q in extract_quantities(text) if q.kind == "money"]
        checks["money_format"] = all(re.fullmatch(style.money_pattern, a) for a in amounts)
    for pattern in style.required_patterns:
        checks[f"required: {pattern}"] = re.search(pattern, text) is not None
    for pattern in style.forbidden_patterns:
        checks[f"forbidden: {pattern}"] = re.search(pattern, text) is None
    return checks


def style_score(answer: str, style: StyleRules) -> float | None:
    """Share of style checks passed; None when the task has no style rules."""
    checks = style_checks(answer, style)
    if not checks:
        return None
    return sum(checks.values()) / len(checks)


def is_decline(answer: str, patterns: Sequence[str]) -> bool:
    """Whether the answer declines, by the task's patterns (case-insensitive).

    With no patterns, `DEFAULT_DECLINE_PATTERNS` ("I can't help with ...",
    "outside my scope", "I can only assist with ...") are used.
    """
    for pattern in patterns or DEFAULT_DECLINE_PATTERNS:
        if re.search(pattern, answer, re.IGNORECASE):
            return True
    return False


def labels_in(answer: str, labels: Sequence[str]) -> set[str]:
    """The labels an answer names, as whole words; a label inside a longer
    named label ("card" in "credit card") does not count on its own."""
    return {label for label, _ in _named_labels(answer, labels)}


def _label_forms(label: str) -> set[str]:
    """How a label may be written: as it is, and with its `_` / `-` as spaces."""
    folded = fold(label)
    return {folded, " ".join(re.split(r"[_\-\s]+", folded)).strip()} - {""}


def _named_labels(answer: str, labels: Sequence[str]) -> list[tuple[str, int]]:
    """(label, where it starts) for every label the answer names as a whole
    phrase, a label inside a longer named one left out; in reading order."""
    folded = fold(answer)
    spans: list[tuple[str, int, int]] = []
    for label in labels:
        for form in _label_forms(label):
            pattern = _phrase_pattern(form)
            if pattern is not None:
                spans += [(label, m.start(), m.end()) for m in pattern.finditer(folded)]
    named = [
        (label, start)
        for label, start, end in spans
        if not any(
            other != label and s <= start and end <= e and (e - s) > (end - start)
            for other, s, e in spans
        )
    ]
    return sorted(set(named), key=lambda pair: (pair[1], -len(pair[0])))


_ANSWER_PREFIX = re.compile(
    r"^\s*(?:the\s+)?(?:label|intent|category|class|answer)\s*(?:is)?\s*[:=-]?\s*", re.I
)
FUZZY_LABEL_CUTOFF = 0.85


def map_to_label(answer: str, labels: Sequence[str]) -> str | None:
    """The allowed label a free-text answer gives, or None when it names none.

    In order: the answer (its first line, without a "Label:" prefix, quotes or
    final punctuation) *is* a label, written as listed or with spaces for `_`;
    else its first line is a near spelling of one label (difflib ratio ≥ 0.85:
    "card arival"); else the one label it names as a whole phrase ("It's
    card_arrival, since ..." → card_arrival). An answer that names no label, or
    hedges between two, is counted wrong and reported as unmapped, never guessed.
    """
    import difflib

    lines = [line for line in (answer or "").strip().splitlines() if line.strip()]
    if not lines or not labels:
        return None
    head = _ANSWER_PREFIX.sub("", lines[0]).strip().strip("\"'`*.!,;: ").strip()
    forms = {form: label for label in labels for form in _label_forms(label)}
    for candidate in (fold(head), " ".join(re.split(r"[_\-\s]+", fold(head))).strip()):
        if candidate in forms:
            return forms[candidate]
    close = difflib.get_close_matches(fold(head), list(forms), n=1, cutoff=FUZZY_LABEL_CUTOFF)
    if close:
        return forms[close[0]]
    named = {label for label, _ in _named_labels(answer, labels)}
    return named.pop() if len(named) == 1 else None  # naming two labels is hedging


def label_score(answer: str, reference: str, labels: Sequence[str]) -> float:
    """1.0 when the answer maps to the reference label (`map_to_label`)."""
    return 1.0 if map_to_label(answer, labels) == reference else 0.0


NO_LABEL = "(no label)"
"""What an answer that names no allowed label is counted as."""


def classification_summary(
    references: Sequence[str], predictions: Sequence[str | None], labels: Sequence[str]
) -> dict:
    """Accuracy, macro-F1, per-label precision / recall and the most-confused pairs
    (scikit-learn's metrics). An unmapped answer (None) is wrong for every label.

    Macro-F1 averages over the labels that occur among the references: a label
    the test set never asks about has no recall to measure.
    """
    from collections import Counter

    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    predicted = [p if p is not None else NO_LABEL for p in predictions]
    present = [label for label in labels if label in set(references)] or sorted(set(references))
    precision, recall, f1, support = precision_recall_fscore_support(
        references, predicted, labels=present, zero_division=0
    )
    confused = Counter((r, p) for r, p in zip(references, predicted, strict=True) if r != p)
    return {
        "accuracy": float(accuracy_score(references, predicted)),
        "macro_f1": float(
            f1_score(references, predicted, labels=present, average="macro", zero_division=0)
        ),
        "unmapped": sum(p == NO_LABEL for p in predicted) / max(len(predicted), 1),
        "per_label": {
            label: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(n),
            }
            for label, p, r, f, n in zip(present, precision, recall, f1, support, strict=True)
        },
        "confused": [
            {"reference": r, "predicted": p, "count": n}
            for (r, p), n in sorted(confused.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        ],
    }


# ---------------------------------------------------------------- hallucinated figures


def known_figures(texts: Iterable[str]) -> set[Quantity]:
    """Every figure the task states anywhere: what an answer may say without inventing.

    The caller passes the corpus (both versions), the train answers and the
    test references and facts.
    """
    known: set[Quantity] = set()
    for text in texts:
        known.update(extract_quantities(text))
    return known


def _endpoints(quantity: Quantity) -> tuple[float, ...]:
    return (quantity.value,) if quantity.high is None else (quantity.value, quantity.high)


def _is_known(figure: Quantity, known: Collection[Quantity]) -> bool:
    if figure in known:
        return True
    if figure.kind == "number":  # a bare "5,000" is known when "Q5,000.00" is
        return any(math.isclose(figure.value, v) for k in known for v in _endpoints(k))
    if figure.kind == "duration":  # "2 hours" is known when "1-2 hours" is
        ends = {
            v
            for k in known
            if k.kind == "duration" and k.unit == figure.unit
            for v in _endpoints(k)
        }
        return all(any(math.isclose(v, e) for e in ends) for v in _endpoints(figure))
    return any(satisfies(figure, k) or satisfies(k, figure) for k in known)


def _trivial(figure: Quantity) -> bool:
    return (
        figure.kind == "number"
        and figure.value.is_integer()
        and 0 <= figure.value <= TRIVIAL_NUMBER_MAX
    )


def hallucinated_numbers(answer: str, known: Collection[Quantity]) -> list[str]:
    """Figures in `answer` that the task never states, as written, once each.

    Small whole numbers (up to `TRIVIAL_NUMBER_MAX`), list numbering and "24/7"
    are never counted. Everything else is: an invented fee, limit, processing
    time, opening hour, date, phone number or percentage.
    """
    invented: dict[Quantity, str] = {}
    for figure in extract_quantities(answer):
        if not _trivial(figure) and not _is_known(figure, known):
            invented.setdefault(figure, figure.text)
    return list(invented.values())


# ---------------------------------------------------------------- one item, many items


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _primary_score(
    kind: str, recall: float | None, style: float | None, declined: bool
) -> float | None:
    if kind == "out_of_scope":
        return float(declined)
    if kind == "style":
        return _mean([style, recall])
    return recall


def score_item(
    item: TestItem,
    answer: str,
    *,
    style: StyleRules,
    decline_patterns: Sequence[str],
    known: Collection[Quantity] | None,
    similarity: float | None = None,
    passages: Sequence[str] | None = None,
    labels: Sequence[str] = (),
    primary: str = "facts",
) -> dict[str, object]:
    """Every per-item metric for one answer, None where it does not apply.

    `labels` (a classification task): the score is 1 when the answer maps to
    the reference label, and `predicted` is the label it maps to (None: none).
    `primary` (a generation task's `score` in task.yaml): fact recall by
    default, or token F1 / embedding similarity for tasks without facts.

    Figures in the item's own question, reference and facts count as known, so
    an answer repeating "Q10,000" from the question is not inventing it.
    `known=None` skips the hallucination count.
    """
    answer = answer or ""
    quantities, folded = extract_quantities(answer), fold(answer)
    found = [_present(fact, quantities, folded) for fact in item.facts]
    recall = sum(found) / len(found) if found else None
    style_value = style_score(answer, style)
    declined = is_decline(answer, decline_patterns)
    in_scope = item.kind != "out_of_scope"

    exact = (1.0 if all(found) else 0.0) if found else None
    predicted = None
    if labels:  # a classification task: the reference is a label
        predicted = map_to_label(answer, labels)
        score = 1.0 if predicted == item.reference else 0.0
        exact = score if exact is None else exact
    elif primary == "token_f1":
        score = token_f1(answer, item.reference) if item.kind != "out_of_scope" else float(declined)
    elif primary == "embedding_similarity":
        score = similarity if item.kind != "out_of_scope" else float(declined)
    else:
        score = _primary_score(item.kind, recall, style_value, declined)

    hallucinated = None
    if known is not None:
        own = (item.question, item.reference, *item.facts, *item.stale_facts)
        hallucinated = float(len(hallucinated_numbers(answer, set(known) | known_figures(own))))
    stale = None
    if item.kind == "drift" and item.stale_facts:
        stale = 1.0 if any(_present(f, quantities, folded) for f in item.stale_facts) else 0.0

    result: dict[str, object] = {
        "score": score,
        "fact_recall": recall,
        "exact": exact,
        "token_f1": token_f1(answer, item.reference),
        "embedding_similarity": similarity,
        "style": style_value,
        "declined": float(declined),
        "correct_decline": None if in_scope else float(declined),
        "false_decline": float(declined and not any(found)) if in_scope else None,
        "hallucinated_numbers": hallucinated,
        "stale": stale,
        "retrieval_recall": None if passages is None else retrieval_recall(item.facts, passages),
    }
    if labels:
        result["predicted"] = predicted
        result["unmapped"] = float(predicted is None)
    return result


NON_METRIC_KEYS = frozenset({"id", "kind", "seed", "line", "n", "topic", "predicted"})


def _numeric(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and not math.isnan(value):
        return float(value)
    return None


def _means(rows: Sequence[Mapping]) -> dict[str, float | int]:
    sums: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            number = _numeric(value)
            if key not in NON_METRIC_KEYS and number is not None:
                sums.setdefault(key, []).append(number)
    result: dict[str, float | int] = {key: sum(vs) / len(vs) for key, vs in sums.items()}
    result["n"] = len(rows)
    return result


def aggregate(rows: Sequence[Mapping]) -> dict:
    """Means of every numeric metric over the rows that have it, overall and per `kind`.

    A metric that is None (or NaN, or not a number) in a row is left out of that
    row's mean rather than counted as zero; a metric no row has is absent.
    `n` is the number of rows. Kinds come in the task format's order.
    """
    by_kind: dict[str, list[Mapping]] = {}
    for row in rows:
        if row.get("kind") is not None:
            by_kind.setdefault(str(row["kind"]), []).append(row)
    order = [k for k in KINDS if k in by_kind] + sorted(k for k in by_kind if k not in KINDS)
    return {
        "overall": _means(rows),
        "by_kind": {kind: _means(by_kind[kind]) for kind in order},
    }
