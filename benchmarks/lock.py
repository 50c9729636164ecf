"""One writer per run folder: a lock file holding the writer's pid and host.

Two `advisor compare` processes started with the same command would otherwise
pick the same unfinished run and append to one answers file. The lock is a
plain file (`run.lock`, JSON) so a user can see who holds it; a lock whose pid
is gone on this host is stale (the process was killed) and is taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorError
from advisor.fileio import pid_alive

LOCK = "run.lock"


@dataclass(frozen=True)
class Holder:
    """Who holds a run folder's lock."""

    pid: int
    host: str
    started: str | None = None

    @classmethod
    def me(cls) -> Holder:
        from benchmarks.manifest import now_iso

        return cls(os.getpid(), socket.gethostname(), now_iso())

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "host": self.host, "started": self.started}

    def describe(self) -> str:
        since = f" since {self.started}" if self.started else ""
        return f"process {self.pid} on {self.host}{since}"


def read_holder(run_dir: Path) -> Holder | None:
    """The lock's holder, or None where there is no lock. An unreadable lock
    (torn by a kill while it was written) reads as held by pid 0: dead."""
    try:
        data = json.loads((run_dir / LOCK).read_text(encoding="utf-8"))
        return Holder(int(data["pid"]), str(data["host"]), data.get("started"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return Holder(0, socket.gethostname())


def is_stale(holder: Holder) -> bool:
    """A lock from this host whose process is gone. A lock from another host
    (a shared file system) cannot be checked from here, so it is never stale."""
    return holder.host == socket.gethostname() and not pid_alive(holder.pid)


@contextlib.contextmanager
def _guarded(run_dir: Path) -> Iterator[None]:
    """Serialise the check-and-take of the lock between processes on this host,
    so two processes that both find a stale lock cannot both take it over."""
    try:
        import fcntl
    except ImportError:  # Windows: no guard; O_EXCL alone still excludes fresh locks
        yield
        return
    # the folder itself is the guard: nothing to create, nothing left behind
    descriptor = os.open(run_dir, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the flock


def acquire(run_dir: Path) -> Holder:
    """Take the run folder's lock, or raise `AdvisorError` naming who holds it."""
    me = Holder.me()
    with _guarded(run_dir):
        holder = read_holder(run_dir)
        if holder is not None and holder.pid == me.pid and holder.host == me.host:
            raise _held(run_dir, holder, "this process already writes this run")
        if holder is not None and not is_stale(holder):
            raise _held(run_dir, holder, "another advisor is writing this run")
        try:
            if holder is not None:
                (run_dir / LOCK).unlink(missing_ok=True)
            descriptor = os.open(run_dir / LOCK, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with open(descriptor, "w", encoding="utf-8") as handle:
                json.dump(me.to_dict(), handle)
        except FileExistsError:  # a process without the guard (Windows) won the race
            raise _held(
                run_dir, read_holder(run_dir) or me, "another advisor is writing this run"
            ) from None
        except OSError as exc:
            with contextlib.suppress(OSError):
                (run_dir / LOCK).unlink(missing_ok=True)
            raise AdvisorError(
                f"cannot write the lock file ({exc.strerror or exc})",
                file=run_dir / LOCK,
                hint="the runs folder must be writable",
            ) from None
    return me


def release(run_dir: Path, holder: Holder) -> None:
    """Remove the lock if it is still ours (never another process's)."""
    if read_holder(run_dir) == holder:
        (run_dir / LOCK).unlink(missing_ok=True)


def _held(run_dir: Path, holder: Holder, why: str) -> AdvisorError:
    return AdvisorError(
        f"{why}: locked by {holder.describe()}",
        file=run_dir / LOCK,
        hint="wait for it to finish, or use --fresh to start a new run; if that process "
        "is gone (another machine), delete the lock file",
    )


@contextlib.contextmanager
def locked(run_dir: Path) -> Iterator[Holder]:
    """Hold the run folder's lock for the block, whatever ends it."""
    holder = acquire(run_dir)
    try:
        yield holder
    finally:
        release(run_dir, holder)
