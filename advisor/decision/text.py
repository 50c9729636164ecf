"""Free text in: a scenario, and the answer option that matches the recommendation.

`parse_scenario_text` reads the facts that decide (numbers, then keyword cues,
then — only where the keywords found nothing and a `TextMatcher` is given —
MiniLM similarity to prototype sentences) and says what it understood and from
which words. `classify_option` maps a freely worded answer option to an
approach; `choose_option` picks the option whose approach ranks highest for
the scenario.

The cues are data: `CUES` and `OPTION_CUES` below are ordered tables
(field, value, pattern); the first matching cue for a field wins, so specific
phrasings come before general ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from advisor.decision.approaches import APPROACH_DESCRIPTIONS, APPROACHES
from advisor.decision.engine import recommend
from advisor.decision.matcher import TextMatcher, best_label
from advisor.decision.recommendation import Recommendation, Understood
from advisor.decision.scenario import SCENARIO_SPACE, Scenario, corpus_bucket, format_value

# ---------------------------------------------------------------- scenario cues

NEGATION = re.compile(
    r"\b(no|not|without|rather than|instead of|avoid\w*|never|neither|nor)\b|n't\b", re.I
)


@dataclass(frozen=True)
class Cue:
    field: str
    value: Any
    pattern: str
    negatable: bool = False  # skip the match when "not", "without"... come just before it


def _cues(field: str, table: list[tuple[Any, str]], negatable: bool = False) -> list[Cue]:
    return [Cue(field, value, pattern, negatable) for value, pattern in table]


CUES: list[Cue] = [
    *_cues(
        "goal",
        [
            (
                "least_effort",
                r"\bleast (?:amount of )?(?:operational |development |engineering |implementation )?"
                r"(?:effort|overhead|work|complexity|development|changes|maintenance)",
            ),
            (
                "least_effort",
                r"\b(?:minimal|minimum|lowest|little) (?:operational |development |engineering )?"
                r"(?:effort|overhead|development|engineering|changes|setup)",
            ),
            (
                "least_effort",
                r"\b(?:simplest|easiest|fewest changes|most operationally efficient|quickest to implement)",
            ),
            (
                "lowest_latency",
                r"\b(?:lowest|minimal|minimum|least|reduce the|minimi[sz]e the) (?:response )?latency",
            ),
            ("lowest_latency", r"\bfastest (?:responses?|inference|answers?)"),
            (
                "lowest_cost",
                r"\b(?:most cost[- ]effective|lowest[- ]cost|least expensive|cheapest|most economical|"
                r"cost[- ]efficient|minimi[sz]e (?:the )?costs?|lowest (?:price|expense|costs?))",
            ),
            (
                "best_quality",
                r"\b(?:highest|best|maximum|maximi[sz]e|most) (?:possible )?(?:accuracy|quality|accurate|"
                r"performance|precise|precision)|state[- ]of[- ]the[- ]art|as accurate as possible",
            ),
        ],
    ),
    *_cues(
        "training_allowed",
        [
            (
                False,
                r"\b(?:cannot|can't|can not|must not|may not|not allowed to|is not permitted to|unable to|does not want to|"
                r"doesn't want to|do not want to|don't want to) (?:\w+ )?(?:fine-?tune|train|retrain|modify|change|alter|update)"
                r" (?:the |its |their )?(?:model|weights|foundation model|llm)",
            ),
            (
                False,
                r"\bwithout (?:any )?(?:fine-?tuning|training|retraining|re-training|modifying|changing|altering|updating)"
                r"(?: the| its)?(?: model| weights)?",
            ),
            (
                False,
                r"\b(?:model|weights) (?:cannot|can't|must not|may not|is not allowed to) be (?:changed|modified|"
                r"fine-?tuned|trained|retrained|updated)|\bfrozen (?:model|weights)",
            ),
        ],
    ),
    *_cues(
        "base_model_exists",
        [
            (
                False,
                r"\bno (?:existing |suitable |available |pre-?trained |public |off-the-shelf |open )*(?:foundation |base |"
                r"language |large language )?models? (?:exists?|is available|are available|handles?|supports?|"
                r"understands?|covers?|has been trained)",
            ),
            (
                False,
                r"\bno (?:existing |suitable |available |pre-?trained |off-the-shelf )+(?:foundation |base )?models?\b",
            ),
            (
                False,
                r"\bnothing (?:like it|comparable|similar) exists|\bno model (?:has ever|was ever) (?:seen|trained)",
            ),
            (
                False,
                r"\b(?:build|create|develop|pre-?train|train) (?:its|their|our|a|an) (?:own |new |brand-new |original )+"
                r"(?:foundation|base|large language|language|llm|general-purpose) model",
            ),
        ],
        negatable=True,
    ),
    *_cues(
        "knowledge_changes",
        [
            (
                "never",
                r"\b(?:rarely|seldom|never|do(?:es)? not|don't|doesn't|hardly ever) (?:\w+ )?changes?\b|"
                r"\b(?:static|stable|unchanging|fixed|historical) (?:knowledge|information|facts|documents|data|corpus|content)",
            ),
            (
                "never",
                r"\b(?:knowledge|information|facts|content) (?:is|are) (?:static|stable|fixed)",
            ),
            ("yearly", r"\b(?:once a|every|each) year\b|\bannual(?:ly)?\b|\byearly\b"),
            (
                "realtime",
                r"\breal[- ]time (?:data|information|prices|pricing|updates|inventory|stock|news|feeds?|"
                r"availability)|\bevery (?:minute|hour|few minutes)|\bhourly\b|\blive (?:data|prices|inventory|"
                r"feeds?|stock)|\bconstantly\b|\bcontinuously\b|\bby the minute\b",
            ),
            (
                "daily",
                r"\bdaily\b|\bevery day\b|\beach day\b|\bnightly\b|\bseveral times a (?:day|week)",
            ),
            ("weekly", r"\bweekly\b|\bevery week\b|\beach week\b"),
            (
                "monthly",
                r"\bmonthly\b|\bevery month\b|\beach month\b|\bquarterly\b|\bevery quarter\b",
            ),
            (
                "weekly",
                r"\b(?:frequently|often|regularly) (?:updated|changing|changes?|revised|added)|\b(?:updated|changes?|"
                r"changing|revised) (?:frequently|often|regularly|all the time)|\bkeeps? changing|\bfast[- ]changing|"
                r"\bup[- ]to[- ]date\b|\blatest (?:information|prices|policies|data|products|versions?|news)|"
                r"\bnew (?:products|documents|policies|articles|regulations) (?:are|get) (?:added|released|published)|"
                r"\bevolv(?:e|es|ing)\b|\brapidly chang",
            ),
        ],
    ),
    *_cues(
        "knowledge",
        [
            (
                "none",
                r"\b(?:does not|doesn't|do not|don't) need (?:any )?(?:new |extra |additional |external )?"
                r"(?:facts|knowledge|information)|\bknowledge is not the (?:problem|issue)|\balready knows? (?:the|all)",
            ),
            (
                "private",
                r"\b(?:proprietary|internal|confidential|in-house|private|company-specific|organization-specific)\b",
            ),
            (
                "private",
                r"\b(?:company's|its own|their own|our own|organization's|the company) (?:\w+ )?(?:documents|"
                r"policies|products|procedures|data|knowledge|manuals|catalog|handbook|documentation|wiki)",
            ),
            (
                "private",
                r"\bproduct catalog|\bknowledge base|\bpolicy documents|\bfaqs?\b|\bmanuals?\b|\bhandbook",
            ),
            (
                "public",
                r"\b(?:general knowledge|publicly available|common knowledge|public information|public facts)",
            ),
        ],
    ),
    *_cues(
        "base_model_fit",
        [
            (
                "close",
                r"\b(?:nearly|almost) (?:there|right|correct|good|perfect|what)|\bmostly (?:correct|good|right|fine|"
                r"accurate)|\bminor (?:issues|tweaks|changes|adjustments|errors|problems)|\bsmall (?:adjustments|tweaks)|"
                r"\balready (?:performs|works|does|answers) (?:well|reasonably|fine)|\bgood enough|\bjust needs|"
                r"\bonly needs|\bslightly\b|\boccasionally\b|\bperforms (?:well|reasonably well)",
            ),
            (
                "far",
                r"\b(?:performs poorly|fails|struggles|is unusable|completely wrong|poor (?:results|performance|quality)|"
                r"(?:does not|doesn't|cannot|can't) (?:understand|handle|process|read))",
            ),
        ],
    ),
    *_cues(
        "compute",
        [
            (
                "cluster",
                r"\bclusters?\b|\b(?:thousands|hundreds) of gpus|\bsupercomputer|\blarge[- ]scale (?:compute|"
                r"infrastructure|training infrastructure)|\b(?:massive|vast|unlimited|enormous) compute|\bdata ?cent(?:er|re)s?\b",
            ),
            (
                "multi_gpu",
                r"\b(?:\d+|several|multiple|a few|two|four|eight|sixteen) (?:\w+ )?gpus\b|\bmulti-?gpu|"
                r"\bgpu (?:server|node)s? with",
            ),
            (
                "single_gpu",
                r"\b(?:a|one|single|an?) (?:\w+ )?gpu\b|\ban? (?:a100|h100|v100|t4|a10g?|l4|rtx \w+|4090|3090)\b|"
                r"\bone graphics card",
            ),
            (
                "cpu",
                r"\bcpus? only|\bonly (?:has )?cpus?|\blaptops?\b|\bno gpus?\b|\bcpu servers?|\bcommodity (?:hardware|servers)",
            ),
            (
                "api_only",
                r"\bno (?:ml |machine learning |in-house )?(?:infrastructure|hardware|data scientists|ml team|"
                r"ml expertise|ml engineers|machine learning (?:team|expertise|engineers))|\bonly (?:has )?api access|"
                r"\bthrough (?:an|the) api|\bmanaged (?:service|ai service)|\bserverless|\bamazon bedrock|\bbedrock\b|"
                r"\bhosted (?:model|llm|api)|\bfully managed|\bwithout (?:any )?(?:ml )?infrastructure",
            ),
        ],
    ),
    *_cues(
        "budget",
        [
            (
                "vast",
                r"\b(?:virtually )?unlimited (?:budget|resources|funding)|\b(?:millions|billions) of dollars|"
                r"\bvast (?:budget|resources|funding)|\bdeep pockets|\bwell[- ]funded|\b(?:huge|enormous|massive) budget|"
                r"\bno budget (?:constraints?|limits?)|\bmoney is no object",
            ),
            (
                "high",
                r"\b(?:significant|generous|high|large|substantial) (?:budget|investment|funding)",
            ),
            (
                "minimal",
                r"\bminimal (?:budget|spend|spending|funds)|\bno budget\b|\bshoestring|\bfree tier",
            ),
            (
                "low",
                r"\b(?:limited|tight|small|low|modest|constrained) (?:budget|funds|funding|resources)|\bbudget[- ]constrained|"
                r"\bstartup\b|\bsmall team|\bkeep costs? (?:low|down)|\binexpensive",
            ),
            ("medium", r"\bmoderate budget|\breasonable budget"),
        ],
    ),
    *_cues(
        "timeline",
        [
            (
                "days",
                r"\b(?:by|before) (?:tomorrow|next week|friday|monday|the end of the week)|\bwithin (?:a few|two|three|"
                r"\d+) days|\bin (?:a few )?days\b|\bimmediately|\bright away|\bas soon as possible|\basap\b|\burgent|"
                r"\bquick(?:ly|est)?\b|\btoday\b|\b(?:short|tight) (?:timeline|deadline)|\bthis week",
            ),
            ("weeks", r"\b(?:a|one|two|three|few|several|\d+) weeks\b|\bwithin a month"),
            ("months", r"\b(?:a|few|several|\d+|six|three|two) months\b|\ba quarter\b"),
            (
                "long",
                r"\b(?:one|multiple|several|\d+|two|three) years\b|\blong[- ]term (?:project|research|investment|effort)|"
                r"\bmulti-?year",
            ),
        ],
    ),
    *_cues(
        "latency",
        [
            (
                "relaxed",
                r"\blatency is not (?:a|an) (?:concern|issue|problem)|\bbatch (?:processing|jobs)|\bovernight\b|"
                r"\boffline processing",
            ),
            (
                "strict",
                r"\blow[- ]latency|\blatency[- ]sensitive|\breal[- ]time (?:responses|answers|applications?|chat|"
                r"inference|conversations?|assistant|use)|\bmilliseconds?\b|\b(?:fast|quick|instant|rapid) (?:responses|"
                r"answers|replies)|\brespond (?:quickly|instantly|within)|\bstrict latency|\bunder (?:a|one|two|\d+) "
                r"seconds?|\bsub-second|\blatency (?:requirements?|budget|limits?)|\bon-device|\bedge devices?|\bmobile",
            ),
        ],
    ),
    *_cues(
        "token_budget",
        [
            (
                "tight",
                r"\b(?:token|context)[- ]?(?:budget|limits?|window) (?:is )?(?:small|limited|tight)|\blimited context "
                r"(?:window|length)|\bminimi[sz]e (?:the )?(?:number of )?(?:input |prompt )?tokens|\bfewer tokens|"
                r"\btoken costs?|\bshort prompts|\bsmall context window|\bper-token (?:cost|pricing|charges)|"
                r"\bprompt length|\binput tokens|\btoken budget",
            ),
        ],
    ),
    *_cues(
        "citations",
        [
            (
                True,
                r"\bcit(?:e|es|ing|ation|ations)\b|\bsources? (?:of|for) (?:each|every|the|its|their) (?:answers?|"
                r"responses?|claims?)|\b(?:show|shows|include|includes|list|return|returns) (?:the |its |their )?sources|"
                r"\bwith sources|\btraceab|\baudit|\bprovenance|\breference the (?:source|documents?)|\bwhich document|"
                r"\bverifiable|\battribution|\bgrounded in (?:the )?sources?",
            ),
        ],
        negatable=True,
    ),
    *_cues(
        "on_premises",
        [
            (
                True,
                r"\bon[- ]prem(?:ise|ises)?\b|\b(?:must|cannot|can't|may|should|must never) (?:not )?leave|\bnever leave|"
                r"\bair[- ]gapped|\bdata residency|\bsovereign|\b(?:cannot|can't|must not) be sent|\bnot be sent to|"
                r"\bprivate cloud|\bwithin (?:its|their|our) (?:own )?(?:network|data cent)|\bstay (?:inside|within|on) ",
            ),
        ],
    ),
]

# Words that name what the base model gets wrong today.
GAP_CUES: list[Cue] = _cues(
    "gaps",
    [
        (
            "modality",
            r"\bmodalit(?:y|ies)|\bprotein|\bgenom|\bdna\b|\brna\b|\bmolecul|\btime[- ]series|\bsensor (?:data|"
            r"readings|signals)|\bseismic|\bsatellite|\bradar\b|\btelemetry|\bspectrogram|\baudio signals|"
            r"\blanguage (?:that )?no (?:existing )?model|\blow-resource language|\bnot (?:natural language|text)\b|"
            r"\bsignal data",
        ),
        (
            "vocabulary",
            r"\bterminolog|\bjargon|\bvocabular|\bacronyms?|\babbreviations?|\bdomain[- ]specific (?:language|"
            r"terms|words|text)|\btechnical terms|\bmedical terms|\blegal language|\bspeciali[sz]ed (?:language|terms)|"
            r"\blanguage of (?:the|its|their) (?:domain|industry|field)|\bunderstand (?:the )?(?:domain|industry)",
        ),
        (
            "tone",
            r"\btone\b|\bbrand(?:'s)? voice|\bvoice\b|\bpersona\b|\bfriendl(?:y|ier)|\bempath|\bformal\b|\bpolite|"
            r"\bpersonality|\bsound(?:s)? like|\bspeaks? like|\bwrites? like|\b(?:writing|communication) style|"
            r"\bstyle of (?:our|the|its|their)",
        ),
        (
            "format",
            r"\bformat|\bjson\b|\bxml\b|\btemplate|\bstructured output|\bschema\b|\bhouse style|\bbullet|"
            r"\bfixed structure|\bspecific structure",
        ),
        (
            "behaviour",
            r"\bbehav|\bfollow (?:the |our |its |their |company )?(?:polic|guideline|rules|procedure)|\brefus|"
            r"\bdeclin|\bescalat|\bcomply|\bguardrail|\binstruction[- ]following|\bstay on topic|\boff-topic",
        ),
        (
            "task_skill",
            r"\bclassif|\bcategori[sz]|\blabels? (?:each|every|incoming|the) |\bextract|\bsentiment|\btagging|"
            r"\broute|\btriage|\bdetect|\bsummari[sz]|\btranslat|\bcode generation|\bsql\b|\bnamed entit|"
            r"\bintents?\b|\bspecific task",
        ),
        (
            "facts",
            r"\b(?:doesn't|does not|don't|do not) know|\bunaware|\bnot aware|\boutdated|\bout of date|\bhallucinat|"
            r"\bmade-up|\binvents?\b|\banswer(?:s|ing)? (?:customer |employee |user )?questions (?:about|on|from|using)|"
            r"\blook up|\bcurrent (?:prices|policies|inventory|information)|\bfacts\b",
        ),
    ],
)

QUALITY_CUES: list[Cue] = _cues(
    "label_quality",
    [
        (
            "low",
            r"\bnoisy|\binconsistent(?:ly)?|\blow[- ]quality|\bmessy|\bunreliable|\berrors in the labels|\bpoorly labeled",
        ),
        (
            "mixed",
            r"\bmixed[- ]quality|\bvarying quality|\bsome (?:of them )?(?:are )?(?:wrong|noisy)",
        ),
        (
            "high",
            r"\bhigh[- ]quality|\bcurated|\bcarefully (?:written|reviewed|labeled|labelled|annotated)|\bexpert[- ]"
            r"(?:written|labeled|labelled|annotated|reviewed)|\bgold\b|\bverified|\bclean\b|\bexcellent",
        ),
    ],
)

# ---------------------------------------------------------------- amounts

_WORD_NUMBERS = {
    "tens of thousands of": 30_000,
    "hundreds of thousands of": 300_000,
    "millions of": 3_000_000,
    "billions of": 3_000_000_000,
    "a few thousand": 3_000,
    "several thousand": 5_000,
    "thousands of": 3_000,
    "a few hundred": 300,
    "several hundred": 500,
    "hundreds of": 300,
    "a few dozen": 36,
    "dozens of": 36,
    "a dozen": 12,
    "a handful of": 5,
    "tens of": 30,
    "a few": 5,
    "several": 7,
    "a hundred": 100,
    "one hundred": 100,
    "a thousand": 1_000,
    "one thousand": 1_000,
    "a million": 1_000_000,
    "one": 1,
    "two": 2,
    "three": 3,
    "five": 5,
    "ten": 10,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
}
_MULT = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9}
_QUANTITY = (
    r"(?P<quantity>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?P<mult>k|thousand|million|m|billion|b)?\b"
    r"|(?P<words>" + "|".join(sorted(map(re.escape, _WORD_NUMBERS), key=len, reverse=True)) + r")"
)
LABELED_NOUNS = (
    r"examples?|pairs|conversations?|dialog(?:ue)?s|transcripts|samples|demonstrations|annotations|"
    r"labels|labeled \w+|question-answer \w+|q&a \w+|prompt-(?:response|completion) \w+|tickets|emails|instructions|"
    r"chats|replies|responses"
)
CORPUS_NOUNS = {
    "tokens": 1,
    "words": 1.3,
    "documents": 1_500,
    "docs": 1_500,
    "pages": 500,
    "articles": 1_500,
    "papers": 6_000,
    "reports": 3_000,
    "manuals": 100_000,
    "books": 100_000,
    "files": 1_500,
    "contracts": 5_000,
    "filings": 20_000,
    "notes": 500,
    "records": 800,
    "logs": 300,
    "gb": 2.5e8,
    "gigabytes": 2.5e8,
    "tb": 2.5e11,
    "terabytes": 2.5e11,
    "pb": 2.5e14,
    "petabytes": 2.5e14,
}
AMOUNT = re.compile(
    r"(?:"
    + _QUANTITY
    + r")\s+(?P<between>(?:[\w'&/-]+\s+){0,5}?)(?P<noun>"
    + LABELED_NOUNS
    + "|"
    + "|".join(CORPUS_NOUNS)
    + r")\b",
    re.I,
)
UNLABELED = re.compile(r"\b(?:unlabel+ed|raw|unannotated|unstructured|untagged)\b", re.I)
LABELED = re.compile(
    r"\b(?:label+ed|annotated|curated|tagged|high[- ]quality|gold|example)\b", re.I
)

LABELED_WITHOUT_COUNT: list[tuple[int, str]] = [
    (
        0,
        r"\b(?:no|without|lacks?|zero|doesn't have|does not have|don't have|do not have) (?:any )?"
        r"(?:label+ed|annotated|training) (?:data|examples|dataset|pairs)",
    ),
    (20, r"\b(?:very )?few (?:label+ed |annotated |training )?(?:examples|samples|pairs)"),
    (
        20_000,
        r"\b(?:large|big|extensive|huge|massive|substantial) (?:\w+ )?(?:label+ed|annotated) (?:data|dataset|corpus)",
    ),
    (
        1_000,
        r"\b(?:label+ed|annotated) (?:data|dataset|examples|training data|pairs)|\bprompt-(?:response|completion) "
        r"pairs|\bquestion-answer pairs|\binput-output (?:pairs|examples)",
    ),
]
CORPUS_WITHOUT_COUNT: list[tuple[str, str]] = [
    (
        "massive",
        r"\b(?:vast|huge|massive|enormous|web-scale|internet-scale|petabytes?|terabytes?|trillions? of tokens)"
        r"\b(?: \w+){0,4} (?:of )?(?:\w+ ){0,3}(?:data|text|corpus|documents|dataset)",
    ),
    (
        "large",
        r"\b(?:large|big|extensive|substantial|years of|decades of|a wealth of|lots of|plenty of) "
        r"(?:\w+ ){0,3}(?:unlabel+ed |raw |domain |unstructured )?(?:\w+ )?(?:data|text|corpus|corpora|"
        r"documents|collection|archive|library|repository)",
    ),
    (
        "small",
        r"\b(?:small|short|a few|a handful of|limited) (?:\w+ )?(?:corpus|collection of documents|documents|"
        r"set of documents|amount of (?:unlabel+ed |raw )?text)",
    ),
]


def _amount(match: re.Match) -> float:
    if match.group("words"):
        return float(_WORD_NUMBERS[match.group("words").lower()])
    value = float(match.group("quantity").replace(",", ""))
    return value * _MULT.get((match.group("mult") or "").lower(), 1)


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class ParsedScenario:
    """What `parse_scenario_text` read: the scenario and, for each fact, where it came from."""

    scenario: Scenario
    understood: tuple[Understood, ...]
    used_matcher: bool = False

    def explain(self) -> list[str]:
        return [
            f'{SCENARIO_SPACE[u.field].label}: {format_value(u.field, u.value)}  ← "{u.phrase}"'
            for u in self.understood
        ]


def _negated(text: str, start: int) -> bool:
    clause = re.split(r"[.;,:!?]", text[max(0, start - 40) : start])[-1]
    return bool(NEGATION.search(clause))


def _first_cue(text: str, cues: list[Cue]) -> tuple[Cue, re.Match] | None:
    for cue in cues:
        for match in re.finditer(cue.pattern, text, re.I):
            if cue.negatable and _negated(text, match.start()):
                continue
            return cue, match
    return None


def _read_amounts(text: str, found: dict[str, Understood]) -> None:
    for match in AMOUNT.finditer(text):
        noun = match.group("noun").lower()
        span = match.group("between") + " " + noun
        amount = _amount(match)
        is_corpus = noun in CORPUS_NOUNS and not (
            LABELED.search(span) and not UNLABELED.search(span)
        )
        if UNLABELED.search(span) or (is_corpus and not re.match(LABELED_NOUNS, noun, re.I)):
            if "unlabeled_corpus" not in found:
                tokens = amount * CORPUS_NOUNS.get(noun.split()[-1], 1_500)
                found["unlabeled_corpus"] = Understood(
                    "unlabeled_corpus", corpus_bucket(tokens), match.group(0), "number"
                )
        elif "labeled_examples" not in found:
            found["labeled_examples"] = Understood(
                "labeled_examples", int(amount), match.group(0), "number"
            )


def _read_amounts_without_count(text: str, found: dict[str, Understood]) -> None:
    if "labeled_examples" not in found:
        for value, pattern in LABELED_WITHOUT_COUNT:
            if match := re.search(pattern, text, re.I):
                found["labeled_examples"] = Understood("labeled_examples", value, match.group(0))
                break
    if "unlabeled_corpus" not in found:
        for value, pattern in CORPUS_WITHOUT_COUNT:
            if match := re.search(pattern, text, re.I):
                found["unlabeled_corpus"] = Understood("unlabeled_corpus", value, match.group(0))
                break


def _read_gaps(text: str) -> list[Understood]:
    found = []
    for cue in GAP_CUES:
        match = re.search(cue.pattern, text, re.I)
        if match and all(u.value != cue.value for u in found):
            found.append(Understood("gaps", cue.value, match.group(0)))
    return found


def _keyword_facts(text: str) -> dict[str, Understood]:
    found: dict[str, Understood] = {}
    _read_amounts(text, found)
    _read_amounts_without_count(text, found)
    for cue_list in (CUES, QUALITY_CUES):
        for field_name in dict.fromkeys(c.field for c in cue_list):
            hit = _first_cue(text, [c for c in cue_list if c.field == field_name])
            if hit and field_name not in found:
                found[field_name] = Understood(field_name, hit[0].value, hit[1].group(0))
    return found


# Prototype sentences for the similarity fallback (what the keywords may miss).
GAP_PROTOTYPES: dict[str, tuple[str, ...]] = {
    "facts": (
        "The model gives wrong or outdated answers about our products and policies.",
        "The assistant must answer questions using the company's own documents.",
    ),
    "tone": (
        "The answers should sound like our brand and speak to customers the way our agents do.",
    ),
    "format": ("Every answer has to follow a fixed layout with the same sections.",),
    "behaviour": ("The assistant must follow our rules about what it may and may not say.",),
    "task_skill": ("The model has to assign each incoming message to the right category.",),
    "vocabulary": ("The model does not understand the specialised words used in our field.",),
    "modality": (
        "The data is not human language text, and no existing model has seen anything like it.",
    ),
}
SIMILARITY_THRESHOLD = 0.45


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 10]


def parse_scenario_text(text: str, matcher: TextMatcher | None = None) -> ParsedScenario:
    """Read a scenario from free text. `matcher` (e.g. `MiniLMMatcher()`) is consulted only
    for what the keywords did not find: what the base model gets wrong."""
    text = " ".join(text.split())
    found = _keyword_facts(text)
    gaps = _read_gaps(text)
    used = False
    if not gaps and matcher is not None and (sentences := _sentences(text) or [text]):
        used = True
        gap, score, sentence = best_label(matcher, sentences, GAP_PROTOTYPES)
        if score >= SIMILARITY_THRESHOLD:
            gaps.append(Understood("gaps", gap, sentence, f"similarity {score:.2f}"))
    values = {name: u.value for name, u in found.items()}
    if gaps:
        values["gaps"] = tuple(
            v for v in SCENARIO_SPACE["gaps"].values if any(g.value == v for g in gaps)
        )
    understood = tuple(found.values()) + tuple(gaps)
    return ParsedScenario(scenario=Scenario(**values), understood=understood, used_matcher=used)


# ---------------------------------------------------------------- answer options

_TRAIN = r"(?:fine-?tun\w*|train\w*|retrain\w*|lora|adapter|customi[sz]\w*)"
_RETRIEVE = r"(?:retriev\w*|\brag\b|knowledge bases?|vector (?:database|store|index|search|db)|semantic search|opensearch|kendra)"

OPTION_CUES: list[tuple[str | None, str]] = [
    ("sft+rag", rf"{_TRAIN}.*{_RETRIEVE}|{_RETRIEVE}.*{_TRAIN}"),
    (
        "scratch",
        r"from scratch|new (?:foundation|base|large language|language) model|(?:build|create|develop|pre-?train|"
        r"train) (?:a |an |its |their |your |our )?(?:own |new |brand-new |custom |original )+(?:foundation |base |"
        r"large language |language |llm |general-purpose )?(?:model|llm)\b(?! (?:on|with) (?:the |its )?label)|"
        r"random(?:ly)? initiali|pre-?train a (?:new )?model",
    ),
    (
        "cpt",
        r"continu\w* (?:the )?pre-?train|further pre-?train|domain-adaptive pre-?train|pre-?train\w* (?:the (?:existing "
        r"|base )?model )?on|" + _TRAIN + r".{0,60}\b(?:unlabel+ed|raw|unstructured|unannotated)\b|"
        r"\b(?:unlabel+ed|raw|unstructured) (?:data|text|corpus|documents).{0,40}" + _TRAIN,
    ),
    (
        "full_ft",
        r"full(?:-parameter| parameter| model)? fine-?tun|fine-?tun\w* all|all (?:of )?(?:the )?(?:model's )?"
        r"(?:weights|parameters|layers)|update every (?:weight|parameter)",
    ),
    (
        "sft",
        r"fine-?tun|supervised|\blora\b|\bpeft\b|parameter-efficient|adapters?\b|instruction[- ]tun|"
        r"train\w* (?:the |a )?(?:model|it|llm) (?:on|with|using)|(?:custom|customi[sz]e) (?:the )?model|"
        r"model customi[sz]ation|label+ed (?:data|examples|dataset|pairs)",
    ),
    (
        "rag",
        _RETRIEVE
        + r"|(?:search|look up|query) (?:the |its |a |their )?(?:documents|knowledge|database|wiki)|"
        r"ground\w* (?:the )?(?:model|responses|answers|outputs)|at (?:query|inference|run) time|"
        r"context from (?:documents|a database)|embeddings? (?:store|index|search|database)",
    ),
    (
        "fewshot",
        r"few-?shot|one-?shot|in-context (?:examples|learning)|(?:add|include|provide|give|show|insert|put|"
        r"place|supply) (?:\w+ ){0,3}examples?\b.{0,30}\bprompt|examples? (?:in|into|to|within) (?:the |each )?prompt|"
        r"sample (?:questions|answers|inputs|outputs|responses).{0,20}prompt|demonstrations",
    ),
    (
        "prompt",
        r"prompt|instruction|system message|rephrase|reword|zero-?shot|chain[- ]of[- ]thought|"
        r"tell the model|ask the model",
    ),
    (
        None,
        r"temperature|top[- ]?p\b|top[- ]?k\b|max(?:imum)? tokens|larger model|bigger model|smaller model|"
        r"different model|guardrails?|comprehend|rekognition|textract|provisioned throughput|batch inference|"
        r"reinforcement learning|rlhf|data augmentation|evaluat",
    ),
]
OPTION_THRESHOLD = 0.40


def classify_option(text: str, matcher: TextMatcher | None = None) -> str | None:
    """Which approach an answer option stands for, or None for a distractor.

    Keywords first; when none match and a `matcher` is given, the approach whose
    descriptions are most similar (if similar enough).
    """
    clean = " ".join(text.lower().split())
    for approach, pattern in OPTION_CUES:
        if re.search(pattern, clean, re.I):
            return approach
    if matcher is None:
        return None
    approach, score, _ = best_label(matcher, [text], APPROACH_DESCRIPTIONS)
    return approach if score >= OPTION_THRESHOLD else None


@dataclass(frozen=True)
class OptionChoice:
    letter: str | None
    approach: str | None
    recommendation: Recommendation
    option_approaches: dict[str, str | None]
    reasons: tuple[str, ...]
    option_texts: dict[str, str] = field(default_factory=dict)


def recommend_text(text: str, matcher: TextMatcher | None = None) -> Recommendation:
    """Parse free text and recommend, keeping what was understood on the recommendation."""
    parsed = parse_scenario_text(text, matcher)
    return recommend(parsed.scenario).with_text(parsed.understood)


def choose_option(
    scenario_text: str, options: dict[str, str], matcher: TextMatcher | None = None
) -> OptionChoice:
    """Pick the option whose approach ranks highest for the scenario in the text."""
    rec = recommend_text(scenario_text, matcher)
    option_approaches = {letter: classify_option(text, matcher) for letter, text in options.items()}
    candidates = [
        (rec.rank_of(a), letter, a) for letter, a in option_approaches.items() if a is not None
    ]
    if not candidates:
        reasons = (f"No option matches an approach; the scenario points to {rec.top.label}.",)
        return OptionChoice(None, None, rec, option_approaches, reasons, dict(options))
    rank, letter, approach = min(candidates)
    verdict = rec.verdict_of(approach)
    reasons = [f"Option {letter} stands for {verdict.label}, ranked #{rank} ({verdict.verdict})."]
    if rank > 1:
        reasons.append(f"The top approach, {rec.top.label}, is not among the options.")
    reasons += [r.rationale for r in verdict.for_[:3]]
    return OptionChoice(letter, approach, rec, option_approaches, tuple(reasons), dict(options))


__all__ = [
    "APPROACHES",
    "OptionChoice",
    "ParsedScenario",
    "choose_option",
    "classify_option",
    "parse_scenario_text",
    "recommend_text",
]
