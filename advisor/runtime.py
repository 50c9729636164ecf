"""Device, dtype, seeds and memory: the few facts about the machine a run records.

Imports of torch happen inside functions so the CLI stays light.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import resource
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DeviceInfo:
    """Where the model runs and in which precision."""

    device: str  # "cpu" or "cuda:0"
    dtype: str  # "float32" or "bfloat16"
    name: str  # CPU model or GPU name
    threads: int
    native_bf16: bool

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    def to_dict(self) -> dict:
        return asdict(self)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_bf16_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The CPU's flags for native bf16 (`avx512_bf16`, `amx_bf16`) that /proc/cpuinfo lists."""
    try:
        flags = set(cpuinfo.read_text().split())
    except OSError:
        return []
    return [flag for flag in BF16_FLAGS if flag in flags]


def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bf16 natively (AVX512-BF16 or AMX on x86).

    Without it, torch emulates bf16 on the CPU and it is slower than fp32, so
    `dtype=auto` only picks bf16 where this holds.
    """
    return bool(cpu_bf16_flags())


def pick_device(device: str = "auto", dtype: str = "auto", threads: int = 0) -> DeviceInfo:
    """Resolve `auto` to CUDA when present, else CPU; bf16 where it is native."""
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    if device == "auto":
        from strategies.distributed import local_device

        # under a multi-GPU launch each process trains on its own card
        device = local_device() or ("cuda:0" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            from advisor.errors import ConfigError

            raise ConfigError(
                "CUDA was asked for but no GPU is visible",
                field="model.device",
                hint="use model.device=auto or cpu",
            )
        if device == "cuda":
            device = "cuda:0"
        name = torch.cuda.get_device_name(torch.device(device))
        native = torch.cuda.is_bf16_supported()
    else:
        name = cpu_name()
        native = cpu_has_native_bf16()
    if dtype == "auto":
        dtype = "bfloat16" if native else "float32"
    return DeviceInfo(
        device=device, dtype=dtype, name=name, threads=torch.get_num_threads(), native_bf16=native
    )


def torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[name]


def set_seed(seed: int) -> int:
    """Seed every generator we use (python, numpy, torch) and return the seed."""
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import numpy as np

        np.random.seed(seed % (2**32))
    except ImportError:
        pass
    import torch

    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return seed


def peak_memory_mb(device: DeviceInfo | None = None) -> float:
    """Peak resident memory of this process (CPU) or peak allocated (GPU), in MB."""
    if device is not None and device.is_cuda:
        import torch

        return torch.cuda.max_memory_allocated(torch.device(device.device)) / 2**20
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return usage / 2**20 if sys.platform == "darwin" else usage / 1024


def current_memory_mb() -> float:
    """Resident memory now (Linux), for per-phase deltas; falls back to the peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_memory_mb()


# glibc's mallopt parameter; the size from which each allocation gets its own mapping
# while training, and after (glibc's own ceiling for its moving threshold on 64 bits)
M_MMAP_THRESHOLD = -3
HEAP_MMAP_THRESHOLD = 1 << 20
HEAP_MMAP_THRESHOLD_AFTER = 32 << 20


@contextlib.contextmanager
def lean_heap() -> Iterator[bool]:
    """While active, every allocation of 1 MiB or more is its own memory mapping
    (glibc), returned to the system the moment it is freed; yields True when set.

    glibc serves large blocks from its heap once a freed block has raised its
    mmap threshold (dynamically, up to 32 MiB), and keeps freed heap memory for
    reuse: a training step's activations, freed, stay resident, and the next
    step's, shaped differently, fragment around them. Measured on the banking
    task (2-core CPU, docs/training.md): cpt's checkpointed step 3.31 -> 1.60 GB
    peak, SFT's 3.15 -> 2.92 GB, no slower; with the micro-batches the standard
    profile trains in now, only 1-3% off the peak. Answering is another matter: a fresh
    mapping and its page faults for every step's logits made generation 7-13%
    slower, so the training loop turns it on and leaves 32 MiB (glibc's own
    ceiling) after. Left alone where the user set it (`MALLOC_MMAP_THRESHOLD_`,
    or `GLIBC_TUNABLES` naming it) and off glibc.
    """
    on = _set_mmap_threshold(HEAP_MMAP_THRESHOLD)
    try:
        yield on
    finally:
        if on:
            _set_mmap_threshold(HEAP_MMAP_THRESHOLD_AFTER)


def _set_mmap_threshold(size: int) -> bool:
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "mmap_threshold" in os.environ.get(
        "GLIBC_TUNABLES", ""
    ):
        return False
    libc = _glibc()
    mallopt = getattr(libc, "mallopt", None) if libc is not None else None
    return bool(mallopt(M_MMAP_THRESHOLD, size)) if mallopt is not None else False


def _glibc() -> Any:
    """The C library on Linux (ctypes), or None elsewhere or when it will not load."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def release_memory() -> None:
    """Hand what the process freed back to the system, between units of a run.

    Collects reference cycles (a peft-wrapped model holds some), empties the
    CUDA cache, and on Linux asks glibc to return free heap pages (`malloc_trim`):
    the gigabytes a training step's activations took stay in glibc's arenas
    after they are freed, so without it the resident memory of a long run only
    ever grows.
    """
    import gc

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
    libc = _glibc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    if trim is not None:  # glibc (musl has none): nothing to trim otherwise
        trim(0)
