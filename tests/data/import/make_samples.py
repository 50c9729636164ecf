"""Writes the import samples of this folder (run from the repository root):

    .venv/bin/python tests/data/import/make_samples.py

Larkspur Cycles, a fictional bike-rental shop, in every format `advisor tasks
import` reads: question answering (chat, prompt/completion, Alpaca, ShareGPT,
TRL shapes, Parquet) and intent classification (CSV, TSV, JSONL table, a saved
Hugging Face dataset), plus a folder of documents (Markdown, text, HTML, PDF).
The committed files are what the tests read; this script is how they were made.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SYSTEM = "You are the assistant of Larkspur Cycles, a bike-rental shop. Answer briefly."

QA = [
    ("How much is a city bike for a day?", "A city bike costs $18.00 per day."),
    ("What does a day on a city bike cost?", "A city bike costs $18.00 per day."),
    ("Do you rent e-bikes?", "Yes: e-bikes cost $42.00 per day, battery charged."),
    ("What's the price of an electric bike for one day?", "E-bikes cost $42.00 per day."),
    ("When do you open on Sundays?", "On Sundays we open from 10:00 am to 4:00 pm."),
    ("Sunday opening hours?", "Sundays: 10:00 am to 4:00 pm."),
    ("Is a helmet included?", "Every rental includes a free helmet and a lock."),
    ("Do I have to pay for a lock?", "No, a lock and a helmet come free with every rental."),
    ("How much is the deposit?", "We hold a $100.00 deposit on a card, released on return."),
    (
        "Do you need a deposit for rentals?",
        "Yes, a $100.00 card deposit, released when you return the bike.",
    ),
    ("Can I return the bike late?", "Late returns cost $6.00 per hour after the agreed time."),
    ("What's the fee if I'm late bringing it back?", "$6.00 for each hour past the agreed time."),
    (
        "Do you offer guided tours?",
        "A 3-hour guided river tour runs every Saturday at 9:00 am for $35.00.",
    ),
    (
        "Are there tours on Saturdays?",
        "Yes, the 3-hour river tour leaves at 9:00 am on Saturdays, $35.00 a person.",
    ),
    (
        "Can kids rent bikes?",
        "Children's bikes cost $10.00 per day; riders under 16 need a parent's signature.",
    ),
    (
        "Do you have bikes for children?",
        "Yes, kids' bikes are $10.00 per day with a parent's signature under 16.",
    ),
    ("What ID do I need?", "Bring a photo ID and a credit card in the same name."),
    ("Which documents should I bring to rent?", "A photo ID and a credit card in your name."),
    ("Can I cancel a booking?", "Cancel up to 24 hours ahead for a full refund."),
    (
        "What is your cancellation policy?",
        "Full refund when you cancel at least 24 hours before pickup.",
    ),
    ("Do you repair bikes?", "We repair any bike; a basic tune-up costs $45.00."),
    ("How much is a tune-up?", "A basic tune-up costs $45.00 and takes a day."),
    ("Where are you located?", "We are at 14 Quay Street, next to the ferry terminal."),
    ("What's your address?", "14 Quay Street, beside the ferry terminal."),
]

INTENTS = {
    "booking": [
        "I want to book two bikes for Saturday",
        "can I reserve a tandem for tomorrow",
        "booking for a family of four next week please",
        "reserve an e-bike for friday morning",
        "is it possible to book online",
        "hold a bike for me at 3pm",
        "I'd like to make a reservation",
        "book me a city bike for the weekend",
    ],
    "cancel_booking": [
        "I need to cancel my reservation",
        "please cancel the bikes for saturday",
        "we can't come tomorrow, cancel it",
        "how do I call off my booking",
        "cancel booking number 4412",
        "our trip is off, please cancel",
        "drop my reservation for the tour",
        "I have to cancel, sorry",
    ],
    "prices": [
        "how much is an e-bike",
        "what do your bikes cost per day",
        "price list please",
        "is a week cheaper than seven days",
        "how much for a kids bike",
        "what's the hourly rate",
        "do you have student prices",
        "rental rates?",
    ],
    "opening_hours": [
        "when do you open",
        "are you open on sunday",
        "what time do you close today",
        "opening hours please",
        "are you open on public holidays",
        "how late can I pick up",
        "what time does the shop open on saturday",
        "is the shop open now",
    ],
    "damage_report": [
        "the chain broke while I was riding",
        "I got a flat tyre on the way",
        "the brakes feel loose on my rental",
        "I scratched the frame, what happens now",
        "the bike I rented has a bent wheel",
        "gears are slipping on the e-bike",
        "I crashed and the handlebar is twisted",
        "the battery died halfway",
    ],
    "lost_item": [
        "I left my sunglasses at the shop",
        "did anyone find a blue jacket",
        "I think I dropped my keys in the bike basket",
        "lost my phone during the tour",
        "forgot my backpack when I returned the bike",
        "has a wallet been handed in",
        "my child left a teddy bear on the bike",
        "I lost the lock key",
    ],
    "tours": [
        "do you run guided tours",
        "what's included in the river tour",
        "how long is the saturday tour",
        "can I join a tour without a bike",
        "is the tour suitable for kids",
        "private tour for a group of ten",
        "what time does the tour start",
        "are tours in english",
    ],
    "refund": [
        "I want my deposit back",
        "when will I get my money back",
        "you charged me twice for the rental",
        "refund for the rainy day please",
        "the deposit hasn't been released yet",
        "I returned early, can I get part refunded",
        "please refund the tour we missed",
        "still waiting on my refund",
    ],
}

DOCS = {
    "rentals.md": "# Rentals\n\nCity bikes cost $18.00 per day and e-bikes $42.00 per day.\n\n"
    "Every rental includes a free helmet and a lock.\n",
    "deposit.txt": "Deposits\n\nWe hold a $100.00 deposit on a credit card and release it "
    "when the bike comes back undamaged.\n",
    "tours.html": "<html><head><title>Guided tours</title><style>p{color:red}</style></head>"
    "<body><nav>Home | Tours</nav><h1>Guided tours</h1><p>The 3-hour river tour leaves at "
    "9:00 am every Saturday and costs $35.00 a person.</p><script>track()</script></body></html>\n",
    "notes.bin": "not a document",
}


def _jsonl(name: str, rows: list[dict]) -> None:
    (HERE / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _pdf(path: Path, pages: list[str]) -> None:
    """A minimal PDF (one Helvetica text line per page; an empty string: a page without text)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None]
    kids = []
    for text in pages:
        content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET" if text else ""
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream")
        content_id = len(objects)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
        )
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    path.write_bytes(out)


def main() -> None:
    chat = []
    for n, (q, a) in enumerate(QA):
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}]
        if n % 6 == 0:  # a multi-turn conversation: the greeting turn is not trained on
            messages[1:1] = [
                {"role": "user", "content": "Hi!"},
                {"role": "assistant", "content": "Hello! How can I help?", "weight": 0},
            ]
        messages.append({"role": "assistant", "content": a})
        chat.append({"messages": messages})
    _jsonl("openai_chat.jsonl", chat)
    _jsonl("bedrock.jsonl", [{"prompt": q, "completion": a} for q, a in QA])
    _jsonl(
        "trl_conversational.jsonl",
        [
            {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
            for q, a in QA
        ],
    )
    _jsonl(
        "trl_conversational_prompt_completion.jsonl",
        [
            {
                "prompt": [{"role": "user", "content": q}],
                "completion": [{"role": "assistant", "content": a}],
            }
            for q, a in QA
        ],
    )
    _jsonl(
        "trl_text.jsonl",
        [{"text": text.split("\n\n", 1)[-1].strip()} for text in DOCS.values()][:3],
    )
    (HERE / "alpaca.json").write_text(
        json.dumps(
            [{"instruction": q, "input": "", "output": a} for q, a in QA],
            indent=1,
            ensure_ascii=False,
        )
        + "\n"
    )
    (HERE / "sharegpt.json").write_text(
        json.dumps(
            [
                {"conversations": [{"from": "human", "value": q}, {"from": "gpt", "value": a}]}
                for q, a in QA
            ],
            indent=1,
            ensure_ascii=False,
        )
        + "\n"
    )
    rows = [(text, label) for label, texts in INTENTS.items() for text in texts]
    (HERE / "intents.csv").write_text(
        "text,category\n" + "".join(f'"{t}",{label}\n' for t, label in rows)
    )
    (HERE / "intents.tsv").write_text(
        "utterance\tintent\n" + "".join(f"{t}\t{label}\n" for t, label in rows)
    )
    _jsonl("intents_table.jsonl", [{"text": t, "label": label} for t, label in rows])

    import pandas as pd
    from datasets import Dataset, DatasetDict

    pd.DataFrame({"question": [q for q, _ in QA], "answer": [a for _, a in QA]}).to_parquet(
        HERE / "qa.parquet", index=False
    )
    frame = pd.DataFrame(rows, columns=["text", "label"])
    test_rows = frame.iloc[::4].reset_index(drop=True)
    train_rows = frame.drop(frame.index[::4]).reset_index(drop=True)
    DatasetDict(
        {"train": Dataset.from_pandas(train_rows), "test": Dataset.from_pandas(test_rows)}
    ).save_to_disk(str(HERE / "hf_intents"))
    docs = HERE / "docs"
    docs.mkdir(exist_ok=True)
    for name, text in DOCS.items():
        (docs / name).write_text(text)
    _pdf(docs / "repairs.pdf", ["A basic tune-up costs $45.00 and takes one day.", ""])


if __name__ == "__main__":
    main()
