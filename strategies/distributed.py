"""Data-parallel training under `accelerate launch` (DDP), and nothing at all without it.

    accelerate launch --multi_gpu --num_processes 2 -m advisor compare --task banking

(`--multi_gpu` is accelerate's name for "several processes": on a machine with
no GPU it runs them on the CPU with the gloo backend.) Every process runs the
same `advisor compare`; each training step's batch — the same batch a single
process would take — is split across the processes by rows, each computes its
share of the loss, and DDP averages the gradients, so every process takes the
step one process would have taken: the same loss curve, up to the order of
floating-point sums. Rank 0 (the main process) does everything else: it owns
the run folder, answers, scores and writes; the other ranks take part in the
training only (`Harness` runs them as followers).

Launched with one process, or without `accelerate launch`, `data_parallel()` is
None and the training loop runs exactly as before: no wrapper, no overhead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

import torch

IGNORE_INDEX = -100
_ACCELERATOR: Any = None


def world_size() -> int:
    """Processes in this launch (1 when not launched by accelerate/torchrun)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


def rank() -> int:
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def is_main_process() -> bool:
    return rank() == 0


def data_parallel() -> Any:
    """The process's `accelerate.Accelerator` when launched with several
    processes (created once; it joins the process group), else None."""
    global _ACCELERATOR
    if world_size() < 2:
        return None
    if _ACCELERATOR is None:
        from accelerate import Accelerator

        # without a GPU, accelerate must be told the CPU is the device, or it sees
        # one process (DistributedType.NO) although the process group has them all
        _ACCELERATOR = Accelerator(cpu=not torch.cuda.is_available())
        if _ACCELERATOR.num_processes != world_size():
            raise RuntimeError(
                f"accelerate sees {_ACCELERATOR.num_processes} process(es), the launch "
                f"{world_size()}: launch with `accelerate launch --multi_gpu --num_processes N`"
            )
    return _ACCELERATOR


def local_device() -> str | None:
    """The GPU this process trains on under a multi-GPU launch (`cuda:<local rank>`)."""
    if world_size() < 2 or not torch.cuda.is_available():
        return None
    return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"


class _Loss(torch.nn.Module):
    """The loss as a module's forward, so DDP sees it: DDP synchronises gradients
    for what runs through its wrapper, and the loss functions call the model's
    parts (hidden states, the LM head on loss positions) rather than its forward."""

    def __init__(self, model: torch.nn.Module, loss_fn: Callable) -> None:
        super().__init__()
        self.model = model
        self.loss_fn = loss_fn

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.loss_fn(self.model, batch)


def loss_tokens(batch: dict[str, torch.Tensor]) -> int:
    """Positions that carry a loss (a label other than -100 after the shift)."""
    return int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())


def micro_batches(batch: dict[str, torch.Tensor], rows: int) -> list[dict[str, torch.Tensor]]:
    """`batch` cut into consecutive pieces of `rows` rows (0, or at least the batch: whole),
    each piece told the whole batch's shared prefix (`pin_shared_prefix`)."""
    size = batch["input_ids"].shape[0]
    if rows <= 0 or rows >= size:
        return [batch]
    batch = pin_shared_prefix(batch)
    return [
        {name: tensor[start : start + rows] for name, tensor in batch.items()}
        for start in range(0, size, rows)
    ]


def pin_shared_prefix(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """`batch` with the length of the prompt prefix all its rows share recorded per row
    (`training.PREFIX_LENGTH`), for the loss to read in any subset of its rows.

    Which tokens count as the shared prefix decides what `prefix_grad: false`
    treats as constant; a subset of rows may share more of its prompt, or, one
    row alone, none. Pinned, a piece of the batch (a micro-batch, a process's
    rows) computes its part of the whole batch's loss and gradient.
    """
    from strategies.training import PREFIX_LENGTH, shared_prefix_length

    if "labels" not in batch or PREFIX_LENGTH in batch:
        return batch
    length = shared_prefix_length(batch)
    rows = batch["input_ids"].shape[0]
    return {**batch, PREFIX_LENGTH: batch["input_ids"].new_full((rows,), length)}


class DataParallelLoss:
    """This process's share of a batch's mean loss, scaled so that DDP's
    gradient average is the gradient of the whole batch's mean loss."""

    def __init__(self, accelerator: Any, model: torch.nn.Module, loss_fn: Callable) -> None:
        self.accelerator = accelerator
        self.wrapped = accelerator.prepare_model(_Loss(model, loss_fn))
        self.world = accelerator.num_processes
        self.rank = accelerator.process_index
        self.rows = 0  # rows of the last batch this process computed

    def backward(
        self,
        batch: dict[str, torch.Tensor],
        micro_batch: int = 0,
        autocast: Callable[[], Any] = contextlib.nullcontext,
    ) -> float:
        """Backpropagate this process's rows of `batch` (`micro_batch` rows at a
        time, gradients synchronised after the last piece); returns the whole
        batch's mean loss, for the log."""
        total = loss_tokens(batch)
        batch = pin_shared_prefix(batch)
        shard = {name: tensor[self.rank :: self.world] for name, tensor in batch.items()}
        if shard["input_ids"].shape[0] == 0:  # fewer rows than processes: take part, weight 0
            pieces, weights = [{name: tensor[:1] for name, tensor in batch.items()}], [0.0]
        else:
            pieces = micro_batches(shard, micro_batch)
            weights = [loss_tokens(piece) / max(total, 1) for piece in pieces]
        self.rows = sum(
            int(p["input_ids"].shape[0]) for p, w in zip(pieces, weights, strict=True) if w
        )
        mine = 0.0
        for index, (piece, weight) in enumerate(zip(pieces, weights, strict=True)):
            # DDP averages the gradients after a forward and backward outside no_sync:
            # once, after the last piece
            last = index == len(pieces) - 1
            with contextlib.nullcontext() if last else self.wrapped.no_sync():
                with autocast():
                    loss = self.wrapped(piece)
                # DDP divides the summed gradients by the number of processes
                (loss * (weight * self.world)).backward()
            if weight:  # a piece without loss tokens has a NaN mean and adds nothing
                mine += loss.detach().float().item() * weight
        share = torch.tensor([mine], device=pieces[0]["input_ids"].device)
        return float(self.accelerator.reduce(share, reduction="sum").item())


def broadcast(value: Any) -> Any:
    """Rank 0's `value` on every process (a picklable object)."""
    accelerator = data_parallel()
    if accelerator is None:
        return value
    import torch.distributed as dist

    box = [value if accelerator.is_main_process else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def wait_for_everyone() -> None:
    accelerator = data_parallel()
    if accelerator is not None:
        accelerator.wait_for_everyone()
