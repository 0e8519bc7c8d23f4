"""Functional forms of the ops, as in `torch.nn.functional`. More arrive with the layers (issue 4)."""

import numpy as np

from ..ops.join import ConstantPad
from ..tensor import Tensor


def relu(input):
    return input.relu()


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def softmax(input, dim):
    return input.softmax(dim)


def log_softmax(input, dim):
    return input.log_softmax(dim)


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims: pad = (last_before, last_after, second_last_before, ...), as PyTorch.

    mode "constant" fills with `value` (default 0; negative widths crop). "reflect" mirrors without
    repeating the edge, "replicate" repeats the edge, "circular" wraps around: these three are an
    indexing op, so their backward (a scatter-add) comes from Index.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): input must be a tensor, got {type(input).__name__}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad(): pad must have an even length of at most 2 * ndim = {2 * input.ndim}, "
                         f"got {pad} for shape {input.shape}")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    widths = tuple(widths)
    if mode == "constant":
        for axis, (before, after) in enumerate(widths):
            if input.shape[axis] + before + after < 0:
                raise ValueError(f"pad(): widths {(before, after)} crop dim {axis} of size {input.shape[axis]} "
                                 "below zero")
        return ConstantPad.apply(input, widths=widths, value=0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad(): mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if value is not None:
        raise ValueError(f"pad(): value is only used by mode='constant', not {mode!r}")
    positions = [_source_positions(n, before, after, mode, axis) for axis, (n, (before, after))
                 in enumerate(zip(input.shape, widths))]
    return input[np.ix_(*positions)]


def _source_positions(size, before, after, mode, axis):
    """For each position of the padded axis, the input position its value comes from."""
    if before < 0 or after < 0:
        raise ValueError(f"pad(): negative widths are only allowed with mode='constant' (dim {axis})")
    if size == 0 and (before or after):
        raise ValueError(f"pad(): cannot {mode}-pad dim {axis} of size 0")
    if mode == "reflect" and max(before, after) >= size:
        raise ValueError(f"pad(): reflect padding of {max(before, after)} must be smaller than the size {size} "
                         f"of dim {axis}")
    if mode == "circular" and max(before, after) > size:
        raise ValueError(f"pad(): circular padding of {max(before, after)} cannot exceed the size {size} of dim "
                         f"{axis}")
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    positions = np.abs(positions)  # reflect at the start ...
    return np.where(positions > size - 1, 2 * (size - 1) - positions, positions)  # ... and at the end
