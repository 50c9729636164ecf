"""`make bench`: advisor's SFT loop and decoder against the peers, side by side.

One invocation measures, on one machine, with one model and the same data:

- SFT training: advisor's `train` loop (as the standard profile runs `sft`)
  against TRL's `SFTTrainer` with completion-only loss. Both get the same
  LoRA-wrapped model (the same seeded init), the same examples in the same
  batches (advisor's length-grouped order, handed to TRL as a pre-tokenized
  dataset read sequentially), steps, and the same AdamW and warm-up + cosine
  schedule objects, with gradient clipping. TRL's gradient checkpointing is off (advisor does not
  checkpoint; it would trade TRL's speed for memory) and its dtype is
  advisor's. Figures: real (non-padding) tokens per second over every step but
  the first (warm-up), the process's peak RSS, and the mean loss on held-out
  examples, computed by one evaluator for both.
- The matmul-bound limit: GFLOP/s of torch matmuls at one layer's projection
  shapes (fp32, and bf16 where the CPU has it natively), divided by the FLOPs a
  token costs in a plain LoRA step (see `flops_per_token`).
- Generation: answer tokens per second of advisor's decoder against one
  `model.generate()` call per question and against transformers' batched
  `generate` (left padding), greedy, fp32, on the task's whole test set (as
  `advisor compare` answers it, in batches of 64; `--questions N` for fewer),
  the same questions and `max_new_tokens`; and how many answers differ
  (greedy: there should be none).
- End to end: wall time and peak RSS of `advisor compare --task banking
  --profile quick` (and the standard profile unless `--skip-e2e` or
  `--e2e-profiles quick`).

Each measurement runs in a fresh subprocess (so its peak RSS is its own), the
peers interleaved within a run and their order alternated between runs; the
ratios are taken per run, side by side, then summarised as min / median / max.
Timings are wall-clock (`time.perf_counter`) and noisy on a shared machine;
the ratios are what to read.

    python -m benchmarks.perf.bench --runs 3                 # what `make bench` runs
    python -m benchmarks.perf.bench --runs 3 --skip-e2e      # without the full compares
    python -m benchmarks.perf.bench --quick --in-process --model path/to/tiny   # the test's

Writes benchmarks/perf/results/<date>-<machine>.json (or `--out`) and prints a table.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FORMAT = 1  # bump when the JSON's shape changes
REPO = Path(__file__).resolve().parents[2]
RESULTS_DIR = Path(__file__).resolve().parent / "results"
TRL_MISSING = "trl is not installed: pip install 'advisor[bench]' (make bench does)"
PEER_PAIRS = (("sft:advisor", "sft:trl"), ("generate:advisor", "generate:one_by_one"))


@dataclasses.dataclass(frozen=True)
class Settings:
    """What every measurement of one invocation shares (sent to each subprocess)."""

    task: str
    model: str
    train_examples: int  # the task's first N train examples
    held_out: int  # the next ones: held-out loss
    steps: int
    batch_size: int
    lr: float
    warmup_ratio: float
    weight_decay: float
    lora_r: int
    lora_alpha: int
    lora_targets: tuple[str, ...]
    prefix_grad: bool
    questions: int  # the task's first N test questions (0: all of them, as a compare answers)
    generation_batch_size: int
    max_new_tokens: int  # 0: from the task, as the harness resolves it
    seed: int
    native_bf16: bool
    threads: int  # torch threads (0: all cores)
    matmul_repeats: int

    @classmethod
    def from_profile(cls, args: argparse.Namespace, native_bf16: bool) -> Settings:
        """The standard profile's `sft` and `generation` settings, cut to a bench's size."""
        from advisor.config import resolve_config

        config = resolve_config(profile="standard")
        sft = config.sft
        batch_size = 2 if args.quick else sft.batch_size
        steps = args.steps or (3 if args.quick else 8)
        return cls(
            task=args.task,
            model=args.model,
            train_examples=steps * batch_size,
            held_out=4 if args.quick else 16,
            steps=steps,
            batch_size=batch_size,
            lr=sft.lr,
            warmup_ratio=sft.warmup_ratio,
            weight_decay=sft.weight_decay,
            lora_r=sft.lora.r,
            lora_alpha=sft.lora.alpha,
            lora_targets=tuple(sft.lora.target_modules),
            prefix_grad=sft.prefix_grad,
            questions=args.questions or (3 if args.quick else 0),
            generation_batch_size=config.generation.batch_size,
            max_new_tokens=8 if args.quick else config.generation.max_new_tokens,
            seed=0,
            native_bf16=native_bf16,
            threads=args.threads if args.threads is not None else (1 if args.quick else 0),
            matmul_repeats=3 if args.quick else 10,
        )


# ---------------------------------------------------------------- measurements (in a child)


def measure(name: str, settings: Settings) -> dict[str, Any]:
    """One measurement, by name: `sft:<trainer>[:bf16]`, `matmul`, `generate:<way>`."""
    kind, _, rest = name.partition(":")
    if kind == "sft":
        trainer, _, dtype = rest.partition(":")
        return measure_sft(settings, trainer, "bfloat16" if dtype == "bf16" else "float32")
    if kind == "matmul":
        return measure_matmul(settings)
    if kind == "generate":
        return measure_generation(settings, rest)
    raise ValueError(f"unknown measurement {name!r}")


def _device(settings: Settings, dtype: str):
    from advisor.runtime import pick_device

    return pick_device("cpu", dtype, settings.threads)


def _sft_data(settings: Settings, tokenizer: Any, context: int):
    from advisor.tasks import load_task
    from strategies.training import build_sft_examples

    task = load_task(settings.task)
    end = settings.train_examples + settings.held_out
    if len(task.train) < end:
        raise ValueError(f"{settings.task} has {len(task.train)} train examples, {end} needed")
    train, _ = build_sft_examples(task, tokenizer, task.train[: settings.train_examples], context)
    held, _ = build_sft_examples(
        task, tokenizer, task.train[settings.train_examples : end], context
    )
    return train, held


def _lora(settings: Settings):
    from advisor.config import LoraConfig

    return LoraConfig(
        r=settings.lora_r, alpha=settings.lora_alpha, target_modules=list(settings.lora_targets)
    )


def measure_sft(settings: Settings, trainer: str, dtype: str) -> dict[str, Any]:
    """Train `settings.steps` LoRA steps with `trainer` ("advisor" or "trl")."""
    if trainer == "trl":
        try:
            import trl
        except ImportError:
            return {"unavailable": TRL_MISSING}
    from advisor.models import ModelProvider
    from advisor.runtime import set_seed
    from strategies.training import add_lora, epoch_batch_indices, pad_id

    device = _device(settings, dtype)
    provider = ModelProvider(settings.model, "minilm", device)
    model, tokenizer = provider.fresh_generator()
    train, held = _sft_data(settings, tokenizer, provider.context_length())
    order = list(
        epoch_batch_indices(
            [len(e) for e in train], settings.batch_size, seed=settings.seed, steps=settings.steps
        )
    )
    batch_tokens = [sum(len(train[i]) for i in batch) for batch in order]
    model = add_lora(model, _lora(settings), seed=settings.seed)
    set_seed(settings.seed)
    if trainer == "advisor":
        stamps, seen = _train_advisor(model, train, order, settings, device, pad_id(tokenizer))
        details: dict[str, Any] = {"prefix_grad": settings.prefix_grad}
    else:
        stamps, seen = _train_trl(model, train, order, settings, device, pad_id(tokenizer))
        details = {
            "version": trl.__version__,
            "completion_only_loss": True,
            "gradient_checkpointing": False,
        }
    timed = sum(batch_tokens[1 : len(stamps)])
    seconds = stamps[-1] - stamps[0] if len(stamps) > 1 else float("nan")
    return {
        "trainer": trainer,
        "dtype": dtype,
        "steps": len(stamps),
        "tokens_per_s": timed / seconds if seconds > 0 else float("nan"),
        "timed_tokens": timed,
        "timed_s": seconds,
        "same_batches": seen == batch_tokens,
        "held_out_loss": held_out_loss(model, held, settings.batch_size, pad_id(tokenizer)),
        "held_out_examples": len(held),
        "longest_example": max(len(e) for e in train),
        **path_parameters(model),
        **details,
    }


def _train_advisor(model, train, order, settings: Settings, device, pad: int):
    """advisor's loop as `sft` runs it; a time stamp at the end of every step."""
    import functools

    from strategies.training import causal_lm_loss, collate
    from strategies.training import train as train_loop

    stamps: list[float] = []
    seen: list[int] = []

    def batches():
        for indices in order:
            batch = collate([train[i] for i in indices], pad)
            seen.append(int(batch["attention_mask"].sum()))
            yield batch

    train_loop(
        model,
        batches(),
        steps=settings.steps,
        lr=settings.lr,
        device=device,
        warmup_ratio=settings.warmup_ratio,
        weight_decay=settings.weight_decay,
        loss_fn=functools.partial(causal_lm_loss, prefix_grad=settings.prefix_grad),
        advance=lambda n, fields: stamps.append(time.perf_counter()),
    )
    return stamps, seen


def _train_trl(model, train, order, settings: Settings, device, pad: int):
    """TRL's SFTTrainer on the same rows in the same batches, completion-only loss."""
    from datasets import Dataset, disable_progress_bars
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    from advisor.models import offline_environment
    from strategies.training import IGNORE_INDEX

    offline_environment()
    disable_progress_bars()
    rows = [train[i] for batch in order for i in batch]
    dataset = Dataset.from_list(
        [
            {
                "input_ids": list(e.input_ids),
                "completion_mask": [int(label != IGNORE_INDEX) for label in e.labels],
            }
            for e in rows
        ]
    )
    stamps: list[float] = []
    seen: list[int] = []
    collator = DataCollatorForLanguageModeling(pad_token_id=pad)

    def counting_collator(examples):
        batch = collator(examples)
        seen.append(int(batch["attention_mask"].sum()))
        return batch

    class Stamps(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            stamps.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as output_dir:
        config = SFTConfig(
            output_dir=output_dir,
            per_device_train_batch_size=settings.batch_size,
            max_steps=settings.steps,
            learning_rate=settings.lr,
            weight_decay=settings.weight_decay,
            max_grad_norm=1.0,
            train_sampling_strategy="sequential",  # the rows are already in advisor's batches
            completion_only_loss=True,
            max_length=None,
            activation_checkpointing=False,
            bf16=device.dtype == "bfloat16",
            use_cpu=not device.is_cuda,
            seed=settings.seed,
            logging_strategy="no",
            save_strategy="no",
            report_to="none",
            disable_tqdm=True,
            dataloader_num_workers=0,
        )
        trainer = SFTTrainer(
            model=model,
            args=config,
            train_dataset=dataset,
            data_collator=counting_collator,
            callbacks=[Stamps()],
            optimizers=_optimizer_and_schedule(model, settings),
        )
        trainer.train()
        if trainer.args.activation_checkpointing:
            raise RuntimeError(
                "TRL trained with activation checkpointing; the bench asked for none"
            )
    model.eval()
    # the loader fetches a batch ahead of the step that trains on it
    return stamps, seen[: settings.steps]


def _optimizer_and_schedule(model, settings: Settings):
    """advisor's AdamW and warm-up + cosine schedule, for TRL too: transformers'
    warm-up starts at a learning rate of 0, which on a few steps would waste one
    of them and make the held-out losses differ for a reason that is not the loop's."""
    import torch

    from strategies.training import make_optimizer, warmup_cosine

    optimizer = make_optimizer(model, settings.lr, settings.weight_decay, (0.9, 0.999))
    warmup = math.ceil(settings.warmup_ratio * settings.steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_cosine(step, warmup=warmup, total=settings.steps)
    )
    return optimizer, schedule


def held_out_loss(model, examples, batch_size: int, pad: int) -> float:
    """Mean next-token loss over every answer token of `examples` (one evaluator for all)."""
    import torch

    from strategies.training import causal_lm_loss, collate

    model.eval()
    total, tokens = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            batch = collate(chunk, pad)
            count = sum(e.loss_tokens for e in chunk)
            total += float(causal_lm_loss(model, batch, share_prefix=False)) * count
            tokens += count
    return total / tokens


def path_parameters(model) -> dict[str, int]:
    """Weights a training token passes through: frozen linear ones (LM head included) and LoRA's."""
    import torch

    lora = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(
        m.weight.numel()
        for name, m in model.named_modules()
        if isinstance(m, torch.nn.Linear) and "lora_" not in name
    )
    return {"frozen_path_params": frozen, "lora_params": lora}


def flops_per_token(frozen: int, lora: int) -> int:
    """FLOPs one token costs in a plain LoRA step (every token through every weight).

    Forward 2 per weight; backward 2 per frozen weight (the activation gradient
    only: frozen weights take no weight gradient) and 4 per LoRA weight. The
    attention scores (~5% at 200 tokens) and element-wise work are left out, so
    the limit is generous. A loop that skips work (the shared prefix once per
    batch, the LM head only on answer tokens) can beat it: that is the point.
    """
    return 4 * frozen + 6 * lora


def measure_matmul(settings: Settings) -> dict[str, Any]:
    """Peak GFLOP/s of one transformer layer's projections at a training batch's rows."""
    import torch
    from transformers import AutoConfig

    from advisor.models import ensure_converted, resolve_generator

    _device(settings, "float32")  # the thread count
    resolved = resolve_generator(settings.model)
    config = AutoConfig.from_pretrained(
        ensure_converted(resolved.path) if resolved.is_gguf else resolved.path
    )
    hidden, inner = config.hidden_size, config.intermediate_size
    heads, kv = config.num_attention_heads, getattr(config, "num_key_value_heads", None)
    kv_width = hidden * (kv or heads) // heads
    rows = settings.batch_size * 200  # ~ a banking batch's tokens
    shapes = [(hidden, hidden), (hidden, kv_width), (hidden, kv_width), (hidden, hidden)]
    shapes += [(hidden, inner), (hidden, inner), (inner, hidden)]
    result: dict[str, Any] = {"rows": rows, "shapes": [list(s) for s in shapes]}
    dtypes = ["float32"] + (["bfloat16"] if settings.native_bf16 else [])
    for dtype in dtypes:
        torch_dtype = getattr(torch, dtype)
        pairs = [
            (torch.randn(rows, k, dtype=torch_dtype), torch.randn(k, n, dtype=torch_dtype))
            for k, n in shapes
        ]
        flops = sum(2 * rows * k * n for k, n in shapes)
        best = math.inf
        for _ in range(settings.matmul_repeats):
            began = time.perf_counter()
            for a, b in pairs:
                torch.matmul(a, b)
            best = min(best, time.perf_counter() - began)
        result[dtype] = flops / best / 1e9
    if not settings.native_bf16:
        result["bfloat16"] = None
        result["bfloat16_why"] = "no native bf16 on this CPU (emulated bf16 is slower than fp32)"
    return result


def _conversations(settings: Settings):
    from advisor.tasks import load_task
    from strategies.prompting import chat

    task = load_task(settings.task)
    chosen = task.test[: settings.questions] if settings.questions else task.test
    return task, [chat(task, item.question) for item in chosen]


def _answer_length(settings: Settings, task, tokenizer) -> int:
    from advisor.config import resolve_config
    from benchmarks.limits import answer_tokens, measure_lengths

    config = resolve_config(profile="standard")
    config.generation.max_new_tokens = settings.max_new_tokens
    return answer_tokens(config, measure_lengths(task, tokenizer))


def measure_generation(settings: Settings, way: str) -> dict[str, Any]:
    """Greedy answers in fp32: `advisor` (our decoder), `one_by_one` or `batched` generate()."""
    import torch

    from advisor.models import ModelProvider
    from strategies.generation import _layout, _until_stop, end_token_ids, generate, render_prompt

    device = _device(settings, "float32")
    model, tokenizer = ModelProvider(settings.model, "minilm", device).generator()
    task, conversations = _conversations(settings)
    max_new_tokens = _answer_length(settings, task, tokenizer)
    stops = end_token_ids(tokenizer)
    pad = tokenizer.pad_token_id
    batch_size = settings.generation_batch_size

    def hf_generate(encoded: list[list[int]], new_tokens: int) -> list[tuple[list[int], int]]:
        input_ids, attention = _layout(range(len(encoded)), encoded, 0, pad)  # left padding
        with torch.inference_mode():
            output = model.generate(
                input_ids=input_ids,
                attention_mask=attention,
                max_new_tokens=new_tokens,
                do_sample=False,
                pad_token_id=pad,
                eos_token_id=stops,
            )
        return [_until_stop(row, stops) for row in output[:, input_ids.shape[1] :].tolist()]

    def answer(convs, new_tokens: int) -> list[tuple[list[int], int]]:
        if way == "advisor":
            found = generate(
                model,
                tokenizer,
                convs,
                max_new_tokens=new_tokens,
                batch_size=batch_size,
                device=device.device,
            )
            return [(list(g.tokens), g.output_tokens) for g in found]
        encoded = [
            tokenizer(render_prompt(tokenizer, c), add_special_tokens=False)["input_ids"]
            for c in convs
        ]
        if way == "one_by_one":
            return [hf_generate([ids], new_tokens)[0] for ids in encoded]
        if way == "batched":
            out = []
            for start in range(0, len(encoded), batch_size):
                out += hf_generate(encoded[start : start + batch_size], new_tokens)
            return out
        raise ValueError(f"unknown way of generating {way!r}")

    answer(conversations[:1], 2)  # warm-up: first-call costs are not the method's
    began = time.perf_counter()
    answers = answer(conversations, max_new_tokens)
    seconds = time.perf_counter() - began
    produced = sum(n for _, n in answers)
    return {
        "way": way,
        "questions": len(conversations),
        "max_new_tokens": max_new_tokens,
        "answer_tokens": produced,
        "seconds": seconds,
        "tokens_per_s": produced / seconds,
        "answers": [tokens for tokens, _ in answers],
    }


# ---------------------------------------------------------------- running them (the parent)


def run_isolated(name: str, settings: Settings, log: Path) -> dict[str, Any]:
    """`measure(name)` in a fresh interpreter; its own peak RSS and wall time added."""
    with tempfile.TemporaryDirectory() as folder:
        result_file = Path(folder) / "result.json"
        command = [sys.executable, "-m", "benchmarks.perf.bench", "--measure", name]
        command += ["--settings", json.dumps(dataclasses.asdict(settings))]
        command += ["--result", str(result_file)]
        wall, peak, status = _run_and_wait(command, log)
        if status != 0 or not result_file.is_file():
            return {"error": f"exit status {status}: {_tail(log)}"}
        result = json.loads(result_file.read_text())
    return {**result, "peak_rss_mb": peak, "wall_s": wall}


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def _run_and_wait(command: Sequence[str], log: Path) -> tuple[float, float, int]:
    """Run `command`, output appended to `log`; (wall s, its peak RSS MB, exit status)."""
    began = time.perf_counter()
    with log.open("ab") as out:
        child = subprocess.Popen(command, cwd=REPO, env=_child_env(), stdout=out, stderr=out)
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - began, usage.ru_maxrss / 1024, child.returncode  # Linux: KiB


def _tail(log: Path, lines: int = 3) -> str:
    text = log.read_text(errors="replace").strip().splitlines() if log.is_file() else []
    return " | ".join(text[-lines:]) or "no output"


def run_in_process(name: str, settings: Settings) -> dict[str, Any]:
    """`measure(name)` here (the test's tiny model): peak RSS is the whole process's."""
    import torch

    from advisor.runtime import peak_memory_mb

    threads = torch.get_num_threads()
    began = time.perf_counter()
    try:
        result = measure(name, settings)
    except Exception as exc:  # a failed measurement is reported, never stops the others
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        torch.set_num_threads(threads)
    return {**result, "peak_rss_mb": peak_memory_mb(), "wall_s": time.perf_counter() - began}


def measurement_names(settings: Settings) -> list[str]:
    names = ["sft:advisor", "sft:trl"]
    if settings.native_bf16:
        names.append("sft:advisor:bf16")
    return [*names, "matmul", "generate:advisor", "generate:one_by_one", "generate:batched"]


def e2e_skipped(args: argparse.Namespace) -> str | None:
    """Why the end-to-end compares are not run, or None: `--only sft` and `--only
    generation` measure their part alone."""
    if args.skip_e2e:
        return "--skip-e2e"
    if args.in_process:
        return "--in-process"
    return f"--only {args.only}" if args.only in ("sft", "generation") else None


def skipped_measurements(names: list[str], only: str | None) -> list[str]:
    """The measurements `--only` leaves out (generation: every `generate:*`; sft: the
    rest; e2e: all of them, only the end-to-end compares run)."""
    if only is None:
        return []
    if only == "e2e":
        return list(names)
    return [n for n in names if n.startswith("generate:") != (only == "generation")]


def run_order(names: list[str], run: int) -> list[str]:
    """Every measurement once; on odd runs each peer pair goes the other way round."""
    if run % 2 == 0:
        return names
    swapped = list(names)
    for first, second in PEER_PAIRS:
        i, j = swapped.index(first), swapped.index(second)
        swapped[i], swapped[j] = swapped[j], swapped[i]
    return swapped


def e2e_command(task: str, profile: str, runs_dir: str, overrides: Sequence[str] = ()) -> list[str]:
    """The timed `advisor compare`, with the `--e2e-set` overrides after it
    (`model.dtype=float32` times the fp32 run on a CPU that would pick bf16)."""
    command = [sys.executable, "-c", "from advisor.cli import main; main()", "compare"]
    command += ["--task", task, "--profile", profile, "--runs-dir", runs_dir, "--fresh"]
    return [*command, *overrides]


def e2e(task: str, profile: str, log: Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """`advisor compare --task <task> --profile <profile>`, fresh, in a scratch runs folder."""
    with tempfile.TemporaryDirectory() as runs_dir:
        command = e2e_command(task, profile, runs_dir, overrides)
        wall, peak, status = _run_and_wait(command, log)
    if status != 0:
        return {"error": f"exit status {status}: {_tail(log)}"}
    return {"wall_s": wall, "peak_rss_mb": peak}


# ---------------------------------------------------------------- summary


def spread(values: Sequence[float | None]) -> dict[str, Any] | None:
    """min / median / max of the runs that measured, and the runs themselves."""
    measured = [v for v in values if v is not None and math.isfinite(v)]
    if not measured:
        return None
    return {
        "min": min(measured),
        "median": statistics.median(measured),
        "max": max(measured),
        "runs": list(values),
    }


def _field(results: list[dict[str, Any]], key: str) -> list[float | None]:
    return [r.get(key) for r in results]


def _ratios(
    ours: list[dict[str, Any]], theirs: list[dict[str, Any]], key: str
) -> dict[str, Any] | None:
    """Per-run ratios ours / theirs (side by side), summarised."""
    return spread(
        [
            a[key] / b[key] if a.get(key) and b.get(key) else None
            for a, b in zip(ours, theirs, strict=True)
        ]
    )


def _why_missing(results: list[dict[str, Any]]) -> str | None:
    for r in results:
        if "unavailable" in r or "error" in r:
            return r.get("unavailable") or r["error"]
    return None


def summarise_sft(raw: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    ours, trl = raw["sft:advisor"], raw["sft:trl"]

    def side(results):
        missing = _why_missing(results) if all("tokens_per_s" not in r for r in results) else None
        if missing:
            return {"unavailable": missing}
        first = next(r for r in results if "tokens_per_s" in r)
        return {
            "tokens_per_s": spread(_field(results, "tokens_per_s")),
            "peak_rss_mb": spread(_field(results, "peak_rss_mb")),
            "held_out_loss": spread(_field(results, "held_out_loss")),
            "same_batches": all(r.get("same_batches", False) for r in results if "error" not in r),
            **{
                k: first[k]
                for k in ("dtype", "steps", "version", "prefix_grad", "gradient_checkpointing")
                if k in first
            },
            **({"failed": _why_missing(results)} if _why_missing(results) else {}),
        }

    summary = {"advisor": side(ours), "trl": side(trl)}
    if "unavailable" in summary["trl"]:
        summary["ratio"] = None
        summary["ratio_why"] = summary["trl"]["unavailable"]
    else:
        losses = [
            (a["held_out_loss"] - b["held_out_loss"]) / b["held_out_loss"]
            if "held_out_loss" in a and "held_out_loss" in b
            else None
            for a, b in zip(ours, trl, strict=True)
        ]
        summary["ratio"] = {
            "tokens_per_s": _ratios(ours, trl, "tokens_per_s"),
            "peak_rss_mb": _ratios(ours, trl, "peak_rss_mb"),
            "held_out_loss_rel_diff": spread(losses),
        }
    return summary


def summarise_limit(raw: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The matmul-bound rate and advisor's fraction of it, per dtype."""
    matmul = [r for r in raw["matmul"] if "float32" in r]
    ours = next((r for r in raw["sft:advisor"] if "frozen_path_params" in r), None)
    if not matmul or ours is None:
        return {"unavailable": _why_missing(raw["matmul"]) or _why_missing(raw["sft:advisor"])}
    per_token = flops_per_token(ours["frozen_path_params"], ours["lora_params"])
    summary: dict[str, Any] = {
        "flops_per_token": per_token,
        "assumption": flops_per_token.__doc__.split("\n\n")[1].replace("\n    ", " ").strip(),
        "rows": matmul[0]["rows"],
    }
    for dtype, key in (("float32", "sft:advisor"), ("bfloat16", "sft:advisor:bf16")):
        rates = [r.get(dtype) for r in raw["matmul"]]
        if not any(rates):
            summary[dtype] = None
            summary[f"{dtype}_why"] = matmul[0].get(f"{dtype}_why", "not measured")
            continue
        limits = [rate * 1e9 / per_token if rate else None for rate in rates]
        fractions = [
            r.get("tokens_per_s") / limit if limit and r.get("tokens_per_s") else None
            for r, limit in zip(raw.get(key, []), limits, strict=False)
        ]
        summary[dtype] = {
            "gflops": spread(rates),
            "limit_tokens_per_s": spread(limits),
            "advisor_fraction": spread(fractions),
        }
    return summary


def summarise_generation(raw: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    ways = {w: raw[f"generate:{w}"] for w in ("advisor", "one_by_one", "batched")}
    summary: dict[str, Any] = {}
    for way, results in ways.items():
        done = [r for r in results if "tokens_per_s" in r]
        if not done:
            summary[way] = {"unavailable": _why_missing(results)}
            continue
        summary[way] = {
            "tokens_per_s": spread(_field(results, "tokens_per_s")),
            "peak_rss_mb": spread(_field(results, "peak_rss_mb")),
            "questions": done[0]["questions"],
            "max_new_tokens": done[0]["max_new_tokens"],
        }
    ours = ways["advisor"]
    for way in ("one_by_one", "batched"):
        if "unavailable" in summary[way] or "unavailable" in summary["advisor"]:
            continue
        summary[way]["ratio"] = _ratios(ours, ways[way], "tokens_per_s")
        summary[way]["differing_answers"] = max(
            sum(a != b for a, b in zip(x["answers"], y["answers"], strict=True))
            for x, y in zip(ours, ways[way], strict=True)
            if "answers" in x and "answers" in y
        )
    summary["dtype"] = "float32"
    return summary


def _median(summary: dict[str, Any] | None) -> float | None:
    return summary["median"] if summary else None


def ratios(sft: dict[str, Any], generation: dict[str, Any]) -> dict[str, float | None]:
    """The three headline ratios (medians of the per-run ratios; None where not measured)."""
    sft_ratio = sft["ratio"]["tokens_per_s"] if sft.get("ratio") else None
    return {
        "sft_vs_trl": _median(sft_ratio),
        "decode_vs_one_by_one": _median(generation["one_by_one"].get("ratio")),
        "decode_vs_batched_generate": _median(generation["batched"].get("ratio")),
    }


def machine() -> dict[str, Any]:
    import torch

    from advisor.runtime import cpu_bf16_flags, cpu_has_native_bf16, cpu_name

    versions = {"torch": torch.__version__}
    for package in ("transformers", "peft", "trl"):
        try:
            versions[package] = __import__(package).__version__
        except ImportError:
            versions[package] = None
    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "native_bf16": cpu_has_native_bf16(),
        # which of them: AVX512-BF16's dot products, or AMX's tile units (several
        # times faster again at large bf16 products)
        "bf16_flags": cpu_bf16_flags(),
        # the widest vector instructions torch's kernels use (AVX2, AVX512, ...), and
        # a limit set on oneDNN's (the decoder's fp32 products), where one is
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def machine_slug(info: dict[str, Any]) -> str:
    cpu = re.sub(r"[^a-z0-9]+", "-", info["cpu"].lower()).strip("-")[:40] or "cpu"
    return f"{cpu}-{info['cores']}c{'-bf16' if info['native_bf16'] else ''}"


def git_commit() -> str | None:
    """HEAD's commit, with `+changes` after it when the working tree differs from it
    (the measured code is then not that commit's)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    try:
        head, changed = git("rev-parse", "HEAD"), git("status", "--porcelain", "-uno")
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+changes" if changed else "")


# ---------------------------------------------------------------- printing


def _cell(summary: dict[str, Any] | None, fmt: str = "{:,.1f}") -> str:
    if not summary:
        return "—"
    return f"{fmt.format(summary['median'])} [{fmt.format(summary['min'])}–{fmt.format(summary['max'])}]"


def print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 132))
    sft, limit, gen, e2e_ = report["sft"], report["limit"], report["generation"], report["e2e"]
    table = Table(
        title=f"make bench — {report['machine']['cpu']}, {report['runs']} runs: median (min–max)"
    )
    for column in ("measurement", "advisor", "peer", "advisor / peer"):
        table.add_column(column)
    ours, trl, ratio = sft["advisor"], sft["trl"], sft.get("ratio") or {}
    peer = "TRL SFTTrainer" if "unavailable" not in trl else "TRL: " + trl["unavailable"]
    table.add_row(
        f"SFT real tokens/s (vs {peer})",
        _cell(ours.get("tokens_per_s")),
        _cell(trl.get("tokens_per_s")),
        _cell(ratio.get("tokens_per_s"), "{:.2f}x"),
    )
    table.add_row(
        "SFT peak RSS MB",
        _cell(ours.get("peak_rss_mb"), "{:,.0f}"),
        _cell(trl.get("peak_rss_mb"), "{:,.0f}"),
        _cell(ratio.get("peak_rss_mb"), "{:.2f}x"),
    )
    table.add_row(
        "SFT held-out loss",
        _cell(ours.get("held_out_loss"), "{:.4f}"),
        _cell(trl.get("held_out_loss"), "{:.4f}"),
        _cell(ratio.get("held_out_loss_rel_diff"), "{:+.1%}"),
    )
    for dtype in ("float32", "bfloat16"):
        entry = limit.get(dtype)
        if entry:
            table.add_row(
                f"matmul-bound limit {dtype} (tok/s; {_cell(entry['gflops'], '{:.0f}')} GFLOP/s)",
                _cell(entry["advisor_fraction"], "{:.2f}"),
                _cell(entry["limit_tokens_per_s"]),
                "fraction of limit",
            )
        elif dtype in limit:
            table.add_row(f"matmul-bound limit {dtype}", "—", "—", limit.get(f"{dtype}_why", ""))
    for way, label in (
        ("one_by_one", "one generate() per question"),
        ("batched", "batched generate()"),
    ):
        theirs = gen[way]
        differing = theirs.get("differing_answers")
        table.add_row(
            f"answer tokens/s vs {label}",
            _cell(gen["advisor"].get("tokens_per_s")),
            _cell(theirs.get("tokens_per_s")),
            f"{_cell(theirs.get('ratio'), '{:.2f}x')}; differing answers {differing}",
        )
    for profile, entry in e2e_.items():
        if "wall_s" in entry:
            settings_ = "".join(f" {o}" for o in entry.get("overrides", []))
            table.add_row(
                f"compare --profile {profile}{settings_}: wall s / peak RSS MB",
                f"{_cell(entry['wall_s'])} / {_cell(entry['peak_rss_mb'], '{:,.0f}')}",
                "",
                "",
            )
        else:
            table.add_row(
                f"compare --profile {profile}",
                entry.get("skipped") or entry.get("error", ""),
                "",
                "",
            )
    console.print(table)
    console.print(f"ratios: {json.dumps(report['ratios'])}")


# ---------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=3, help="runs of every measurement (≥ 3 for min/median/max)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a few steps and questions (a smoke run; the test's, with --model)",
    )
    parser.add_argument("--skip-e2e", action="store_true", help="no end-to-end advisor compare")
    parser.add_argument(
        "--only",
        choices=("sft", "generation", "e2e"),
        help="measure only SFT (with the matmul limit), only generation, or only the "
        "end-to-end compares (--e2e-profiles); the other parts' fields say they were skipped",
    )
    parser.add_argument(
        "--e2e-profiles", default="quick,standard", help="profiles timed end to end"
    )
    parser.add_argument(
        "--e2e-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for every end-to-end compare, as `advisor compare` takes it "
        "(repeatable; e.g. model.dtype=float32 for the fp32 run on a CPU with native bf16)",
    )
    parser.add_argument(
        "--out", type=Path, help="the JSON file (default: results/<date>-<machine>.json)"
    )
    parser.add_argument("--task", default="banking")
    parser.add_argument(
        "--model", default="smollm2", help="catalog name or a local Hugging Face folder"
    )
    parser.add_argument("--steps", type=int, default=0, help="SFT steps (default 8; quick 3)")
    parser.add_argument(
        "--questions",
        type=int,
        default=0,
        help="the first N test questions answered (default: all, in the batches a compare "
        "answers them in; quick 3)",
    )
    parser.add_argument("--threads", type=int, help="torch threads (default: all cores; quick 1)")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="measure in this process (peak RSS then is the whole run's)",
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # a child: one measurement
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def child(args: argparse.Namespace) -> None:
    data = json.loads(args.settings)
    data["lora_targets"] = tuple(data["lora_targets"])
    result = measure(args.measure, Settings(**data))
    args.result.write_text(json.dumps(result))


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.measure:
        child(args)
        return {}
    info = machine()
    settings = Settings.from_profile(args, info["native_bf16"])
    names = measurement_names(settings)
    raw: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = args.out or RESULTS_DIR / f"{datetime.date.today():%Y-%m-%d}-{machine_slug(info)}.json"
    log = out.with_suffix(".log")
    log.unlink(missing_ok=True)
    skipped = skipped_measurements(names, args.only)
    for name in skipped:
        raw[name] = [{"unavailable": f"skipped (--only {args.only})"}] * args.runs
    for run in range(args.runs):
        for name in run_order(names, run):
            if name in skipped:
                continue
            print(f"run {run + 1}/{args.runs}: {name}", file=sys.stderr, flush=True)
            result = (
                run_in_process(name, settings)
                if args.in_process
                else run_isolated(name, settings, log)
            )
            raw[name].append(result)
    e2e_results: dict[str, Any] = {}
    for profile in args.e2e_profiles.split(","):
        why = e2e_skipped(args)
        if why:
            e2e_results[profile] = {"skipped": why}
            continue
        runs = []
        for run in range(args.runs):
            print(
                f"run {run + 1}/{args.runs}: advisor compare --profile {profile}",
                file=sys.stderr,
                flush=True,
            )
            runs.append(e2e(args.task, profile, log, args.e2e_set))
        e2e_results[profile] = {
            "overrides": list(args.e2e_set),
            "wall_s": spread(_field(runs, "wall_s")),
            "peak_rss_mb": spread(_field(runs, "peak_rss_mb")),
            **({"failed": _why_missing(runs)} if _why_missing(runs) else {}),
        }
    sft, generation = summarise_sft(raw), summarise_generation(raw)
    report = {
        "format": FORMAT,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(
            ["python -m benchmarks.perf.bench", *(argv if argv is not None else sys.argv[1:])]
        ),
        "git_commit": git_commit(),
        "runs": args.runs,
        "isolated": not args.in_process,
        "machine": info,
        "settings": dataclasses.asdict(settings),
        "ratios": ratios(sft, generation),
        "sft": sft,
        "limit": summarise_limit(raw),
        "generation": generation,
        "e2e": e2e_results,
        "raw": {name: [_without_answers(r) for r in results] for name, results in raw.items()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    print(f"wrote {out}")
    return report


def _without_answers(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "answers"}


if __name__ == "__main__":
    main()
