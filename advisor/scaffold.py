"""`advisor tasks init`: a task folder to fill in, commented, that validates as it is."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from advisor.errors import TaskError
from advisor.fileio import make_parent, write_text_atomic

GENERATION_YAML = """\
# A generation task: the assistant answers questions in free text.
#   advisor tasks validate {folder}      check it and see its statistics
#   advisor compare --task {folder}      measure every strategy on it
name: {name}
version: 1
type: generation
description: >-
  What the assistant is for, in a sentence or two (shown in reports).
domain: your domain, e.g. retail banking customer service
# Every strategy asks with this system message (the answer style is appended).
system_prompt: >-
  You are the assistant of Example Co. Answer questions about Example Co's
  products. If a question is about anything else, politely decline.
style:
  description: One or two short sentences, the fact first.
  max_words: 40
  # money_pattern: '^\\$\\d+\\.\\d{{2}}$'   # every amount must look like this
  # required_patterns: ['— Example Co$']   # e.g. a sign-off
  # forbidden_patterns: ['(?i)as an ai']
decline:
  patterns: ["(?i)I can only help with"]  # how a decline is recognised (out_of_scope items)
# score: facts   # fact recall (default); token_f1 or embedding_similarity when items list no facts
corpus: corpus   # knowledge documents (.md / .txt): what rag retrieves and cpt trains on
# drift:
#   corpus: corpus_v2   # the knowledge after a change; train.jsonl keeps the old facts
#   note: what changed
"""

CLASSIFICATION_YAML = """\
# A classification task: every answer is one of the labels.
#   advisor tasks validate {folder}      check it and see its statistics
#   advisor compare --task {folder}      measure every strategy (and the cheap classifiers)
name: {name}
version: 1
type: classification
description: >-
  What the router is for, in a sentence or two (shown in reports).
domain: your domain, e.g. customer-support intent routing
# The allowed labels are appended to this system message for every strategy.
system_prompt: >-
  Read the customer's message and decide which intent it belongs to.
labels: [card_arrival, refund_request]
# A corpus is optional for classification: add corpus/ and `corpus: corpus` for cpt.
"""

EXAMPLES = {
    "generation": (
        [
            {
                "messages": [
                    {"role": "user", "content": "How much does a wire transfer cost?"},
                    {"role": "assistant", "content": "A wire transfer costs $25.00."},
                ]
            },
            {"prompt": "When is the help desk open?", "completion": "From 9:00 am to 5:00 pm."},
        ],
        [
            {
                "id": "seen-1",
                "kind": "seen",
                "question": "What is the fee for sending a wire?",
                "reference": "A wire transfer costs $25.00.",
                "facts": ["$25.00"],
            },
            {
                "id": "unseen-1",
                "kind": "unseen",
                "question": "How long does a wire take?",
                "reference": "A wire arrives in 2 business days.",
                "facts": ["2 business days"],
            },
        ],
    ),
    "classification": (
        [
            {
                "messages": [
                    {"role": "user", "content": "My new card still hasn't arrived."},
                    {"role": "assistant", "content": "card_arrival"},
                ]
            },
            {"prompt": "I want my money back for this order.", "completion": "refund_request"},
        ],
        [
            {
                "id": "1",
                "question": "Where is the card you mailed me?",
                "reference": "card_arrival",
            },
            {
                "id": "2",
                "question": "Please refund my last payment.",
                "reference": "refund_request",
            },
        ],
    ),
}

CORPUS_EXAMPLE = """\
# Wire transfers

A wire transfer costs $25.00. A wire arrives in 2 business days.
"""


def init_task(folder: Path, task_type: str = "generation") -> list[Path]:
    """Write the scaffold into `folder` (new or empty); returns the files written."""
    if task_type not in EXAMPLES:
        raise TaskError(
            f"unknown task type '{task_type}'", field="--type", hint="generation or classification"
        )
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise TaskError("already exists and is not empty", file=folder, hint="choose a new folder")
    train, test = EXAMPLES[task_type]
    template = GENERATION_YAML if task_type == "generation" else CLASSIFICATION_YAML
    files = {
        "task.yaml": template.format(name=folder.name, folder=folder),
        "train.jsonl": "".join(json.dumps(r) + "\n" for r in train),
        "test.jsonl": "".join(json.dumps(r) + "\n" for r in test),
    }
    if task_type == "generation":
        files["corpus/wire-transfers.md"] = CORPUS_EXAMPLE
    created = not folder.exists()
    written = []
    try:
        for relative, text in files.items():
            path = folder / relative
            make_parent(path)
            write_text_atomic(path, text)
            written.append(path)
    except BaseException:
        # half a scaffold helps nobody: leave the folder as it was (absent, or empty)
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            for path in written:
                path.unlink(missing_ok=True)
        raise
    return written
