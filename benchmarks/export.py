"""`advisor runs export`: a finished run folder in another tool's format.

One exporter per format behind one small table (`EXPORTERS`), like the
strategies'. MLflow is the first: teams that already track experiments there
see advisor runs next to their own. MLflow is an optional extra, imported only
when an export runs.

MLflow layout: one MLflow run per advisor run, in an experiment named after the
task (`advisor-<task>`). One run rather than a parent with a child per
strategy: an advisor run is one comparison — a single config, hash, device and
report — and one MLflow run keeps that identity whole (`advisor runs` ids map
1:1 to MLflow runs, the report belongs to exactly one of them), while the
`<strategy>.<kind>.<metric>` names still let the MLflow UI chart strategies
side by side. Metric names MLflow refuses (`sft+rag`) are spelt with `_`.

    params     the resolved config, flattened (`sft.lora.r`), as `advisor runs diff` keys it
    metrics    <strategy>.<kind>.<metric>    mean over seeds (kind: overall, seen, unseen, ...)
               <strategy>.<kind>.<metric>_std  when there are several seeds
               <strategy>.cost.<name>        train time, peak memory, cost per 1k queries, ...
               learning_curve.<strategy>.<metric>, step = training examples
    tags       advisor.run_id, advisor.config_hash, advisor.status, advisor.task, advisor.device,
               advisor.dtype, advisor.git_commit, advisor.git_dirty, advisor.version.<package>,
               advisor.export_digest (what was exported: a changed run is exported again)
    artifacts  report.md, report.html, plots/, scores.json, scores.csv, item_scores.csv,
               answers.jsonl, config.yaml, manifest.json
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks import manifest as mf
from benchmarks.runs import Run, RunError, status_of

ARTIFACTS = (
    "report.md",
    "report.html",
    "plots",
    "scores.json",
    "scores.csv",
    "item_scores.csv",
    "answers.jsonl",
    "config.yaml",
    "manifest.json",
)
MLFLOW_STATUS = {"complete": "FINISHED", "failed": "FAILED"}  # anything else: KILLED
_NOT_A_NAME = re.compile(r"[^\w.\-:/ ]")  # what MLflow allows in metric and param names
_BATCH = 100  # MLflow takes at most 100 params (and 1000 metrics) per call


@dataclass(frozen=True)
class Exported:
    """Where an export went and what it wrote."""

    destination: str  # the tracking URI
    experiment: str
    run_id: str  # the MLflow run id
    params: int
    metrics: int
    artifacts: list[str]
    replaced: str | None = None  # an earlier export of the same run, now deleted
    unchanged: bool = False  # exported before, exactly as it is now: nothing written

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def export_run(run: Run, fmt: str, to: str, *, experiment: str | None = None) -> Exported:
    """Export `run` in format `fmt` to `to` (a folder or a URI)."""
    if fmt not in EXPORTERS:
        raise RunError(f"unknown export format '{fmt}'", hint=f"one of: {', '.join(EXPORTERS)}")
    if run.scores is None:
        raise RunError(
            "the run has no scores yet: only a scored run can be exported",
            file=run.path,
            hint=f"finish it first: advisor compare --resume {run.path}",
        )
    return EXPORTERS[fmt](run, to, experiment=experiment)


# ---------------------------------------------------------------- what an MLflow run holds


def mlflow_name(name: str) -> str:
    """`name` in the characters MLflow allows (`sft+rag.overall.score` → `sft_rag...`)."""
    return _NOT_A_NAME.sub("_", name)


def run_params(run: Run) -> dict[str, str]:
    """The resolved config, flattened; lists and None as their YAML-ish text."""
    flat = mf.flatten(run.config or {})
    return {mlflow_name(key): _text(value)[:6000] for key, value in flat.items()}


def run_metrics(scores: dict[str, Any]) -> list[tuple[str, float, int]]:
    """(name, value, step) for every number in scores.json worth charting."""
    out: list[tuple[str, float, int]] = []
    for strategy, entry in (scores.get("strategies") or {}).items():
        kinds = {"overall": entry.get("overall") or {}, **(entry.get("by_kind") or {})}
        for kind, metrics in kinds.items():
            out += _stat_metrics(f"{strategy}.{kind}", metrics, step=0)
        for name, value in (entry.get("cost") or {}).items():
            if _is_number(value):
                out.append((mlflow_name(f"{strategy}.cost.{name}"), float(value), 0))
    for strategy, sizes in (scores.get("learning_curve") or {}).items():
        for entry in sizes.values():
            step = entry.get("train_examples")
            if _is_number(step):
                out += _stat_metrics(f"learning_curve.{strategy}", entry["overall"], int(step))
    return out


def _stat_metrics(prefix: str, metrics: dict[str, Any], step: int) -> list[tuple[str, float, int]]:
    out = []
    for metric, stat in metrics.items():
        if not isinstance(stat, dict) or not _is_number(stat.get("mean")):
            continue
        out.append((mlflow_name(f"{prefix}.{metric}"), float(stat["mean"]), step))
        if int(stat.get("n", 1)) > 1 and _is_number(stat.get("std")):
            out.append((mlflow_name(f"{prefix}.{metric}_std"), float(stat["std"]), step))
    return out


def run_tags(run: Run) -> dict[str, str]:
    manifest = run.manifest
    device = manifest.get("device") or {}
    git = manifest.get("git") or {}
    tags = {
        "mlflow.runName": run.id,
        "mlflow.source.name": "advisor compare",
        "advisor.run_id": run.id,
        "advisor.path": str(run.path),
        "advisor.config_hash": _text(manifest.get("config_hash")),
        "advisor.status": status_of(run.path, manifest),
        "advisor.task": _text((manifest.get("task") or {}).get("name")),
        "advisor.task_hash": _text((manifest.get("task") or {}).get("content_hash")),
        "advisor.model": _text((manifest.get("model") or {}).get("generator")),
        "advisor.model_hash": _text((manifest.get("model") or {}).get("sha256")),
        "advisor.device": _text(device.get("device")),
        "advisor.device_name": _text(device.get("name")),
        "advisor.dtype": _text(device.get("dtype")),
        "advisor.command": _text(manifest.get("command")),
        "advisor.export_digest": export_digest(run),
    }
    if git.get("commit"):
        tags["mlflow.source.git.commit"] = str(git["commit"])
        tags["advisor.git_commit"] = str(git["commit"])
        tags["advisor.git_dirty"] = _text(git.get("dirty"))
    for package, version in (manifest.get("versions") or {}).items():
        tags[mlflow_name(f"advisor.version.{package}")] = _text(version)
    return tags


def export_digest(run: Run) -> str:
    """A hash of the files an export carries: the same digest, nothing to export again."""
    digest = hashlib.sha256()
    for path in _artifact_files(run.path):
        digest.update(str(path.relative_to(run.path)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _artifact_files(run_dir: Path) -> list[Path]:
    files = []
    for name in ARTIFACTS:
        path = run_dir / name
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            files.append(path)
    return files


# ---------------------------------------------------------------- MLflow


def export_mlflow(run: Run, to: str, *, experiment: str | None = None) -> Exported:
    """Write `run` into the MLflow tracking store at `to` as one MLflow run.

    `to` is a folder (a local file store, made if missing) or a tracking URI. A run
    exported before is found by its `advisor.run_id` tag: left alone when its files
    have not changed since, else deleted and exported again."""
    uri = tracking_uri(to)
    with _file_store_allowed():
        client, entities = _mlflow_client(uri)
        name = experiment or f"advisor-{(run.manifest.get('task') or {}).get('name', 'run')}"
        found = client.get_experiment_by_name(name)
        experiment_id = found.experiment_id if found else client.create_experiment(name)
        tags, params = run_tags(run), run_params(run)
        metrics = run_metrics(run.scores or {})
        earlier = client.search_runs(
            [experiment_id], filter_string=f"tags.`advisor.run_id` = '{run.id}'"
        )
        for old in earlier:
            if old.data.tags.get("advisor.export_digest") == tags["advisor.export_digest"]:
                return Exported(
                    uri, name, old.info.run_id, len(params), len(metrics), [], unchanged=True
                )
        for old in earlier:
            client.delete_run(old.info.run_id)
        started = _millis(run.manifest.get("created"))
        # the digest goes on last: an export cut short has none and is redone
        digest = tags.pop("advisor.export_digest")
        mlflow_run = client.create_run(experiment_id, start_time=started, tags=tags)
        run_id = mlflow_run.info.run_id
        stamp = _millis(run.manifest.get("finished")) or started or 0
        param_items = [entities.Param(k, v) for k, v in params.items()]
        metric_items = [entities.Metric(k, v, stamp, step) for k, v, step in metrics]
        for start in range(0, max(len(param_items), len(metric_items)), _BATCH):
            client.log_batch(
                run_id,
                metrics=metric_items[start : start + _BATCH],
                params=param_items[start : start + _BATCH],
            )
        artifacts = []
        for artifact in ARTIFACTS:
            path = run.path / artifact
            if path.is_dir():
                client.log_artifacts(run_id, str(path), artifact_path=artifact)
                artifacts.append(f"{artifact}/")
            elif path.is_file():
                client.log_artifact(run_id, str(path))
                artifacts.append(artifact)
        status = MLFLOW_STATUS.get(tags["advisor.status"], "KILLED")
        client.set_terminated(run_id, status, end_time=_millis(run.manifest.get("finished")))
        client.set_tag(run_id, "advisor.export_digest", digest)
    replaced = earlier[0].info.run_id if earlier else None
    return Exported(uri, name, run_id, len(params), len(metrics), artifacts, replaced=replaced)


def tracking_uri(to: str) -> str:
    """A folder becomes a `file:` URI (absolute: MLflow resolves relative ones
    against wherever it runs later); a URI (`file:`, `sqlite:`, `http:`) stays."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", to) and not re.match(r"^[a-zA-Z]:[\\/]", to):
        return to
    return Path(to).expanduser().resolve().as_uri()


def _mlflow_client(uri: str) -> tuple[Any, Any]:
    try:
        import mlflow.entities as entities
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise RunError("MLflow is not installed: pip install 'advisor[mlflow]'") from None
    return MlflowClient(tracking_uri=uri), entities


@contextlib.contextmanager
def _file_store_allowed() -> Iterator[None]:
    """MLflow 3 refuses its file store unless told; a folder was asked for here."""
    before = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = before


def _millis(stamp: Any) -> int | None:
    """An ISO time from the manifest in milliseconds since the epoch (MLflow's unit)."""
    if not isinstance(stamp, str):
        return None
    try:
        return int(datetime.fromisoformat(stamp).timestamp() * 1000)
    except ValueError:
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) if value else "[]"
    return str(value)


EXPORTERS: dict[str, Callable[..., Exported]] = {"mlflow": export_mlflow}
