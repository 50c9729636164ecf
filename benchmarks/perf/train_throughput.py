"""SFT training throughput on the real generator: which loss path, which dtype.

Times a few LoRA steps of the SFT loop (`strategies.training`) on a task's
train set with the real model, for each variant:

- `full-head`:  the LM head over every position (what a plain forward does)
- `loss-head`:  the LM head only where the loss is taken (the answer tokens)
- `loss-head+prefix`: the same, and the prompt prefix every row of a batch
  shares (the rendered system message) computed once per batch

in fp32, and in bf16 autocast where the device computes bf16 natively (skipped
elsewhere: emulated bf16 is slower than fp32). Every variant computes the same
loss; the first step's loss is printed so that can be checked.

"real tok/s" counts the non-padding tokens of the batches per second, as if
every row were computed in full (the work a plain loop would do); "ex/s" is
examples per second, the figure that decides training time.

    .venv/bin/python benchmarks/perf/train_throughput.py --steps 4
    .venv/bin/python benchmarks/perf/train_throughput.py --variants loss-head+prefix --dtypes float32
    /usr/bin/time -v .venv/bin/python benchmarks/perf/train_throughput.py --steps 3   # peak RSS

Timings are wall-clock (`time.perf_counter`) and noisy on a shared machine:
run it when nothing else is busy, and repeat.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import statistics

VARIANTS = {
    "full-head": {"head_on_loss_positions": False, "share_prefix": False},
    "loss-head": {"head_on_loss_positions": True, "share_prefix": False},
    "loss-head+prefix": {"head_on_loss_positions": True, "share_prefix": True},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="banking")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--steps", type=int, default=4, help="timed steps per variant")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--dtypes", default="float32,bfloat16")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--lora-r", type=int, default=8)
    parser.add_argument(
        "--lora-targets", default="q_proj,k_proj,v_proj,o_proj", help="modules that get LoRA"
    )
    args = parser.parse_args()

    import torch

    from advisor.config import RunConfig
    from advisor.models import ModelProvider
    from advisor.runtime import pick_device, set_seed
    from advisor.tasks import load_task
    from strategies.training import (
        add_lora,
        build_sft_examples,
        causal_lm_loss,
        epoch_batches,
        pad_id,
        train,
    )

    task = load_task(args.task)
    base_device = pick_device(args.device, "float32", args.threads)
    print(f"device: {base_device.device} ({base_device.name}), threads {base_device.threads}")
    print(f"torch {torch.__version__}, native bf16: {base_device.native_bf16}")
    lora = RunConfig().sft.lora
    lora.r, lora.alpha = args.lora_r, 2 * args.lora_r
    lora.target_modules = args.lora_targets.split(",")
    print(f"LoRA r={lora.r} on {', '.join(lora.target_modules)}; batch {args.batch_size}")
    for dtype in args.dtypes.split(","):
        if dtype == "bfloat16" and not base_device.native_bf16:
            print("bfloat16: skipped (this device has no native bf16; it would be emulated)")
            continue
        device = dataclasses.replace(base_device, dtype=dtype)
        provider = ModelProvider(args.model, "minilm", device)
        tokenizer = provider.tokenizer()
        examples, _ = build_sft_examples(task, tokenizer, task.train, args.max_length)
        for variant in args.variants.split(","):
            model, _ = provider.fresh_generator()
            model = add_lora(model, lora, seed=0)
            set_seed(0)
            steps = args.steps + 1  # the first step warms up and is not timed
            log = train(
                model,
                epoch_batches(
                    examples, args.batch_size, seed=0, steps=steps, pad_token_id=pad_id(tokenizer)
                ),
                steps=steps,
                lr=1e-4,
                device=device,
                loss_fn=functools.partial(causal_lm_loss, **VARIANTS[variant]),
            )
            timed = log.steps[1:]
            seconds = sum(s["seconds"] for s in timed)
            tokens = sum(s["tokens"] for s in timed)
            rows = args.batch_size * len(timed)
            per_step = statistics.median(s["seconds"] for s in timed)
            print(
                f"{dtype:9} {variant:17} real tok/s {tokens / seconds:7.1f}   ex/s {rows / seconds:5.2f}"
                f"   median step {per_step:5.2f} s   first loss {log.steps[0]['loss']:.4f}"
            )
            del model


if __name__ == "__main__":
    main()
