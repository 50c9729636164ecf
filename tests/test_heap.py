"""`advisor.runtime.lean_heap`: while training, large blocks freed go back to the system (glibc)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="glibc's mallopt",
)

# After a large block has been freed, glibc serves the next large blocks from its
# heap; each one followed by a block kept alive, the freed ones stay resident.
PROBE = textwrap.dedent(
    """
    import contextlib, ctypes, sys
    from advisor.runtime import current_memory_mb, lean_heap
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]

    def held_after_freeing():
        libc.free(libc.malloc(8 << 20))
        before = current_memory_mb()
        blocks, pins = [], []
        for _ in range(50):
            block = libc.malloc(2 << 20)
            ctypes.memset(block, 1, 2 << 20)
            blocks.append(block)
            pins.append(libc.malloc(200 << 10))
        for block in blocks:
            libc.free(block)
        return round(current_memory_mb() - before)

    with lean_heap() if sys.argv[1] == "lean" else contextlib.nullcontext("-") as on:
        print(on, held_after_freeing())
    print(held_after_freeing())  # after: glibc's 32 MiB threshold, 2 MiB blocks in the heap
    """
)


def probe(mode: str, **env: str) -> tuple[str, float, float]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    ).stdout.split()
    return out[0], float(out[1]), float(out[2])


def test_freed_large_blocks_leave_the_process_while_the_heap_is_lean():
    flag, held_plain, _ = probe("plain")
    assert held_plain >= 80  # 100 MB freed, kept by glibc's heap
    flag, held_lean, held_after = probe("lean")
    assert flag == "True"
    assert held_lean < 10  # each block was its own mapping, gone when freed
    assert held_after >= 80  # afterwards, the heap serves them again (generation is faster so)


def test_a_threshold_the_user_set_is_left_alone():
    flag, _, _ = probe("lean", MALLOC_MMAP_THRESHOLD_="65536")
    assert flag == "False"
