"""Who runs a run's units: this process, one after another (`local`), or a Ray cluster (`ray`).

A unit is one strategy × seed × train size × sweep variant (`harness.Unit`). The
harness hands its units to an executor and gets one `UnitResult` per unit back,
in the same order; everything else — the run folder, the lock, resume, scoring,
the report — is the harness's and does not change with the executor.

On Ray each unit that still has items to answer becomes a Ray task. The worker
prepares the strategy (trains, indexes) in the run folder's `strategies/<unit>/`
and returns its answer records and prepare record; the driver is the only
writer of `answers.jsonl`, `prepare.json`, the scores and the manifest, so a run
made on a cluster is read, resumed and reported exactly as a local one. A unit
that reuses another's artefact (`sft+rag` answers with the adapter `sft`
trained) is submitted when that unit has finished; the others run side by side.
A unit whose worker fails or dies is retried once, then reported as failed with
its error; every unit that finished is kept, and running the same command again
retries only what is missing.

Multi-node clusters need advisor installed on every node and the runs folder on
storage every node sees (the workers write the trained adapters there).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.errors import ConfigError

if TYPE_CHECKING:
    from benchmarks.harness import Harness, Unit, UnitResult

EXECUTORS = ("local", "ray")
RAY_INSTALL = "pip install 'advisor[ray]'   (or: pip install 'ray>=2.9')"

# A unit of the first strategy answers with the model a unit of the second trained
# under the same seed, train size and variant: it starts once that one has finished.
REUSES = {"sft+rag": "sft", "full_ft+rag": "full_ft"}


def make_executor(name: str, address: str | None = None, cpus_per_unit: int = 1):
    """The executor `--executor NAME` names; `--ray-address` only goes with ray."""
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor '{name}'", field="--executor", hint="local or ray")
    if name == "local":
        if address:
            raise ConfigError(
                "--ray-address needs --executor ray",
                field="--ray-address",
                hint="add --executor ray",
            )
        return LocalExecutor()
    _import_ray()  # no Ray: the install line now, before any work
    return RayExecutor(address=address, cpus_per_unit=cpus_per_unit)


class LocalExecutor:
    """Every unit in this process, one after another, answers written as they come."""

    name = "local"

    def run(self, harness: Harness, units: Sequence[Unit], done: dict) -> list[UnitResult]:
        results = []
        for n, unit in enumerate(units):
            results.append(harness.run_unit(unit, done))
            harness.release(unit, units[n + 1 :])
        return results


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "the ray executor needs Ray, which is not installed",
            field="--executor",
            hint=f"{RAY_INSTALL}; or run with --executor local",
        ) from None
    return ray


def init_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Join the Ray cluster at `address`, or start a local one (on `num_cpus`
    cores; all of them by default) whose workers import what this process does."""
    ray = _import_ray()
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": "ERROR",
    }
    if address:
        options["address"] = address
    else:
        paths = [p for p in sys.path if p and Path(p).is_dir()]
        options["runtime_env"] = {"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}}
        options["num_cpus"] = num_cpus
    try:
        ray.init(**options)
    except ConnectionError as exc:
        raise ConfigError(
            f"cannot reach the Ray cluster at {address}: {exc}",
            field="--ray-address",
            hint="check the address (`ray status` on the head node), or leave it out to "
            "start a local cluster",
        ) from None


def reused_unit(unit: Unit) -> str | None:
    """The key of the unit whose trained model `unit` answers with, if any."""
    from benchmarks.harness import Unit

    base = REUSES.get(unit.strategy)
    return None if base is None else Unit(base, unit.seed, unit.train_size, unit.variant).key


class RayExecutor:
    """Each unit a Ray task; the driver (this process) writes every result file."""

    name = "ray"

    def __init__(self, address: str | None = None, cpus_per_unit: int = 1) -> None:
        self.address = address
        self.cpus_per_unit = cpus_per_unit
        # (event, unit key) in the order the driver saw them: submitted / finished / failed
        self.events: list[tuple[str, str]] = []

    def _start(self, ray) -> bool:
        """Join the cluster (or start a local one); True when this call started it."""
        if ray.is_initialized():
            return False
        init_ray(self.address)
        return True

    def run(self, harness: Harness, units: Sequence[Unit], done: dict) -> list[UnitResult]:
        ray = _import_ray()
        started = self._start(ray)
        try:
            return self._run(ray, harness, units, done)
        finally:
            if started:
                ray.shutdown()

    def _run(self, ray, harness: Harness, units: Sequence[Unit], done: dict) -> list[UnitResult]:
        from benchmarks.answers import append_answers

        results: dict[str, UnitResult] = {}
        todo = []
        for unit in units:  # what needs no worker: skipped, or finished by an earlier run
            result = harness.skipped(unit) or harness._already_answered(unit, done)
            if result is not None:
                results[unit.key] = result
            else:
                todo.append(unit)
        keys = {unit.key for unit in todo}
        waits_for = {u.key: dep for u in todo if (dep := reused_unit(u)) in keys}
        from strategies.registry import TRAINING

        gpus = ray.cluster_resources().get("GPU", 0)
        task = ray.remote(max_retries=1, retry_exceptions=True)(_unit_on_worker)
        models = ray.put(harness._models) if harness._models is not None else None
        advance = harness.start_phase(f"units on Ray ({len(todo)})", len(todo))
        waiting, running = list(todo), {}
        try:
            while waiting or running:
                ready = [u for u in waiting if waits_for.get(u.key) in (None, *results)]
                for unit in ready:
                    waiting.remove(unit)
                    remaining, records = harness._split_done(unit, done)
                    ref = task.options(
                        num_cpus=self.cpus_per_unit,
                        num_gpus=1 if gpus >= 1 and unit.strategy in TRAINING else 0,
                    ).remote(
                        harness.config,
                        str(harness.run_dir),
                        unit,
                        [item.id for item in remaining],
                        models,
                        harness._device,
                    )
                    running[ref] = (unit, records)
                    self.events.append(("submitted", unit.key))
                (ref,), _ = ray.wait(list(running), num_returns=1)
                unit, records = running.pop(ref)
                try:
                    out = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    cause = getattr(exc, "cause", None)
                    cause = cause if isinstance(cause, BaseException) else exc
                    # error.log gets Ray's text, which carries the worker's traceback
                    results[unit.key] = harness.failed(unit, exc, _ray_error_text(cause))
                    self.events.append(("failed", unit.key))
                else:
                    append_answers(harness.run_dir, out["records"])
                    results[unit.key] = harness.finish_unit(
                        unit,
                        records + out["records"],
                        out["prepare"],
                        out["peak_memory_mb"],
                        out["latency"],
                    )
                    self.events.append(("finished", unit.key))
                advance(1, {})
        except KeyboardInterrupt:  # stop the workers too; what finished is written
            for ref in running:
                ray.cancel(ref, force=True)
            raise
        return [results[unit.key] for unit in units]


def _ray_error_text(exc: BaseException) -> str:
    from benchmarks.harness import _error_text

    text = _error_text(exc)
    if type(exc).__module__.startswith("ray"):  # a worker that died: Ray's first line says why
        text = f"{type(exc).__name__}: " + (str(exc).strip().splitlines() or ["(no message)"])[0]
    return text[:300]


def _unit_on_worker(
    config: Any,
    run_dir: str,
    unit: Unit,
    item_ids: list[str],
    models: Any,
    device: Any,
) -> dict[str, Any]:
    """On a Ray worker: prepare the unit's strategy and answer its remaining items.

    Loads the task and models as the driver did (from the same config), trains
    into the run folder's `strategies/<unit>/`, and returns the answer records
    for the driver to write; writes no result file itself."""
    import torch

    from benchmarks.harness import Harness

    harness = Harness(config, models=models, device=device, resume=False)
    harness._setup()
    try:
        import ray

        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
    except Exception:  # outside Ray (a test calling it directly)
        cpus = None
    if cpus:
        torch.set_num_threads(max(1, int(cpus)))
    harness.run_dir = Path(run_dir)
    wanted = set(item_ids)
    items = [item for item in harness.items if item.id in wanted]
    records, prepare, peak, latency = harness.compute_unit(unit, items, lambda chunk: None)
    harness.release(unit, [])  # the worker process lives on: leave it lean
    return {"records": records, "prepare": prepare, "peak_memory_mb": peak, "latency": latency}
