"""Run folders as a user works with them: find, summarise, compare, remove.

Everything here reads the files a run wrote (manifest.json, config.yaml,
scores.json, answers.jsonl) and nothing else: no model, no torch, so
`advisor runs` answers at once. `advisor runs` (advisor/cli/runs.py) prints
what these functions return.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorError
from benchmarks import lock
from benchmarks import manifest as mf
from benchmarks.answers import read_answers_file

STATUSES = ("complete", "unfinished", "failed", "running", "damaged")
SORT_KEYS = ("date", "task", "score", "status", "id")


class RunError(AdvisorError):
    """A run folder that cannot be found or read."""


DAMAGED_HINT = "the file was edited or damaged; `advisor runs rm` removes the run"


@dataclass(frozen=True)
class RunSummary:
    """One line of `advisor runs list`."""

    id: str
    path: str
    created: str | None
    task: str | None
    strategies: list[str]
    seeds: list[int]
    device: str | None
    dtype: str | None
    status: str
    best: str | None = None  # the best-scoring strategy
    score: float | None = None  # its primary score (mean over seeds)
    config_hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Run:
    """Everything a run folder holds that `show` and `diff` need."""

    path: Path
    manifest: dict[str, Any]
    config: dict[str, Any] | None
    scores: dict[str, Any] | None
    answers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.manifest.get("run_id") or self.path.name)


# ---------------------------------------------------------------- finding runs


def run_folders(runs_dir: Path) -> list[Path]:
    """Every folder under `runs_dir` that looks like a run (has a manifest.json,
    readable or not), oldest first (folder names start with their time)."""
    if not runs_dir.is_dir():
        return []
    return sorted(p for p in runs_dir.iterdir() if (p / mf.MANIFEST).is_file())


def resolve_run(runs_dir: Path, ref: str) -> Path:
    """A run folder from a path, a unique prefix of its id, or a prefix of its
    hash; an unknown or ambiguous reference names the candidates."""
    as_path = Path(ref)
    if as_path.is_dir() and ((as_path / mf.MANIFEST).is_file() or as_path.parent != runs_dir):
        if not (as_path / mf.MANIFEST).is_file():
            raise RunError("not a run folder (no manifest.json)", file=as_path)
        return as_path
    folders = run_folders(runs_dir)
    matches = [p for p in folders if p.name.startswith(ref)]
    if not matches:
        matches = [p for p in folders if p.name.rsplit("-", 1)[-1].startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        newest = ", ".join(p.name for p in folders[-5:]) or "none"
        raise RunError(
            f"no run matches '{ref}'",
            file=runs_dir,
            hint=f"the newest runs here: {newest}; `advisor runs list` shows them all",
        )
    raise RunError(
        f"'{ref}' matches {len(matches)} runs: {', '.join(p.name for p in matches)}",
        file=runs_dir,
        hint="give more of the id",
    )


# ---------------------------------------------------------------- reading one run


_KINDS = {dict: "an object", list: "a list", str: "text"}
MANIFEST_FIELDS: dict[str, type] = {
    "run_id": str,
    "status": str,
    "created": str,
    "config_hash": str,
    "task": dict,
    "model": dict,
    "device": dict,
    "platform": dict,
    "git": dict,
    "versions": dict,
    "identity": dict,
    "strategies": list,
    "seeds": list,
}
"""What `advisor runs` reads from a manifest, and the type each must have."""


def manifest_problem(manifest: dict[str, Any]) -> tuple[str, str] | None:
    """(field, what is wrong) for the first field of a manifest with the wrong type."""
    for key, kind in MANIFEST_FIELDS.items():
        value = manifest.get(key)
        if value is not None and not isinstance(value, kind):
            return key, f"expected {_KINDS[kind]}, got {type(value).__name__}"
    return None


def scores_problem(scores: dict[str, Any]) -> tuple[str, str] | None:
    """(field, what is wrong) where scores.json does not have the shape a run writes."""
    strategies = scores.get("strategies") or {}
    if not isinstance(strategies, dict):
        return "strategies", f"expected an object, got {type(strategies).__name__}"
    for name, entry in strategies.items():
        where = f"strategies.{name}"
        if not isinstance(entry, dict):
            return where, f"expected an object, got {type(entry).__name__}"
        for part in ("overall", "by_kind"):
            if part not in entry:
                return f"{where}.{part}", "missing"
        for part in ("overall", "by_kind", "cost"):
            value = entry.get(part, {})
            if not isinstance(value, dict):
                return f"{where}.{part}", f"expected an object, got {type(value).__name__}"
        groups = {"overall": entry.get("overall", {})}
        groups.update({f"by_kind.{k}": v for k, v in entry.get("by_kind", {}).items()})
        for part, group in groups.items():
            if not isinstance(group, dict):
                return f"{where}.{part}", f"expected an object, got {type(group).__name__}"
            for metric, stat in group.items():
                if not isinstance(stat, dict) or not _is_number(stat.get("mean")):
                    return f"{where}.{part}.{metric}", 'expected {"mean": a number, ...}'
    for key in ("not_scored", "learning_curve"):
        value = scores.get(key, {})
        if not isinstance(value, dict):
            return key, f"expected an object, got {type(value).__name__}"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def load_run(path: Path, *, answers: bool = False) -> Run:
    """A run folder's files; a missing or damaged manifest, or a scores.json not
    in the shape a run writes, is a `RunError` naming the file and field."""
    manifest = mf.read_manifest(path)
    if manifest is None:
        raise RunError(
            "manifest.json is missing or damaged: not a readable run",
            file=path / mf.MANIFEST,
            hint="`advisor runs rm` removes it",
        )
    problem = manifest_problem(manifest)
    if problem is not None:
        raise RunError(problem[1], file=path / mf.MANIFEST, field=problem[0], hint=DAMAGED_HINT)
    scores = read_scores(path)
    problem = scores_problem(scores) if scores is not None else None
    if problem is not None:
        raise RunError(problem[1], file=path / "scores.json", field=problem[0], hint=DAMAGED_HINT)
    run = Run(path, manifest, mf.read_config(path), scores)
    if answers:
        run.answers = read_answers_file(path).records
    return run


def read_scores(path: Path) -> dict[str, Any] | None:
    """scores.json, or None where the run has not written it (or it is damaged)."""
    try:
        data = json.loads((path / "scores.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def status_of(path: Path, manifest: dict[str, Any] | None) -> str:
    """complete / failed (a strategy failed; the same command retries it) /
    running (a live process holds the lock) / unfinished / damaged."""
    if manifest is None:
        return "damaged"
    recorded = manifest.get("status")
    holder = lock.read_holder(path)
    if recorded != "complete" and holder is not None and not lock.is_stale(holder):
        return "running"
    if recorded in ("complete", "failed"):
        return recorded
    return "unfinished"


def best_strategy(scores: dict[str, Any] | None) -> tuple[str | None, float | None]:
    """The strategy with the highest primary score, and that score."""
    if not scores:
        return None, None
    ranked = [
        (entry["overall"]["score"]["mean"], name)
        for name, entry in (scores.get("strategies") or {}).items()
        if isinstance(entry, dict) and "score" in entry.get("overall", {})
    ]
    if not ranked:
        return None, None
    score, name = max(ranked)
    return name, score


def summarise_run(path: Path) -> RunSummary:
    """The `list` line of one run folder, from whatever it holds."""
    manifest = mf.read_manifest(path)
    if manifest is not None and manifest_problem(manifest) is not None:
        manifest = None  # listed as damaged: `advisor runs show` says what is wrong
    status = status_of(path, manifest)
    if manifest is None:
        return RunSummary(path.name, str(path), None, None, [], [], None, None, status)
    scores = read_scores(path)
    best, score = best_strategy(scores if scores and scores_problem(scores) is None else None)
    device = manifest.get("device") or {}
    return RunSummary(
        id=path.name,
        path=str(path),
        created=manifest.get("created"),
        task=(manifest.get("task") or {}).get("name"),
        strategies=list(manifest.get("strategies") or []),
        seeds=list(manifest.get("seeds") or []),
        device=device.get("device"),
        dtype=device.get("dtype"),
        status=status,
        best=best,
        score=score,
        config_hash=manifest.get("config_hash"),
    )


def list_runs(runs_dir: Path, sort: str = "date") -> list[RunSummary]:
    """Every run under `runs_dir`, newest first for dates, best first for scores."""
    if sort not in SORT_KEYS:
        raise RunError(
            f"unknown sort key '{sort}'", field="--sort", hint=f"one of {', '.join(SORT_KEYS)}"
        )
    if runs_dir.exists() and not runs_dir.is_dir():
        raise RunError(
            "expected a runs folder, found a file",
            file=runs_dir,
            hint="pass the folder `advisor compare --runs-dir` wrote to",
        )
    runs = [summarise_run(p) for p in run_folders(runs_dir)]
    keys = {
        "date": (lambda r: r.created or "", True),
        "id": (lambda r: r.id, False),
        "task": (lambda r: (r.task or "", r.created or ""), False),
        "score": (lambda r: (r.score is not None, r.score or 0.0), True),
        "status": (lambda r: (STATUSES.index(r.status), r.created or ""), False),
    }
    key, reverse = keys[sort]
    return sorted(runs, key=key, reverse=reverse)


# ---------------------------------------------------------------- comparing two runs


def machine_of(manifest: dict[str, Any]) -> dict[str, Any]:
    """What says which machine a run ran on."""
    device = manifest.get("device") or {}
    platform = manifest.get("platform") or {}
    return {
        "device": device.get("device"),
        "dtype": device.get("dtype"),
        "device name": device.get("name"),
        "native bf16": device.get("native_bf16"),
        "system": platform.get("system"),
        "arch": platform.get("machine"),
    }


def _changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def _primary_scores(scores: dict[str, Any] | None) -> dict[str, float]:
    """{"rag": 0.71, "rag · seen": 0.8, ...}: the primary score overall and per kind."""
    out: dict[str, float] = {}
    for name, entry in ((scores or {}).get("strategies") or {}).items():
        overall = entry.get("overall", {}).get("score")
        if overall:
            out[name] = overall["mean"]
        for kind, metrics in sorted(entry.get("by_kind", {}).items()):
            if "score" in metrics:
                out[f"{name} · {kind}"] = metrics["score"]["mean"]
    return out


def _answer_changes(a: Run, b: Run) -> list[dict[str, Any]]:
    """Items answered in both runs whose answer text differs, in A's order."""
    changes = []
    for key, record in a.answers.items():
        other = b.answers.get(key)
        if other is not None and other["answer"] != record["answer"]:
            changes.append(
                {
                    "unit": key[0],
                    "id": key[1],
                    "question": record.get("question"),
                    "a": record["answer"],
                    "b": other["answer"],
                }
            )
    return changes


def likely_causes(diff: dict[str, Any]) -> list[str]:
    """Why two runs' answers differ, most likely first, in words."""
    causes = []
    machine = diff["machine"]
    if "dtype" in machine or "device" in machine:
        what = ", ".join(
            f"{k} {v[0]} vs {v[1]}" for k, v in machine.items() if k in ("device", "dtype")
        )
        causes.append(f"a different device or dtype ({what}): greedy answers change with precision")
    elif machine:
        causes.append("a different machine (" + ", ".join(machine) + " differ)")
    if diff["versions"]:
        causes.append("different package versions (" + ", ".join(diff["versions"]) + ")")
    if diff["config"]:
        causes.append(f"{len(diff['config'])} config setting(s) differ")
    for key in ("task", "model"):
        if diff["hashes"].get(f"{key} hash"):
            causes.append(f"a different {key} (its content hash differs)")
    if diff["git"]:
        causes.append("different code (git commit or uncommitted changes)")
    return causes


def diff_runs(a: Run, b: Run) -> dict[str, Any]:
    """What differs between two runs: inputs first (config, versions, machine,
    task and model hashes, code), then the results (scores, answers)."""
    config_a = mf.flatten(mf.hashed_config(a.config or {}))
    config_b = mf.flatten(mf.hashed_config(b.config or {}))
    scores_a, scores_b = _primary_scores(a.scores), _primary_scores(b.scores)
    diff: dict[str, Any] = {
        "a": a.id,
        "b": b.id,
        "config": _changed(config_a, config_b),
        "versions": _changed(a.manifest.get("versions") or {}, b.manifest.get("versions") or {}),
        "machine": _changed(machine_of(a.manifest), machine_of(b.manifest)),
        "hashes": {
            key: [x, y]
            for key, x, y in (
                ("task hash", _task_hash(a), _task_hash(b)),
                ("model hash", _model_hash(a), _model_hash(b)),
                ("run hash", a.manifest.get("config_hash"), b.manifest.get("config_hash")),
            )
            if x != y
        },
        "git": _changed(a.manifest.get("git") or {}, b.manifest.get("git") or {}),
        "scores": {
            key: [scores_a.get(key), scores_b.get(key)]
            for key in dict.fromkeys([*scores_a, *scores_b])
        },
        "answers_changed": _answer_changes(a, b),
        "answers_compared": len(set(a.answers) & set(b.answers)),
    }
    diff["likely_causes"] = likely_causes(diff)
    return diff


def _task_hash(run: Run) -> str | None:
    return (run.manifest.get("task") or {}).get("content_hash")


def _model_hash(run: Run) -> str | None:
    return (run.manifest.get("model") or {}).get("sha256")


# ---------------------------------------------------------------- verifying


def verify_runs(original: Run, again: Run) -> dict[str, Any]:
    """Did a re-run of `original` from its own config give the same run? Per strategy
    unit: its items, how many were answered again, how many answers are identical
    (the text, not the timings); then the scores side by side, as `diff_runs` gives
    them. `identical` is the verdict: every answer and every score the same."""
    diff = diff_runs(original, again)
    changed: dict[str, list[str]] = {}
    for change in diff["answers_changed"]:
        changed.setdefault(change["unit"], []).append(change["id"])
    units = []
    for unit in dict.fromkeys(key[0] for key in original.answers):
        keys = [key for key in original.answers if key[0] == unit]
        answered = sum(key in again.answers for key in keys)
        differ = changed.get(unit, [])
        units.append(
            {
                "unit": unit,
                "items": len(keys),
                "answered_again": answered,
                "identical": answered - len(differ),
                "differ": differ,
            }
        )
    answers_same = all(u["identical"] == u["items"] for u in units)
    scores_same = all(a is not None and a == b for a, b in diff["scores"].values())
    same = answers_same and scores_same
    return {
        "original": original.id,
        "again": again.id,
        "units": units,
        "scores": diff["scores"],
        "identical": same,
        "likely_causes": [] if same else diff["likely_causes"],
    }


# ---------------------------------------------------------------- removing


def remove_run(path: Path) -> None:
    """Delete a run folder, unless a live process is writing it."""
    holder = lock.read_holder(path)
    if holder is not None and not lock.is_stale(holder):
        raise RunError(
            f"a run being written cannot be removed: locked by {holder.describe()}",
            file=path / lock.LOCK,
            hint="stop that process first",
        )
    shutil.rmtree(path)
