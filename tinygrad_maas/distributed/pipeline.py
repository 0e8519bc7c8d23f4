"""Pipeline parallelism: an nn.Sequential cut into stages, one per rank, trained on micro-batches.

    pipe = tinygrad_maas.distributed.pipeline.Pipe(model, micro_batches=4, schedule="1f1b")
    loss = pipe.train_step(x, y, loss_fn)       # forward and backward of every micro-batch
    optimizer.step()                            # each rank updates its own stage's parameters

Rank r holds stage r (a run of consecutive layers; by default cut so every stage holds about the same
number of parameters, or as `balance=[layers per stage]` says). The batch is split into `micro_batches`
along dim 0. A stage receives its input activations from rank r - 1 (rank 0 reads the batch), runs its
layers, and sends the output to rank r + 1; the last stage computes the loss. Backward goes the other way:
each stage receives the gradient of its output, runs backward through its layers, and sends the gradient
of its input back. Messages are point-to-point (send / recv), each activation preceded by its shape.

Schedules (F = forward of a micro-batch, B = its backward; time runs left to right, 2 stages, 4 micro-batches):

    GPipe   stage 0:  F1 F2 F3 F4 .  .  .  .  B4 B3 B2 B1          every forward, then every backward:
            stage 1:  .  F1 F2 F3 F4 B4 B3 B2 B1 .                  all micro-batches' activations are kept
    1F1B    stage 0:  F1 F2 .  B1 F3 B2 F4 B3 .  B4                 after a warm-up of (stages - rank - 1)
            stage 1:  .  F1 B1 F2 B2 F3 B3 F4 B4 .                  forwards, one forward then one backward:
                                                                     at most `stages` activations kept
The idle slots (dots) are the bubble: (stages - 1) / (micro_batches + stages - 1) of the time for both;
1F1B keeps fewer activations alive. The loss of each micro-batch is divided by micro_batches, so the
accumulated gradients are those of the whole batch's mean loss: equal to one process's.
"""

import numpy as np

from ..autograd import grad_mode
from ..nn.containers import Sequential
from ..tensor import Tensor
from . import collectives
from .process_group import get_rank, get_world_size

SCHEDULES = ("gpipe", "1f1b")


class Pipe:
    def __init__(self, module, micro_batches=1, schedule="gpipe", balance=None):
        if not isinstance(module, Sequential):
            raise TypeError(f"Pipe: the model must be an nn.Sequential, got {type(module).__name__}")
        if schedule not in SCHEDULES:
            raise ValueError(f"Pipe: schedule must be one of {SCHEDULES}, got {schedule!r}")
        if isinstance(micro_batches, bool) or not isinstance(micro_batches, int) or micro_batches < 1:
            raise ValueError(f"Pipe: micro_batches must be a positive integer, got {micro_batches!r}")
        self.rank, self.stages = get_rank(), get_world_size()
        layers = list(module)
        balance = _balance(layers, self.stages) if balance is None else list(balance)
        if len(balance) != self.stages or sum(balance) != len(layers) or min(balance) < 1:
            raise ValueError(
                f"Pipe: balance {balance} must give each of the {self.stages} ranks at least one of the "
                f"{len(layers)} layers, and all of them"
            )
        start = sum(balance[: self.rank])
        self.stage = Sequential(*layers[start : start + balance[self.rank]])
        self.micro_batches, self.schedule, self.balance = micro_batches, schedule, balance

    def parameters(self):
        """This rank's stage's parameters (what its optimizer updates)."""
        return self.stage.parameters()

    def train_step(self, x=None, y=None, loss_fn=None):
        """Forward and backward of every micro-batch of (x, y): rank 0 gives x, the last rank y and
        loss_fn(output, target). Gradients accumulate into the stage's .grad. Returns the batch's mean loss
        on the last rank (a float), None elsewhere."""
        first, last = self.rank == 0, self.rank == self.stages - 1
        inputs = _split(x, self.micro_batches, "x") if first else [None] * self.micro_batches
        targets = _split(y, self.micro_batches, "y") if last else [None] * self.micro_batches
        if last and loss_fn is None:
            raise ValueError("Pipe.train_step(): the last rank needs loss_fn(output, target)")
        kept, losses, sending = {}, [], []  # sends never block: a stage sending while its neighbour
        # sends to it (1F1B) would otherwise wait forever on large messages

        def forward(i):
            received = inputs[i] if first else _receive(self.rank - 1)
            received = received.detach().requires_grad_(received.dtype.kind == "f" and not first)
            output = self.stage(received)
            if last:
                loss = loss_fn(output, targets[i]) / self.micro_batches
                losses.append(loss.item())
                kept[i] = (received, loss)
            else:
                sending.extend(_send(output, self.rank + 1))
                kept[i] = (received, output)

        def backward(i):
            received, output = kept.pop(i)
            if last:
                output.backward()
            else:
                output.backward(_receive(self.rank + 1, like=output))
            if not first:
                sending.extend(_send(received.grad, self.rank - 1))

        for kind, i in _order(self.schedule, self.rank, self.stages, self.micro_batches):
            (forward if kind == "F" else backward)(i)
        for work in sending:
            work.wait()
        return float(np.sum(losses)) if last else None


def _order(schedule, rank, stages, micro_batches):
    """This rank's sequence of ("F" | "B", micro-batch) steps."""
    if schedule == "gpipe":
        return [("F", i) for i in range(micro_batches)] + [("B", i) for i in reversed(range(micro_batches))]
    warmup = min(stages - rank - 1, micro_batches)
    steps = [("F", i) for i in range(warmup)]
    forwarded, backwarded = warmup, 0
    while backwarded < micro_batches:
        if forwarded < micro_batches:
            steps.append(("F", forwarded))
            forwarded += 1
        steps.append(("B", backwarded))
        backwarded += 1
    return steps


def _balance(layers, stages):
    """Layers per stage, each cut where the running parameter count comes closest to that stage's equal
    share of the total."""
    if len(layers) < stages:
        raise ValueError(f"Pipe: {len(layers)} layers cannot fill {stages} stages")
    sizes = np.array([sum(p.numel() for p in layer.parameters()) + 1 for layer in layers], dtype=np.float64)
    bounds = np.cumsum(sizes) / sizes.sum()
    cuts = [0]
    for stage in range(1, stages):
        target = stage / stages
        passed = int(np.searchsorted(bounds, target))  # the first layer whose running share reaches target
        cut = min((passed, passed + 1), key=lambda c: abs((bounds[c - 1] if c else 0.0) - target))
        cut = min(max(cut, cuts[-1] + 1), len(layers) - (stages - stage))  # every stage keeps a layer
        cuts.append(cut)
    cuts.append(len(layers))
    return [b - a for a, b in zip(cuts, cuts[1:])]


def _split(tensor, parts, name):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Pipe.train_step(): {name} must be a tensor on this rank, got {type(tensor).__name__}")
    if tensor.shape[0] % parts:
        raise ValueError(f"Pipe.train_step(): the batch of {tensor.shape[0]} does not split into {parts} micro-batches")
    size = tensor.shape[0] // parts
    return [tensor[i * size : (i + 1) * size] for i in range(parts)]


_DTYPES = [np.float32, np.float64, np.int64, np.int32, np.bool_]


def _send(tensor, dst):
    """Start sending a header (dtype code, ndim, shape) then the data (the receiver allocates from the
    header); returns the two works to wait for."""
    array = np.ascontiguousarray(tensor.array if isinstance(tensor, Tensor) else tensor)
    code = next((i for i, d in enumerate(_DTYPES) if np.dtype(d) == array.dtype), None)
    if code is None:
        raise TypeError(f"Pipe: cannot send an activation of dtype {array.dtype}")
    header = np.zeros(10, dtype=np.int64)
    header[0], header[1] = code, array.ndim
    header[2 : 2 + array.ndim] = array.shape
    with grad_mode.no_grad():
        return [collectives.isend(Tensor(header), dst), collectives.isend(Tensor(array), dst)]


def _receive(src, like=None):
    header = Tensor(np.zeros(10, dtype=np.int64))
    collectives.recv(header, src)
    code, ndim = int(header.array[0]), int(header.array[1])
    shape = tuple(int(n) for n in header.array[2 : 2 + ndim])
    received = Tensor(np.empty(shape, dtype=_DTYPES[code]))
    collectives.recv(received, src)
    if like is not None and received.shape != like.shape:
        raise RuntimeError(f"Pipe: rank {src} sent a gradient of shape {received.shape} for {like.shape}")
    return received
