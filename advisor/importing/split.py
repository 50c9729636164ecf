"""A seeded train/test split that keeps near-duplicates on one side.

A test question that is a near copy of a training question measures memory,
not skill, and inflates fine-tuning most. So examples are first grouped —
examples cut from one conversation, questions equal after normalising case,
punctuation and spacing, and questions whose TF-IDF vectors (word 1-2-grams,
scikit-learn) have a cosine of at least `NEAR_DUPLICATE_COSINE` — and whole
groups are assigned. For labels the split is stratified: each label gets its
share of test items, and never loses its last training example.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.importing.formats import Example
from advisor.tasks import normalise_question

NEAR_DUPLICATE_COSINE = 0.85


class _Groups:
    """Union-find over example indices."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def near_duplicate_pairs(
    texts: Sequence[str],
    others: Sequence[str] | None = None,
    threshold: float = NEAR_DUPLICATE_COSINE,
) -> list[tuple[int, int, float]]:
    """(i, j, cosine) of every pair at or above `threshold`: within `texts`
    (i < j), or between `texts` and `others` when given. Normalised-equal texts
    always count (cosine 1.0)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    left = [normalise_question(t) for t in texts]
    right = left if others is None else [normalise_question(t) for t in others]
    if not left or not right:
        return []
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b")
    try:
        vectorizer.fit(left + (right if others is not None else []))
    except ValueError:  # nothing but empty texts
        return []
    a, b = vectorizer.transform(left), vectorizer.transform(right)
    pairs: list[tuple[int, int, float]] = []
    for start in range(0, a.shape[0], 1000):
        block = (a[start : start + 1000] @ b.T).toarray()
        rows, cols = np.nonzero(block >= threshold - 1e-9)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + r
            if others is None and c <= i:
                continue
            pairs.append((i, c, float(block[r, c])))
    exact: dict[str, list[int]] = defaultdict(list)
    for j, text in enumerate(right):
        exact[text].append(j)
    found = {(i, j) for i, j, _ in pairs}
    for i, text in enumerate(left):
        for j in exact.get(text, ()):
            if (others is not None or j > i) and (i, j) not in found:
                pairs.append((i, j, 1.0))
    return sorted(pairs)


@dataclass(frozen=True)
class Split:
    train: list[Example]
    test: list[Example]
    groups: int  # groups of more than one example (kept whole)
    grouped_examples: int


def split_examples(
    examples: Sequence[Example],
    *,
    test_size: float,
    seed: int,
    stratify: bool,
    threshold: float = NEAR_DUPLICATE_COSINE,
) -> Split:
    """Train and test, in the input order within each. `test_size` below 1 is a
    share of the examples, from 1 up a count."""
    n = len(examples)
    groups = _Groups(n)
    first_of: dict[str, int] = {}
    for i, example in enumerate(examples):
        if example.group in first_of:
            groups.join(first_of[example.group], i)
        first_of.setdefault(example.group, i)
    for i, j, _ in near_duplicate_pairs([e.question for e in examples], threshold=threshold):
        groups.join(i, j)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        members[groups.find(i)].append(i)
    target = round(test_size * n) if test_size < 1 else int(test_size)
    target = max(1, min(target, n - 1))
    rng = random.Random(seed)
    chosen: set[int] = set()
    if stratify:
        by_label: dict[str, list[list[int]]] = defaultdict(list)
        for group in members.values():
            label = Counter(examples[i].answer for i in group).most_common(1)[0][0]
            by_label[label].append(group)
        sizes = {label: sum(len(g) for g in groups) for label, groups in by_label.items()}
        wants = _stratified_quotas(sizes, target, n)
        for label in sorted(by_label):
            label_groups = by_label[label]
            size, want = sizes[label], wants[label]
            rng.shuffle(label_groups)
            taken = 0
            for group in label_groups:
                if not _closer(taken, len(group), want) or size - taken - len(group) < 1:
                    continue  # the label keeps at least one training example
                chosen.update(group)
                taken += len(group)
    else:
        ordered = list(members.values())
        rng.shuffle(ordered)
        for group in ordered:
            if _closer(len(chosen), len(group), target) and len(chosen) + len(group) < n:
                chosen.update(group)
    several = [g for g in members.values() if len(g) > 1]
    return Split(
        train=[e for i, e in enumerate(examples) if i not in chosen],
        test=[e for i, e in enumerate(examples) if i in chosen],
        groups=len(several),
        grouped_examples=sum(len(g) for g in several),
    )


def _closer(taken: int, group: int, want: int) -> bool:
    """Whether to add a group of `group` examples to the `taken` of `want`: never a group
    larger than `want` itself (40 copies of a follow-up question would be most of a test
    set), and one larger than what is left only when it overshoots by less than it makes
    up; so big near-duplicate groups cannot swell the test set far past its size."""
    return group <= want and abs(taken + group - want) < abs(taken - want)


def _stratified_quotas(sizes: dict[str, int], target: int, n: int) -> dict[str, int]:
    """Each label's share of `target` test items, whole numbers summing to `target` (largest
    remainder): many labels of a few examples each still give a test set, where rounding
    every share alone would give each label none. A label of one example gives none."""
    exact = {label: target * size / n for label, size in sizes.items()}
    quotas = {label: int(share) for label, share in exact.items()}
    spare = target - sum(quotas.values())
    by_remainder = sorted(
        (label for label in sizes if sizes[label] > 1),
        key=lambda label: (-(exact[label] - quotas[label]), label),
    )
    for label in by_remainder[: max(0, spare)]:
        quotas[label] += 1
    return quotas
