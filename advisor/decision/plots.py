"""The report's two plots of a benchmark run: score per strategy and item kind, and
score against cost (one-time, and per query: p95 of single questions). matplotlib is imported inside the functions (the CLI must
start instantly) and always with the non-interactive Agg backend.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from advisor.fileio import write_bytes_atomic
from benchmarks.results import RunResults, StrategyResult

KIND_ORDER = ("seen", "unseen", "drift", "style", "out_of_scope")
CHOSEN_COLOR = "#1b7f3b"
OTHER_COLOR = "#4a6fa5"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "svg.fonttype": "none", "figure.dpi": 110})
    return plt


def _metric(results: RunResults) -> str:
    return results.primary_metric


def score_by_kind(results: RunResults, chosen: str | None = None) -> Any:
    """Grouped bars: the overall score and each item kind, per strategy (error bars: std over seeds)."""
    plt = _pyplot()
    metric = _metric(results)
    names = list(results.strategies)
    kinds = [k for k in KIND_ORDER if any(k in r.by_kind for r in results.strategies.values())]
    groups = ["overall", *kinds]
    fig, ax = plt.subplots(figsize=(7.2, 3.2))
    width = 0.8 / max(len(groups), 1)
    cmap = plt.get_cmap("tab10")
    for g, group in enumerate(groups):
        means, stds = [], []
        for name in names:
            result = results.strategies[name]
            stat = (
                result.overall.get(metric)
                if group == "overall"
                else result.by_kind.get(group, {}).get(metric)
            )
            means.append(stat.mean if stat else 0.0)
            stds.append(stat.std if stat and stat.n > 1 else 0.0)
        xs = [i + (g - (len(groups) - 1) / 2) * width for i in range(len(names))]
        color = "#333333" if group == "overall" else cmap(g - 1)
        ax.bar(
            xs,
            means,
            width,
            yerr=stds,
            label=group.replace("_", "-"),
            color=color,
            capsize=2,
            linewidth=0,
        )
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([f"{n} ★" if n == chosen else n for n in names])
    ax.set_ylabel(metric)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"{metric} per strategy and item kind", fontsize=10)
    ax.legend(ncol=len(groups), fontsize=7, loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def _per_query_panel(results: RunResults) -> tuple[str, Callable[[StrategyResult], float | None]]:
    """The second panel's axis: per-query latency (p95 of single questions) where the run
    measured it; else, for an older run, answering time per query at its batch size —
    labelled as such, never as a latency."""
    from benchmarks.latency import answers_per_second, query_latency_s

    if any(query_latency_s(r.cost) is not None for r in results.strategies.values()):
        return "per-query latency, p95 (s, one question alone)", lambda r: query_latency_s(r.cost)

    def time_per_answer(result: StrategyResult) -> float | None:
        rate = answers_per_second(result.cost, result.n_items)
        return None if rate is None else 1 / rate

    return "answering time per query at the run's batch size (s)", time_per_answer


def score_vs_cost(results: RunResults, chosen: str | None = None) -> Any:
    """Two panels: score against one-time cost (train + prepare time) and against per-query
    latency (p95 of questions answered one at a time)."""
    plt = _pyplot()
    metric = _metric(results)
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 2.9), sharey=True)
    panels = (
        (
            "train + prepare time (s, log)",
            lambda r: r.cost.get("train_time_s", 0.0) + r.cost.get("prepare_time_s", 0.0),
        ),
        _per_query_panel(results),
    )
    for ax, (xlabel, cost_of) in zip(axes, panels, strict=True):
        for name, result in results.strategies.items():
            stat = result.overall.get(metric) or result.score
            x = cost_of(result)
            if x is None:  # not measured for this strategy: no point to place
                continue
            color = CHOSEN_COLOR if name == chosen else OTHER_COLOR
            ax.errorbar(
                x,
                stat.mean,
                yerr=stat.std if stat.n > 1 else 0,
                fmt="o",
                color=color,
                capsize=2,
                ms=5,
            )
            ax.annotate(name, (x, stat.mean), textcoords="offset points", xytext=(4, 4), fontsize=7)
        ax.set_xlabel(xlabel)
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(alpha=0.3)
    axes[0].set_xscale("symlog", linthresh=1.0)
    axes[0].set_ylabel(metric)
    axes[0].set_ylim(0, 1.05)
    fig.suptitle(f"{metric} against cost (green: recommended)", fontsize=10)
    fig.tight_layout()
    return fig


def _curve_points(curve: dict[str, Any], kind: str, metric: str) -> list[tuple[int, float, float]]:
    """(train examples, mean, std) of one curve on one kind ('overall' or an item kind)."""
    points = []
    for entry in curve.values():
        n = entry.get("train_examples")
        block = entry.get("overall", {}) if kind == "overall" else entry.get("by_kind", {})
        stat = block.get(metric) if kind == "overall" else block.get(kind, {}).get(metric)
        if isinstance(n, int | float) and n > 0 and isinstance(stat, dict) and "mean" in stat:
            points.append((int(n), float(stat["mean"]), float(stat.get("std") or 0.0)))
    return sorted(points)


def learning_curves(results: RunResults) -> Any:
    """Score against labeled examples (log scale), one panel per kind, mean ± std over
    seeds for each strategy with a curve (sft, full_ft, each swept variant); RAG, which
    trains nothing, as a band (its mean ± std)."""
    plt = _pyplot()
    from matplotlib import ticker

    metric = _metric(results)
    curves = results.learning_curve
    kinds = ["overall", *[k for k in KIND_ORDER if k != "out_of_scope"]]
    kinds = [k for k in kinds if any(_curve_points(c, k, metric) for c in curves.values())]
    fig, axes = plt.subplots(1, len(kinds), figsize=(2.1 * len(kinds) + 0.6, 2.8), sharey=True)
    axes = list(axes) if len(kinds) > 1 else [axes]
    rag = results.strategies.get("rag")
    cmap = plt.get_cmap("tab10")
    for ax, kind in zip(axes, kinds, strict=True):
        if rag is not None:
            stat = (
                rag.overall.get(metric)
                if kind == "overall"
                else rag.by_kind.get(kind, {}).get(metric)
            )
            if stat is not None:
                ax.axhspan(
                    stat.mean - stat.std,
                    stat.mean + stat.std,
                    color="#bbbbbb",
                    alpha=0.5,
                    linewidth=0,
                )
                ax.axhline(stat.mean, color="#777777", linewidth=1, label="rag (no training)")
        for c, (name, curve) in enumerate(curves.items()):
            points = _curve_points(curve, kind, metric)
            if points:
                xs, means, stds = zip(*points, strict=True)
                ax.errorbar(
                    xs,
                    means,
                    yerr=stds,
                    marker="o",
                    markersize=3,
                    capsize=2,
                    linewidth=1.2,
                    color=cmap(c),
                    label=name,
                )
        ax.set_xscale("log")
        sizes = sorted({n for c in curves.values() for n, _, _ in _curve_points(c, kind, metric)})
        ax.set_xticks(sizes)  # the sizes measured, written out, not powers of ten
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.tick_params(axis="x", labelsize=7, labelrotation=45)
        ax.set_title(kind.replace("_", "-"), fontsize=9)
        ax.set_xlabel("train examples", fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel(metric)
    axes[0].legend(fontsize=6, loc="upper left", frameon=False)
    fig.suptitle(
        f"learning curves: {metric} by labeled examples (mean ± std over seeds)", fontsize=10
    )
    fig.tight_layout()
    return fig


def figures(results: RunResults, chosen: str | None = None) -> dict[str, Any]:
    """name → figure, in report order (the learning curves when the run has them)."""
    out = {
        "score_by_kind": score_by_kind(results, chosen),
        "score_vs_cost": score_vs_cost(results, chosen),
    }
    if results.learning_curve:
        out["learning_curves"] = learning_curves(results)
    return out


def to_bytes(fig: Any, fmt: str) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.savefig(
        buffer, format=fmt, bbox_inches="tight", metadata={"Date": None} if fmt == "svg" else None
    )
    plt.close(fig)
    return buffer.getvalue()


def svg_plots(results: RunResults, chosen: str | None = None) -> dict[str, str]:
    """Inline SVG text for each plot (for the standalone HTML report)."""
    out = {}
    for name, fig in figures(results, chosen).items():
        svg = to_bytes(fig, "svg").decode("utf-8")
        out[name] = svg[svg.index("<svg") :]
    return out


def write_png_plots(
    results: RunResults, folder: Path, chosen: str | None = None
) -> dict[str, Path]:
    """PNG files for each plot in `folder` (for the Markdown report)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, fig in figures(results, chosen).items():
        path = folder / f"{name}.png"
        write_bytes_atomic(path, to_bytes(fig, "png"))
        paths[name] = path
    return paths
