"""A tiny `advisor compare` (prompt, sft, sft+rag) run by `tests/test_accelerate.py`,
once as a plain process and once under `accelerate launch` with two processes.

    python tests/accelerate_run.py RUNS_DIR OUT_JSON [MICRO_BATCH]

MICRO_BATCH sets `sft.micro_batch_size` (default 0: whole batches).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from advisor.config import RunConfig, merge  # noqa: E402
from benchmarks.harness import Harness  # noqa: E402
from tiny import cpu_device, tiny_provider, write_tiny_task  # noqa: E402


def main(runs: Path, out: Path, micro_batch: int = 0) -> None:
    task = runs.parent / "task"
    if not task.exists():
        write_tiny_task(task)
    config = merge(
        RunConfig(),
        {
            "task": str(task),
            "strategies": ["prompt", "sft", "sft+rag"],
            "runs_dir": str(runs),
            "generation": {"max_new_tokens": 4, "batch_size": 2},
            "sft": {
                "max_steps": 6,
                "batch_size": 4,
                "micro_batch_size": micro_batch,
                "context_share": 0.5,
                "lr": 0.03,
            },
        },
    )
    outcome = Harness(config, models=tiny_provider(), device=cpu_device()).run()
    if outcome is None:  # a follower rank: it trained, rank 0 wrote
        return
    log = json.loads((outcome.run_dir / "strategies/sft-seed0/train_log.json").read_text())
    lines = (outcome.run_dir / "answers.jsonl").read_text().splitlines()
    answers = {f"{r['unit']}/{r['id']}": r["answer"] for r in map(json.loads, lines)}
    out.write_text(
        json.dumps(
            {
                "losses": [s["loss"] for s in log["log"]["steps"]],
                "processes": log["log"]["processes"],
                "local_rows": log["log"]["local_rows"],
                "answers": answers,
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0)
