"""Where advisor's decoder spends its time: torch.profiler over one pass.

    python -m benchmarks.perf.decoder_profile     # 64 banking questions, 2 threads
    python -m benchmarks.perf.decoder_profile --questions 32 --threads 1

The questions, prompts, answer length and batch size are the bench's
generation measurement's (the standard profile's, on the task's first test
questions), in fp32. It prints the operators by their own CPU time, and the
matrix products (`aten::mm`, and oneDNN's linear, `mkldnn::_linear_pointwise`,
which the decoder's fp32 projections go through where torch has it) by shape
with the rate each ran at (GFLOP/s: 2·m·k·n per call), so the products can be
held against a large product's rate measured on the spot, and the time outside
them read off. Nothing is written to disk.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from typing import Any

ROWS = 12  # lines of each table


# the profiler's names for a matrix product, and how its input shapes give m, k, n
PRODUCTS = ("aten::mm", "mkldnn::_linear_pointwise")


def mm_rate(shapes: Sequence[Sequence[int]], calls: int, seconds: float) -> float | None:
    """GFLOP/s of `calls` products `[m, k] @ [k, n]` that took `seconds` in all."""
    if len(shapes) < 2 or len(shapes[0]) != 2 or len(shapes[1]) != 2 or seconds <= 0:
        return None
    (m, k), (_, n) = shapes[0], shapes[1]
    return 2 * m * k * n * calls / seconds / 1e9


def product_shapes(key: str, shapes: Sequence[Sequence[int]]) -> list[list[int]]:
    """A product's operands as `[[m, k], [k, n]]`: `aten::mm`'s as recorded; a
    linear's input `[..., k]` flattened to m rows, its weight `[n, k]` turned."""
    if key == "aten::mm" or len(shapes) < 2 or not shapes[0] or len(shapes[1]) != 2:
        return [list(s) for s in shapes[:2]]
    *rows, k = shapes[0]
    return [[math.prod(rows), k], [shapes[1][1], shapes[1][0]]]


def summarise(events: Sequence[Any], wall_s: float) -> dict[str, Any]:
    """Operators by self CPU time, and the matrix products (`PRODUCTS`) by input
    shape with their rate.

    `events` are torch.profiler's `key_averages(group_by_input_shape=True)`.
    """
    operators: dict[str, float] = {}
    products = []
    for event in events:
        seconds = event.self_cpu_time_total / 1e6
        operators[event.key] = operators.get(event.key, 0.0) + seconds
        if event.key in PRODUCTS:
            shapes = product_shapes(event.key, event.input_shapes)
            products.append(
                {
                    "op": event.key,
                    "shapes": shapes,
                    "calls": event.count,
                    "seconds": seconds,
                    "gflops": mm_rate(shapes, event.count, seconds),
                }
            )
    products.sort(key=lambda p: -p["seconds"])
    mm_seconds = sum(p["seconds"] for p in products)
    flop = sum(p["gflops"] * p["seconds"] for p in products if p["gflops"] is not None)
    return {
        "wall_s": wall_s,
        "operators": sorted(operators.items(), key=lambda kv: -kv[1]),
        "products": products,
        "mm_s": mm_seconds,
        "mm_gflops": flop / mm_seconds if mm_seconds else None,
        "outside_mm_s": wall_s - mm_seconds,
    }


def measure_matmul_rate() -> float:
    """GFLOP/s of a 2048² fp32 product at the current thread count, the yardstick
    for the skinny ones."""
    import torch

    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    for _ in range(2):
        a @ b
    began = time.perf_counter()
    for _ in range(10):
        a @ b
    return 2 * 2048**3 * 10 / (time.perf_counter() - began) / 1e9


def profile_decoder(argv: Sequence[str] | None = None) -> dict[str, Any]:
    import torch

    from advisor.models import ModelProvider
    from benchmarks.perf.bench import Settings, _answer_length, _conversations, _device, parse_args
    from strategies.generation import generate

    args = parse(argv)
    bench_args = parse_args(
        ["--questions", str(args.questions), "--task", args.task, "--model", args.model]
        + ["--threads", str(args.threads)]
    )
    settings = Settings.from_profile(bench_args, native_bf16=False)
    device = _device(settings, "float32")  # sets the thread count
    model, tokenizer = ModelProvider(settings.model, "minilm", device).generator()
    task, conversations = _conversations(settings)
    new_tokens = _answer_length(settings, task, tokenizer)

    def answer(convs: Sequence[Any], tokens: int) -> list[Any]:
        return generate(
            model,
            tokenizer,
            convs,
            max_new_tokens=tokens,
            batch_size=settings.generation_batch_size,
            device=device.device,
        )

    answer(conversations[:1], 2)  # warm-up
    with torch.profiler.profile(
        activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True
    ) as profiler:
        began = time.perf_counter()
        found = answer(conversations, new_tokens)
        wall = time.perf_counter() - began
    report = summarise(profiler.key_averages(group_by_input_shape=True), wall)
    report.update(
        questions=len(conversations),
        answer_tokens=sum(g.output_tokens for g in found),
        max_new_tokens=new_tokens,
        batch_size=settings.generation_batch_size,
        threads=torch.get_num_threads(),
        matmul_2048_gflops=measure_matmul_rate(),
    )
    return report


def print_report(report: dict[str, Any], rows: int = ROWS) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"{report['questions']} questions, {report['answer_tokens']} answer tokens "
        f"(at most {report['max_new_tokens']} each, batches of {report['batch_size']}), "
        f"{report['threads']} threads: {report['wall_s']:.1f} s under the profiler"
    )
    total = sum(seconds for _, seconds in report["operators"]) or 1.0
    ops = Table("operator", "self s", "share", title="operators by their own CPU time")
    for name, seconds in report["operators"][:rows]:
        ops.add_row(name, f"{seconds:.2f}", f"{seconds / total:.1%}")
    console.print(ops)
    mm = Table("shapes", "op", "calls", "s", "GFLOP/s", title="matrix products by shape")
    for product in report["products"][:rows]:
        rate = product["gflops"]
        mm.add_row(
            " @ ".join(str(s) for s in product["shapes"]),
            "linear" if product["op"] != "aten::mm" else "mm",
            str(product["calls"]),
            f"{product['seconds']:.2f}",
            f"{rate:.1f}" if rate is not None else "—",
        )
    console.print(mm)
    rate = report["mm_gflops"]
    console.print(
        f"products {report['mm_s']:.1f} s at {rate or float('nan'):.1f} GFLOP/s overall; "
        f"a 2048² fp32 product ran at {report['matmul_2048_gflops']:.1f} GFLOP/s; "
        f"{report['outside_mm_s']:.1f} s of the pass was outside the products"
    )


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.perf.decoder_profile",
        description="torch.profiler over one pass of advisor's decoder (fp32)",
    )
    parser.add_argument("--questions", type=int, default=64, help="test questions (default 64)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (0: all cores)")
    parser.add_argument("--task", default="banking")
    parser.add_argument(
        "--model", default="smollm2", help="catalog name or a local Hugging Face folder"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    report = profile_decoder(argv)
    print_report(report)
    return report


if __name__ == "__main__":
    main()
