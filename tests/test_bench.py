"""`make bench`'s JSON has the shape readers rely on: checked on a tiny model, never its timings.

The bench runs in-process here (`--in-process`: no fresh interpreter per
measurement) on the tiny Llama, a few steps and questions. With TRL missing
(CI installs only the `dev` extra) the peer's fields say why.
"""

from __future__ import annotations

import argparse
import json
import sys

import pytest

from tiny import save_tiny_model, write_tiny_task

RUNS = 3


def run_bench(tmp_path, *extra: str) -> dict:
    from benchmarks.perf import bench

    model = save_tiny_model(tmp_path / "model")
    task = write_tiny_task(tmp_path / "task")
    out = tmp_path / "bench.json"
    report = bench.main(
        ["--quick", "--in-process", "--skip-e2e", "--runs", str(RUNS), *extra]
        + ["--model", str(model), "--task", str(task), "--out", str(out)]
    )
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    return report


def assert_spread(summary: dict) -> None:
    assert set(summary) == {"min", "median", "max", "runs"}
    assert len(summary["runs"]) == RUNS
    assert summary["min"] <= summary["median"] <= summary["max"]


def assert_common_shape(report: dict) -> None:
    assert report["format"] == 1
    assert report["runs"] == RUNS
    machine = report["machine"]
    assert machine["cpu"] and machine["cores"] >= 1
    assert isinstance(machine["native_bf16"], bool)
    assert machine["native_bf16"] == bool(machine["bf16_flags"])
    assert isinstance(machine["cpu_capability"], str) and machine["cpu_capability"]
    assert set(report["ratios"]) == {
        "sft_vs_trl",
        "decode_vs_one_by_one",
        "decode_vs_batched_generate",
    }

    ours = report["sft"]["advisor"]
    for key in ("tokens_per_s", "peak_rss_mb", "held_out_loss"):
        assert_spread(ours[key])
    assert ours["same_batches"] is True

    limit = report["limit"]
    assert limit["flops_per_token"] > 0 and limit["assumption"]
    for key in ("gflops", "limit_tokens_per_s", "advisor_fraction"):
        assert_spread(limit["float32"][key])
    assert (limit["bfloat16"] is None) == (not machine["native_bf16"])

    generation = report["generation"]
    assert_spread(generation["advisor"]["tokens_per_s"])
    for way, ratio in (
        ("one_by_one", "decode_vs_one_by_one"),
        ("batched", "decode_vs_batched_generate"),
    ):
        assert_spread(generation[way]["tokens_per_s"])
        assert_spread(generation[way]["ratio"])
        assert report["ratios"][ratio] == generation[way]["ratio"]["median"]
        assert generation[way]["differing_answers"] == 0  # greedy, fp32: the same answers

    assert set(report["e2e"]) == {"quick", "standard"}
    assert all(entry == {"skipped": "--skip-e2e"} for entry in report["e2e"].values())


def test_bench_without_trl_says_why_the_peer_is_missing(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "trl", None)  # import trl raises ImportError
    report = run_bench(tmp_path)

    assert_common_shape(report)
    assert report["ratios"]["sft_vs_trl"] is None
    assert "trl is not installed" in report["sft"]["trl"]["unavailable"]
    assert report["sft"]["ratio"] is None and "advisor[bench]" in report["sft"]["ratio_why"]
    assert report["machine"]["versions"]["trl"] is None


def test_bench_of_generation_only_says_the_rest_was_skipped(tmp_path):
    report = run_bench(tmp_path, "--only", "generation")

    assert_spread(report["generation"]["one_by_one"]["ratio"])
    assert report["generation"]["one_by_one"]["differing_answers"] == 0
    assert report["sft"]["advisor"] == {"unavailable": "skipped (--only generation)"}
    assert report["ratios"]["sft_vs_trl"] is None
    assert report["ratios"]["decode_vs_one_by_one"] is not None
    assert "skipped" in report["limit"]["unavailable"]


def test_bench_of_e2e_only_measures_neither_sft_nor_generation(tmp_path):
    report = run_bench(tmp_path, "--only", "e2e")

    for name, runs in report["raw"].items():
        assert runs == [{"unavailable": "skipped (--only e2e)"}] * RUNS, name
    assert report["ratios"] == {
        "sft_vs_trl": None,
        "decode_vs_one_by_one": None,
        "decode_vs_batched_generate": None,
    }
    assert report["e2e"]["standard"] == {"skipped": "--skip-e2e"}


@pytest.mark.parametrize(
    ("only", "skip_e2e", "why"),
    [
        ("generation", False, "--only generation"),
        ("sft", False, "--only sft"),
        ("e2e", False, None),
        (None, False, None),
        ("generation", True, "--skip-e2e"),
    ],
)
def test_only_a_part_runs_no_end_to_end_compare(only, skip_e2e, why):
    from benchmarks.perf.bench import e2e_skipped

    args = argparse.Namespace(only=only, skip_e2e=skip_e2e, in_process=False)
    assert e2e_skipped(args) == why


def test_end_to_end_settings_follow_the_timed_compare():
    from benchmarks.perf.bench import e2e_command, parse_args

    args = parse_args(["--only", "e2e", "--e2e-set", "model.dtype=float32", "--e2e-set", "seed=1"])
    command = e2e_command("banking", "standard", "/tmp/runs", args.e2e_set)

    assert command[-2:] == ["model.dtype=float32", "seed=1"]
    assert command[command.index("--profile") + 1] == "standard"
    assert parse_args([]).e2e_set == []


@pytest.mark.slow
def test_bench_against_trl_on_the_same_batches(tmp_path):
    pytest.importorskip("trl")
    report = run_bench(tmp_path)

    assert_common_shape(report)
    trl = report["sft"]["trl"]
    for key in ("tokens_per_s", "peak_rss_mb", "held_out_loss"):
        assert_spread(trl[key])
    assert trl["same_batches"] is True  # TRL trained on advisor's batches, row for row
    ratio = report["sft"]["ratio"]
    for key in ("tokens_per_s", "peak_rss_mb", "held_out_loss_rel_diff"):
        assert_spread(ratio[key])
    assert report["ratios"]["sft_vs_trl"] == ratio["tokens_per_s"]["median"]


def test_mm_rate_is_two_m_k_n_per_call_over_the_time():
    from benchmarks.perf.decoder_profile import mm_rate

    assert mm_rate([[2, 3], [3, 4]], calls=10, seconds=1e-6) == pytest.approx(0.48)
    assert mm_rate([[2, 3, 4], [4, 5]], calls=1, seconds=1.0) is None  # not a 2-D product
    assert mm_rate([[2, 3], [3, 4]], calls=1, seconds=0.0) is None


def test_a_linear_is_counted_as_the_product_of_its_flattened_input_and_turned_weight():
    from benchmarks.perf.decoder_profile import product_shapes

    linear = "mkldnn::_linear_pointwise"
    assert product_shapes(linear, [[2, 3, 5], [8, 5], [], []]) == [[6, 5], [5, 8]]
    assert product_shapes(linear, [[4, 5], [8, 5]]) == [[4, 5], [5, 8]]
    assert product_shapes("aten::mm", [[4, 5], [5, 8]]) == [[4, 5], [5, 8]]


def test_decoder_profile_reports_the_products_by_shape(tmp_path, capsys):
    from benchmarks.perf import decoder_profile

    model = save_tiny_model(tmp_path / "model")
    task = write_tiny_task(tmp_path / "task")
    report = decoder_profile.main(
        ["--questions", "3", "--threads", "1", "--model", str(model), "--task", str(task)]
    )

    assert report["questions"] == 3 and report["answer_tokens"] > 0
    assert report["products"], "the decoder made no matrix products"
    for product in report["products"]:
        assert len(product["shapes"]) == 2 and product["calls"] > 0
        assert product["gflops"] is None or product["gflops"] > 0
    assert report["mm_s"] == pytest.approx(sum(p["seconds"] for p in report["products"]))
    assert 0 < report["mm_s"] < report["wall_s"]
    names = [name for name, _ in report["operators"]]
    assert {p["op"] for p in report["products"]} <= set(names)
    assert "matrix products by shape" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        ("fpu avx2 fma", []),
        ("avx512f avx512_bf16 avx512_vnni", ["avx512_bf16"]),
        ("avx512_bf16 amx_bf16 amx_tile", ["avx512_bf16", "amx_bf16"]),
        ("avx512_bf16x amx_bf16_extra", []),  # whole flags only
    ],
)
def test_the_machine_names_which_native_bf16_it_has(tmp_path, flags, named):
    from advisor.runtime import cpu_bf16_flags

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"model name\t: a CPU\nflags\t\t: {flags}\n")
    assert cpu_bf16_flags(cpuinfo) == named
    assert cpu_bf16_flags(tmp_path / "missing") == []
