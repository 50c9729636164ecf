"""The benchmark harness: one task through every strategy, scored side by side.

For each seed and strategy: prepare (index, train), answer every test item in
chunks — each chunk appended to `answers.jsonl` as soon as it is done, so an
interrupted run resumes where it stopped — then score. Scores are aggregated
per strategy, overall and per item kind, as mean ± std over seeds, with cost:
training time, peak memory, throughput at the run's batch size, per-query
latency (a seeded sample answered one question at a time: `benchmarks.latency`),
tokens and an estimated price per 1,000 queries.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import shutil
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from advisor.config import RunConfig
from advisor.errors import AdvisorError
from advisor.fileio import (
    atomic_writer,
    read_text,
    remove_leftovers,
    write_json_atomic,
    write_text_atomic,
    yaml_error,
    yaml_key_lines,
)
from advisor.tasks import Task, load_task
from benchmarks import lock
from benchmarks import manifest as mf
from benchmarks.answers import ANSWERS, append_answers, read_answers_file, rewrite_answers
from benchmarks.results import SCHEMA_VERSION

PRICES_FILE = Path(__file__).resolve().parent.parent / "advisor" / "prices.yaml"

PhaseStarter = Callable[[str, int | None], Callable[[int, dict[str, Any]], None]]


def _quiet_phase(description: str, total: int | None) -> Callable[[int, dict[str, Any]], None]:
    return lambda n, fields: None


@dataclass
class Unit:
    """One strategy under one seed — and, for the learning curve, one train size;
    for a sweep, one value of each swept setting the strategy reads (its variant)."""

    strategy: str
    seed: int
    train_size: str | None = None  # None: the strategy's normal run
    variant: tuple[tuple[str, str], ...] = ()  # (setting, value) pairs from --sweep

    @property
    def name(self) -> str:
        """What its results are filed under: `sft`, or `sft(sft.lora.r=8)` in a sweep
        (parentheses, not brackets, which rich would read as markup)."""
        if not self.variant:
            return self.strategy
        return f"{self.strategy}({','.join(f'{k}={v}' for k, v in self.variant)})"

    @property
    def key(self) -> str:
        suffix = f"-n{self.train_size}" if self.train_size else ""
        return f"{self.name}-seed{self.seed}{suffix}"


@dataclass
class UnitResult:
    unit: Unit
    rows: list[dict[str, Any]]
    prepare: dict[str, Any]
    answer_time_s: float
    peak_memory_mb: float
    status: str = "scored"  # scored | skipped | failed
    reason: str = ""  # why it was skipped, or the error it failed with
    latency: dict[str, Any] | None = None  # single-question timings (benchmarks.latency)

    @property
    def scored(self) -> bool:
        return self.status == "scored"


@dataclass
class RunOutcome:
    run_dir: Path
    resumed: bool
    scores: dict[str, Any]
    results: list[UnitResult] = field(default_factory=list)


# ---------------------------------------------------------------- memory


class MemorySampler:
    """Peak resident memory (CPU) or peak allocated memory (GPU) during a block."""

    def __init__(self, device) -> None:
        self.device = device
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> MemorySampler:
        from advisor.runtime import current_memory_mb

        if self.device.is_cuda:
            import torch

            torch.cuda.reset_peak_memory_stats(torch.device(self.device.device))
            return self

        def sample() -> None:
            while not self._stop.is_set():
                self.peak = max(self.peak, current_memory_mb())
                self._stop.wait(0.2)

        self.peak = current_memory_mb()
        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        from advisor.runtime import current_memory_mb, peak_memory_mb

        if self.device.is_cuda:
            self.peak = peak_memory_mb(self.device)
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, current_memory_mb())


# ---------------------------------------------------------------- prices


def load_prices(path: Path | None = None) -> dict[str, float]:
    """The hourly prices the cost estimates use (`--prices`, else the shipped table)."""
    path = Path(path or PRICES_FILE)
    text = read_text(
        path, what="price table", hint="a YAML file with cpu_hour_usd and gpu_hour_usd"
    )
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, path) from None
    if not isinstance(data, dict):
        raise AdvisorError("expected a mapping of hourly prices", file=path)
    prices = {}
    for key in ("cpu_hour_usd", "gpu_hour_usd"):
        value = data.get(key)
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not 0 <= value < math.inf
        ):
            raise AdvisorError(
                "expected a non-negative number (US dollars per hour)",
                file=path,
                line=yaml_key_lines(text).get(key),
                field=key,
                hint="for example:  cpu_hour_usd: 0.10",
            )
        prices[key] = float(value)
    return prices


# ---------------------------------------------------------------- answers file


def read_answers(
    run_dir: Path, log: Callable[[str], None] = lambda message: None
) -> dict[tuple[str, str], dict[str, Any]]:
    """Records already written, keyed by (unit key, item id). Torn or garbled
    lines, wherever they are, are dropped from the file and their items redone."""
    found = read_answers_file(run_dir)
    if found.bad_lines:
        shown = ", ".join(map(str, found.bad_lines[:10]))
        more = "" if len(found.bad_lines) <= 10 else f" and {len(found.bad_lines) - 10} more"
        log(
            f"{run_dir / ANSWERS}: {len(found.bad_lines)} torn or garbled line(s) "
            f"({shown}{more}); those items are answered again"
        )
        rewrite_answers(run_dir, list(found.records.values()))
    return found.records


def _read_prepare_record(path: Path) -> dict[str, Any] | None:
    """A finished unit's prepare record, or None where it is missing or damaged
    (the unit is then prepared again; its answers are kept)."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    keys = ("prepare", "answer_time_s", "peak_memory_mb")
    return saved if isinstance(saved, dict) and all(k in saved for k in keys) else None


def _error_text(exc: BaseException) -> str:
    """One line for the results table: the user-facing message, or the exception."""
    if isinstance(exc, AdvisorError):
        return str(exc).splitlines()[0]
    text = " ".join(str(exc).split()) or "(no message)"
    return f"{type(exc).__name__}: {text[:300]}"


def _write_error(folder: Path, exc: BaseException) -> None:
    """The full traceback of a failed strategy, beside its other files."""
    import traceback

    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    write_text_atomic(folder / "error.log", text)


def _check_resumable(
    run_dir: Path, digest: str, identity: dict[str, Any], config: dict[str, Any]
) -> None:
    """Refuse to continue a run folder made by different inputs, naming what
    differs: answers from float32 and bfloat16 (or two torch versions) mixed in
    one folder would be a run nobody made."""
    manifest = mf.read_manifest(run_dir)
    if manifest is None:
        raise AdvisorError(
            "not a run folder (no readable manifest.json)",
            file=run_dir,
            hint="pass a folder under runs/ written by `advisor compare`",
        )
    if manifest.get("config_hash") == digest:
        return
    changes = mf.identity_differences(
        manifest.get("identity"), identity, mf.read_config(run_dir), config
    )
    raise AdvisorError(
        "this run was made with other inputs and cannot be resumed with these: "
        + ("; ".join(changes) or "its hash differs"),
        file=run_dir / mf.MANIFEST,
        field="identity",
        hint="run without --resume to start a new run (or resume it where it was made)",
    )


# ---------------------------------------------------------------- the run


class Harness:
    """Runs one resolved config. Construct, then call `run()`."""

    def __init__(
        self,
        config: RunConfig,
        *,
        start_phase: PhaseStarter = _quiet_phase,
        log: Callable[[str], None] = lambda message: None,
        resume: bool | Path = True,
        prices_file: Path | None = None,
        models: Any = None,
        device: Any = None,
        finish: Callable[[RunOutcome], None] | None = None,
        executor: Any = None,
    ) -> None:
        from benchmarks.executors import LocalExecutor

        self.config = config
        # who runs the units: here, one after another (local), or on a Ray cluster
        self.executor = executor or LocalExecutor()
        # what else completes the run once it is scored (the report): done under
        # the lock and before the manifest says complete, so a run killed during
        # it is still unfinished and the same command again completes it
        self.finish = finish
        self.start_phase = start_phase
        self.log = log
        self.resume = resume
        self.prices = load_prices(prices_file)
        self._models = models
        self._device = device

    # -- set-up

    def _setup(self) -> None:
        from advisor.models import ModelProvider, model_fingerprint
        from advisor.runtime import pick_device
        from benchmarks.limits import check_questions_fit, measure_lengths, resolve_limits
        from benchmarks.metrics import known_figures
        from strategies.registry import default_strategies

        self.task: Task = load_task(self.config.task, allow_leakage=self.config.allow_leakage)
        self.items = list(
            self.task.test[: self.config.limit] if self.config.limit else self.task.test
        )
        self.strategies = list(self.config.strategies) or default_strategies(self.task.spec.type)
        self.device = self._device or pick_device(
            self.config.model.device, self.config.model.dtype, self.config.model.threads
        )
        if self._models is None:
            self.models = ModelProvider(
                self.config.model.generator, self.config.model.embedder, self.device, self.log
            )
            resolved = self.models.resolved
            self.model_info = {
                "generator": self.config.model.generator,
                "source": resolved.source,
                "path": str(resolved.path),
                "sha256": model_fingerprint(resolved),
                "embedder": self.config.model.embedder,
            }
        else:
            self.models = self._models
            self.model_info = {
                "generator": "<in-memory>",
                "sha256": "in-memory",
                "embedder": "<in-memory>",
            }
        texts = [d.text for d in self.task.corpus] + [d.text for d in self.task.corpus_v2 or ()]
        texts += [e.answer for e in self.task.train]
        texts += [i.reference for i in self.task.test] + [
            f for i in self.task.test for f in (*i.facts, *i.stale_facts)
        ]
        self.known = known_figures(texts)
        self._reference_vectors: dict[str, Any] = {}
        lengths = measure_lengths(self.task, self.models.tokenizer()) if self.task.train else None
        if lengths is not None:
            check_questions_fit(self.task, lengths, self.models.context_length())
        # what the strategies run with: lengths "from the task" (0) made concrete
        self.run_config, self.derived_limits = resolve_limits(self.config, lengths)

    def _open_run_dir(self) -> tuple[Path, bool]:
        """The run folder to write, locked by this process: the unfinished run
        of these same inputs (resumed), or a new one."""
        config = self.config.to_dict()
        identity = mf.run_identity(
            task_hash=self.task.content_hash(),
            model_hash=self.model_info["sha256"],
            device=self.device.to_dict(),
        )
        digest = mf.config_hash(config, identity)
        runs_dir = Path(self.config.runs_dir)
        if isinstance(self.resume, Path):
            _check_resumable(self.resume, digest, identity, config)
            self._lock = lock.acquire(self.resume)
            self._remove_leftovers(self.resume)
            return self.resume, True
        if self.resume:
            unfinished = mf.find_unfinished_run(runs_dir, digest, identity)
            if unfinished is not None:
                self._lock = lock.acquire(unfinished)
                self._remove_leftovers(unfinished)
                return unfinished, True
        run_dir = mf.new_run_dir(runs_dir, self.task.name, digest)
        try:
            # locked before the manifest exists, so no other process can pick it up unlocked
            self._lock = lock.acquire(run_dir)
            manifest = mf.build_manifest(
                run_id=run_dir.name,
                digest=digest,
                config=config,
                task=self.task,
                model=self.model_info,
                device=self.device.to_dict(),
                identity=identity,
            )
            manifest["strategies"] = self.strategies
            manifest["derived_limits"] = self.derived_limits
            write_json_atomic(run_dir / mf.MANIFEST, manifest)
            mf.write_config(run_dir, config)
        except BaseException:
            # a folder this process made a moment ago and could not set up (a full
            # disk, say) holds nothing of value: leave no half-made run behind
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
        return run_dir, False

    def _remove_leftovers(self, run_dir: Path) -> None:
        """The temporaries a killed run was writing (a half-written scores.json,
        an adapter folder mid-save) go before anything else is written."""
        removed = remove_leftovers(run_dir)
        if removed:
            names = ", ".join(str(p.relative_to(run_dir)) for p in removed[:5])
            more = f" and {len(removed) - 5} more" if len(removed) > 5 else ""
            self.log(f"removed what the interrupted run was writing: {names}{more}")

    def units(self) -> list[Unit]:
        """Every (strategy, seed, variant) of the run, then the learning curve's
        (strategy, seed, variant, train size) for the strategies that have one."""
        from advisor.config import sweep_axes
        from strategies.registry import has_learning_curve, reads_setting

        axes = sweep_axes(self.config)

        def variants(strategy: str) -> list[tuple[tuple[str, str], ...]]:
            mine = [(key, values) for key, values in axes if reads_setting(strategy, key)]
            return [
                tuple(zip([k for k, _ in mine], point, strict=True))
                for point in itertools.product(*(values for _, values in mine))
            ]

        units = [
            Unit(name, seed, variant=variant)
            for seed in self.config.seeds
            for name in self.strategies
            for variant in variants(name)
        ]
        if self.config.train_sizes:
            curved = [s for s in self.strategies if has_learning_curve(s)] or ["sft"]
            for seed in self.config.seeds:
                for name in curved:
                    for variant in variants(name):
                        for size in self.config.train_sizes:
                            if size != "all" or name not in self.strategies:
                                units.append(Unit(name, seed, size, variant))
        return units

    # -- running

    def run(self) -> RunOutcome | None:
        """Run every unit and score them (None on the follower ranks of a
        multi-process launch, which only train: see strategies/distributed.py)."""
        from strategies.distributed import broadcast, data_parallel, is_main_process

        self._setup()
        if data_parallel() is not None:
            if self.executor.name != "local":
                raise AdvisorError(
                    "accelerate launch trains across processes; it does not combine with "
                    f"--executor {self.executor.name}",
                    field="--executor",
                    hint="use one: accelerate launch ... advisor compare, or --executor ray",
                )
            if not is_main_process():
                return self._follow(broadcast(None))
        try:
            self.run_dir, resumed = self._open_run_dir()
        except BaseException:
            broadcast(None)  # the followers stop too; this process says why
            raise
        broadcast(str(self.run_dir))
        try:
            if resumed:
                self.log(f"resuming the unfinished run {self.run_dir}")
            return self._run_locked(resumed)
        finally:  # a finished, failed or interrupted run leaves the folder free
            lock.release(self.run_dir, self._lock)

    def _follow(self, run_dir: str | None) -> None:
        """A follower rank: take part in every training the main rank does, in the
        same order, and write nothing (rank 0 answers, scores and writes)."""
        from advisor.runtime import set_seed
        from strategies.registry import TRAINING

        if run_dir is None:
            return None
        self.run_dir = Path(run_dir)
        self.start_phase, self.log = _quiet_phase, lambda message: None
        done = read_answers_file(self.run_dir).records  # read only: rank 0 repairs the file
        units = self.units()
        for n, unit in enumerate(units):
            if unit.strategy not in TRAINING or self.skipped(unit) is not None:
                continue
            remaining, _ = self._split_done(unit, done)
            prepare_file = self.run_dir / "strategies" / unit.key / "prepare.json"
            if not remaining and _read_prepare_record(prepare_file) is not None:
                continue  # rank 0 scores it from its files: no training
            set_seed(unit.seed)
            try:
                self._create(unit).prepare(self._context(unit))
            except Exception:  # rank 0 meets the same error and reports it
                continue
            finally:
                self.release(unit, units[n + 1 :])
        return None

    def _run_locked(self, resumed: bool) -> RunOutcome:
        done = read_answers(self.run_dir, self.log)
        results = self.executor.run(self, self.units(), done)
        if not any(r.scored for r in results):
            raise AdvisorError(
                "no strategy could be scored on this task: "
                + "; ".join(f"{r.unit.key}: {r.status} — {r.reason}" for r in results),
                hint="see the reasons above; `advisor tasks validate` shows what the task holds",
            )
        scores = self._write_scores(results)
        outcome = RunOutcome(self.run_dir, resumed, scores, results)
        if self.finish is not None:
            self.finish(outcome)
        manifest = mf.read_manifest(self.run_dir) or {}
        failed = [r.unit.key for r in results if r.status == "failed"]
        # a run with a failed strategy stays resumable: the same command retries it
        manifest.update({"status": "failed" if failed else "complete", "finished": mf.now_iso()})
        if failed:
            manifest["failed_units"] = failed
        write_json_atomic(self.run_dir / mf.MANIFEST, manifest)
        return outcome

    def _context(self, unit: Unit):
        from strategies.protocol import StrategyContext

        workdir = self.run_dir / "strategies" / unit.key
        workdir.mkdir(parents=True, exist_ok=True)
        if not hasattr(self, "_shared"):
            self._shared: dict[str, Any] = {}
        from advisor.config import with_settings

        return StrategyContext(
            task=self.task,
            config=with_settings(self.run_config, unit.variant),
            models=self.models,
            device=self.device,
            seed=unit.seed,
            workdir=workdir,
            shared=self._shared,
            start_phase=lambda description, total: self.start_phase(
                f"{unit.key}: {description}", total
            ),
        )

    def release(self, unit: Unit, later: Sequence[Unit]) -> None:
        """Free what `unit` leaves behind that none of the `later` units needs.

        A model a strategy trained stays in the run's shared artefacts only while
        a later unit reuses the unit that trained it (`sft+rag` the `sft` unit of
        its seed: `benchmarks.executors.REUSES`); then freed memory goes back to
        the system (`advisor.runtime.release_memory`), so each strategy starts
        from what the run holds for all of them (the base model, the embedder,
        the retrievers), not from the high point of the one before. The shared
        base model goes too once no later unit answers with it (the strategies
        that train work on copies of their own).
        """
        from advisor.runtime import release_memory
        from benchmarks.executors import reused_unit
        from strategies.protocol import SharedModel
        from strategies.registry import TRAINING, strategy_needs

        shared = getattr(self, "_shared", {})
        owners = self.__dict__.setdefault("_shared_owners", {})
        for key, value in shared.items():
            if isinstance(value, SharedModel):
                owners.setdefault(key, unit.key)
        wanted = {reused_unit(other) for other in later}
        for key in [key for key, owner in owners.items() if owner not in wanted]:
            shared.pop(key, None)
            del owners[key]
        names = {other.strategy for other in later}
        release_generator = getattr(self.models, "release_generator", None)
        if release_generator is not None and not any(
            n not in TRAINING and strategy_needs(n).generator for n in names
        ):
            release_generator()
        release_memory()

    def _create(self, unit: Unit):
        from strategies.registry import create_strategy, get_strategy_class

        if unit.train_size is None:
            return create_strategy(unit.strategy)
        limit = None if unit.train_size == "all" else int(unit.train_size)
        return get_strategy_class(unit.strategy)(train_limit=limit)

    def run_unit(self, unit: Unit, done: dict[tuple[str, str], dict[str, Any]]) -> UnitResult:
        """Prepare and answer one unit; a strategy that cannot run on this task is
        skipped with its reason, one that fails is reported with its error, and
        neither stops the run."""
        skipped = self.skipped(unit)
        if skipped is not None:
            return skipped
        try:
            return self._prepare_and_answer(unit, done)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # one strategy failing never stops the others
            return self.failed(unit, exc)

    def skipped(self, unit: Unit) -> UnitResult | None:
        """The unit's result when its strategy cannot run on this task, else None."""
        from strategies.protocol import unmet_need
        from strategies.registry import strategy_needs

        reason = unmet_need(strategy_needs(unit.strategy), self.task)
        if reason is None:
            return None
        self.log(f"{unit.key}: skipped — {reason}")
        return UnitResult(unit, [], {}, 0.0, 0.0, status="skipped", reason=reason)

    def failed(self, unit: Unit, exc: BaseException, message: str | None = None) -> UnitResult:
        """A unit that failed: its error logged, its traceback in error.log."""
        message = message or _error_text(exc)
        self.log(f"{unit.key}: failed — {message}")
        _write_error(self.run_dir / "strategies" / unit.key, exc)
        return UnitResult(unit, [], {}, 0.0, 0.0, status="failed", reason=message)

    def _prepare_and_answer(
        self, unit: Unit, done: dict[tuple[str, str], dict[str, Any]]
    ) -> UnitResult:
        resumed = self._already_answered(unit, done)
        if resumed is not None:
            return resumed
        remaining, records = self._split_done(unit, done)
        new, prepare, peak, latency = self.compute_unit(
            unit, remaining, lambda chunk: append_answers(self.run_dir, chunk)
        )
        return self.finish_unit(unit, records + new, prepare, peak, latency)

    def _split_done(
        self, unit: Unit, done: dict[tuple[str, str], dict[str, Any]]
    ) -> tuple[list[Any], list[dict[str, Any]]]:
        """(the items this unit has still to answer, the records it already has)."""
        remaining = [item for item in self.items if (unit.key, item.id) not in done]
        records = [done[(unit.key, i.id)] for i in self.items if (unit.key, i.id) in done]
        return remaining, records

    def _already_answered(
        self, unit: Unit, done: dict[tuple[str, str], dict[str, Any]]
    ) -> UnitResult | None:
        """A unit an earlier, interrupted run finished: scored from its files."""
        remaining, records = self._split_done(unit, done)
        if remaining:
            return None
        saved = _read_prepare_record(self.run_dir / "strategies" / unit.key / "prepare.json")
        if saved is None:
            return None
        self.log(f"{unit.key}: already answered, skipping")
        return UnitResult(
            unit,
            self._score(records),
            saved["prepare"],
            saved["answer_time_s"],
            saved["peak_memory_mb"],
            latency=saved.get("latency"),
        )

    def compute_unit(
        self, unit: Unit, items: Sequence[Any], sink: Callable[[list[dict[str, Any]]], None]
    ) -> tuple[list[dict[str, Any]], dict[str, Any], float, dict[str, Any] | None]:
        """Prepare the unit's strategy and answer `items`, handing each chunk of
        answer records to `sink` as it is done (the answers file, locally; the
        driver, on a cluster), then time single questions (benchmarks/latency.py).
        → (records, prepare record, peak memory MB, latency record or None)."""
        from advisor.runtime import set_seed

        set_seed(unit.seed)
        strategy = self._create(unit)
        ctx = self._context(unit)
        records: list[dict[str, Any]] = []
        with MemorySampler(self.device) as memory:
            began = time.perf_counter()
            report = strategy.prepare(ctx)
            prepare_time = time.perf_counter() - began
            advance = self.start_phase(f"{unit.key}: answering", len(items))
            chunk_size = self.config.generation.batch_size * (2 if self.device.is_cuda else 1) * 2
            for start in range(0, len(items), chunk_size):
                chunk = items[start : start + chunk_size]
                began = time.perf_counter()
                answers = strategy.answer([item.question for item in chunk])
                share = (time.perf_counter() - began) / len(chunk)
                new = [
                    self._record(unit, item, answer, share)
                    for item, answer in zip(chunk, answers, strict=True)
                ]
                sink(new)
                records.extend(new)
                advance(len(chunk), {})
            latency = self._measure_latency(unit, strategy)
        prepare = {
            "prepare_time_s": round(prepare_time, 3),
            "train_time_s": round(report.train_time_s, 3),
            "train_tokens": report.train_tokens,
            "details": report.details,
        }
        # On a CPU the report's peak is the process's (getrusage: the high point of
        # every unit so far); the sampler's is this unit's own.
        peak = max(memory.peak, report.peak_memory_mb) if self.device.is_cuda else memory.peak
        return records, prepare, peak, latency

    def finish_unit(
        self,
        unit: Unit,
        records: list[dict[str, Any]],
        prepare: dict[str, Any],
        peak: float,
        latency: dict[str, Any] | None = None,
    ) -> UnitResult:
        """Record a unit that has answered every item (its prepare.json) and score it."""
        answer_time = sum(r["answer_time_share_s"] for r in records)
        saved = {"prepare": prepare, "answer_time_s": answer_time, "peak_memory_mb": peak}
        if latency is not None:
            saved["latency"] = latency
        folder = self.run_dir / "strategies" / unit.key
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / "prepare.json", saved)
        order = {item.id: n for n, item in enumerate(self.items)}
        records.sort(key=lambda r: order[r["id"]])
        return UnitResult(unit, self._score(records), prepare, answer_time, peak, latency=latency)

    def _measure_latency(self, unit: Unit, strategy) -> dict[str, Any] | None:
        """Per-query latency: a seeded sample of the questions, each answered alone."""
        from benchmarks.latency import measure_unit_latency

        n = min(self.config.generation.latency_sample, len(self.items))
        if n <= 0 or unit.train_size is not None:  # the learning curve shows no latency
            return None
        advance = self.start_phase(f"{unit.key}: timing single questions", n)
        questions = [item.question for item in self.items]
        return measure_unit_latency(strategy, questions, n, unit.seed, advance)

    def _record(self, unit: Unit, item, answer, time_share_s: float) -> dict[str, Any]:
        return {
            "unit": unit.key,
            "strategy": unit.strategy,
            "seed": unit.seed,
            "train_size": unit.train_size,
            **({"variant": dict(unit.variant)} if unit.variant else {}),
            "id": item.id,
            "kind": item.kind,
            "question": item.question,
            "answer": answer.text,
            "reference": item.reference,
            "facts": list(item.facts),
            "prompt_tokens": answer.prompt_tokens,
            "output_tokens": answer.output_tokens,
            "batch_time_s": round(answer.latency_s, 4),  # wall time of its whole batch
            "answer_time_share_s": round(time_share_s, 5),
            "scoring": answer.scoring,
            "citations": [
                {
                    "doc_id": p.doc_id,
                    "chunk_id": p.chunk_id,
                    "score": round(p.score, 4),
                    "text": p.text,
                }
                for p in answer.passages
            ],
        }

    # -- scoring

    def _similarities(self, records: list[dict[str, Any]]) -> list[float | None]:
        """Cosine similarity of each answer to its reference (MiniLM embeddings)."""
        if "embedding_similarity" not in self._metrics():
            return [None] * len(records)
        import numpy as np

        from strategies.retrieval import embed_texts

        embedder = self.models.embedder()
        missing = [r["reference"] for r in records if r["reference"] not in self._reference_vectors]
        if missing:
            for text, vector in zip(missing, embed_texts(embedder, missing), strict=True):
                self._reference_vectors[text] = vector
        answers = embed_texts(embedder, [r["answer"] or " " for r in records])
        references = np.stack([self._reference_vectors[r["reference"]] for r in records])
        return [float(x) for x in (answers * references).sum(axis=1)]

    def _metrics(self) -> tuple[str, ...]:
        if self.task.spec.is_classification:  # a label is right or wrong: no similarity
            return self.task.spec.metrics
        return self.task.spec.metrics or ("embedding_similarity",)

    def _score(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from benchmarks.metrics import score_item

        by_id = {item.id: item for item in self.items}
        similarities = self._similarities(records) if records else []
        rows = []
        for record, similarity in zip(records, similarities, strict=True):
            item = by_id[record["id"]]
            passages = [c["text"] for c in record["citations"]] if record["citations"] else None
            scores = score_item(
                item,
                record["answer"],
                style=self.task.spec.style,
                decline_patterns=self.task.spec.decline_patterns,
                known=self.known,
                similarity=similarity,
                passages=passages,
                labels=self.task.spec.labels,
                primary=self.task.spec.score,
            )
            rows.append(
                {
                    "id": item.id,
                    "kind": item.kind,
                    **({"reference": item.reference} if self.task.spec.is_classification else {}),
                    **scores,
                    "prompt_tokens": record["prompt_tokens"],
                    "output_tokens": record["output_tokens"],
                    "scoring": record.get("scoring", "generate"),
                }
            )
        return rows

    def _write_scores(self, results: list[UnitResult]) -> dict[str, Any]:
        scores = summarise(self.task, self.config, results, self.device, self.prices)
        scores["run_id"] = self.run_dir.name
        write_json_atomic(self.run_dir / "scores.json", scores)
        write_scores_csv(self.run_dir / "scores.csv", scores)
        write_item_scores(self.run_dir / "item_scores.csv", results)
        return scores


# ---------------------------------------------------------------- aggregation


def _stat(values: Sequence[float | None]) -> dict[str, float] | None:
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not present:
        return None
    std = statistics.stdev(present) if len(present) > 1 else 0.0
    return {"mean": round(statistics.fmean(present), 4), "std": round(std, 4), "n": len(present)}


def _over_seeds(per_seed: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """{metric: mean} per seed → {metric: {mean, std, n}} across seeds."""
    metrics = sorted(
        {
            k
            for entry in per_seed
            for k, v in entry.items()
            if isinstance(v, int | float) and k != "n"
        }
    )
    out = {}
    for metric in metrics:
        stat = _stat([entry.get(metric) for entry in per_seed])
        if stat is not None:
            out[metric] = stat
    return out


def summarise(
    task: Task, config: RunConfig, results: list[UnitResult], device, prices: dict[str, float]
) -> dict[str, Any]:
    """scores.json: per strategy, metrics over items and seeds, cost; the learning
    curve; and the strategies that were skipped or failed, with why."""
    from benchmarks.latency import answering_batch_size
    from benchmarks.metrics import aggregate

    hourly = prices["gpu_hour_usd"] if device.is_cuda else prices["cpu_hour_usd"]
    batch = answering_batch_size(config.generation.batch_size, device.is_cuda)
    labels = task.spec.labels if task.spec.is_classification else ()
    strategies: dict[str, Any] = {}
    not_scored: dict[str, Any] = {}
    curve: dict[str, Any] = {}
    main = [r for r in results if r.unit.train_size is None]
    for name in dict.fromkeys(r.unit.name for r in main):
        units = [r for r in main if r.unit.name == name]
        scored = [r for r in units if r.scored]
        if scored:
            strategies[name] = _strategy_entry(scored, hourly, aggregate, labels, batch)
            if units[0].unit.variant:
                strategies[name]["strategy"] = units[0].unit.strategy
                strategies[name]["variant"] = dict(units[0].unit.variant)
        for unit in units:
            if not unit.scored and name not in not_scored:
                not_scored[name] = {
                    "status": unit.status,
                    "reason": unit.reason,
                    "seeds": [u.unit.seed for u in units if not u.scored],
                }
    curved = [r for r in results if r.unit.train_size is not None]
    for name in dict.fromkeys(r.unit.name for r in curved):
        for size in dict.fromkeys(r.unit.train_size for r in curved if r.unit.name == name):
            units = [r for r in curved if r.unit.name == name and r.unit.train_size == size]
            units = [r for r in units if r.scored]
            if not units:
                continue
            entry = _strategy_entry(units, hourly, aggregate, labels, batch)
            entry["train_examples"] = units[0].prepare["details"].get("train_examples")
            curve.setdefault(name, {})[size] = entry
        if name in curve and name in strategies and "all" not in curve[name]:
            curve[name]["all"] = strategies[name] | {"train_examples": len(task.train)}
    scores = {
        "schema": SCHEMA_VERSION,
        "task": task.name,
        "task_version": task.spec.version,
        "task_type": task.spec.type,
        "primary_metric": "score",
        "score_means": _score_meaning(task),
        "seeds": list(config.seeds),
        "device": device.to_dict(),
        "hourly_usd": hourly,  # the price the cost figures use (--prices, else the shipped table)
        "strategies": strategies,
        "not_scored": not_scored,
        "learning_curve": curve,
    }
    paired = _paired(main)
    if paired is not None:
        scores["paired"] = paired
    return scores


def _paired(main: list[UnitResult], metric: str = "score") -> dict[str, Any] | None:
    """Every pair of scored strategies compared item by item (benchmarks/significance.py):
    what the decision engine's noise band is made of."""
    from benchmarks import significance

    by_strategy: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for unit in main:
        if unit.scored:
            by_strategy.setdefault(unit.unit.name, {})[unit.unit.seed] = unit.rows
    if len(by_strategy) < 2:
        return None
    scores = {name: significance.item_scores(rows, metric) for name, rows in by_strategy.items()}
    return {
        "metric": metric,
        "alpha": significance.ALPHA,
        "bootstrap_resamples": significance.BOOTSTRAP_RESAMPLES,
        "bootstrap_seed": significance.BOOTSTRAP_SEED,
        "tests": [test.to_json() for test in significance.all_pairs(scores, metric)],
    }


def _score_meaning(task: Task) -> str:
    """What `score` is on this task, in words (the tables' caption)."""
    if task.spec.is_classification:
        return "accuracy: the share of items whose answer is the reference label"
    if task.spec.score == "token_f1":
        return "token F1 with the reference answer (declining, on out-of-scope items)"
    if task.spec.score == "embedding_similarity":
        return "embedding similarity to the reference (declining, on out-of-scope items)"
    return "fact recall (seen, unseen, drift), style + facts (style), declining (out of scope)"


def _strategy_entry(
    units: list[UnitResult],
    hourly: float,
    aggregate,
    labels: Sequence[str] = (),
    batch_size: int = 1,
) -> dict[str, Any]:
    from benchmarks.latency import cost_figures

    per_seed = [aggregate(u.rows) for u in units]
    kinds = sorted({k for entry in per_seed for k in entry.get("by_kind", {})})
    n_items = len(units[0].rows)
    cost = {
        "train_time_s": _stat([u.prepare["train_time_s"] for u in units])["mean"],
        "prepare_time_s": _stat([u.prepare["prepare_time_s"] for u in units])["mean"],
        "answer_time_s": _stat([u.answer_time_s for u in units])["mean"],
        "peak_memory_mb": round(max(u.peak_memory_mb for u in units), 1),
    }
    # what training left on disk (an adapter, or a whole checkpoint for full_ft)
    saved = [u.prepare["details"].get("saved_mb") for u in units]
    if all(isinstance(mb, int | float) for mb in saved):
        cost["saved_mb"] = round(max(saved), 2)
    overall_per_seed = [entry["overall"] for entry in per_seed]
    classification = None
    if labels:
        from benchmarks.metrics import classification_summary

        summaries = [
            classification_summary(
                [r["reference"] for r in u.rows], [r["predicted"] for r in u.rows], labels
            )
            for u in units
        ]
        for entry, summary in zip(overall_per_seed, summaries, strict=True):
            entry["macro_f1"] = summary["macro_f1"]
        classification = summaries[0] | {"seeds_shown": [units[0].unit.seed]}
    overall = _over_seeds(overall_per_seed)
    for key in ("prompt_tokens", "output_tokens"):
        if key in overall:
            cost[key] = overall[key]["mean"]
    cost.update(cost_figures(units, batch_size))
    # what one query costs at the run's throughput (answering time per answer)
    per_query_s = cost["answer_time_s"] / max(n_items, 1)
    cost["cost_per_1k_queries_usd"] = round(per_query_s * 1000 * hourly / 3600, 5)
    cost["train_cost_usd"] = round(cost["train_time_s"] * hourly / 3600, 5)
    entry = {
        "n_items": n_items,
        "seeds": [u.unit.seed for u in units],
        "scoring": _scoring(units),
        "overall": overall,
        "by_kind": {k: _over_seeds([e["by_kind"].get(k, {}) for e in per_seed]) for k in kinds},
        "cost": cost,
        "prepare": units[0].prepare["details"],
    }
    if classification is not None:
        entry["classification"] = classification
    return entry


def _scoring(units: list[UnitResult]) -> str:
    """How the strategy's answers were produced (generate / likelihood / classifier)."""
    seen = dict.fromkeys(row.get("scoring", "generate") for u in units for row in u.rows)
    return "+".join(seen) or "generate"


def write_scores_csv(path: Path, scores: dict[str, Any]) -> None:
    """One row per strategy and kind (`overall` first), metric means and stds."""
    rows = []
    for name, entry in scores["strategies"].items():
        for kind, metrics in [("overall", entry["overall"]), *entry["by_kind"].items()]:
            row = {"strategy": name, "kind": kind}
            for metric, stat in metrics.items():
                row[metric] = stat["mean"]
                row[f"{metric}_std"] = stat["std"]
            rows.append(row)
    columns = ["strategy", "kind"] + sorted({k for r in rows for k in r} - {"strategy", "kind"})
    with atomic_writer(path, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def write_item_scores(path: Path, results: list[UnitResult]) -> None:
    rows = [
        {"unit": r.unit.key, "strategy": r.unit.name, "seed": r.unit.seed, **row}
        for r in results
        for row in r.rows
    ]
    if not rows:
        return
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with atomic_writer(path, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False)
