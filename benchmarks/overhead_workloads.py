"""The per-op overhead workload, written three times: tinygrad_maas, PyTorch, and plain NumPy.

A chain of CHAIN_OPS elementwise ops on a (16,) float32 tensor, (x * 1.0001 + 0.5).tanh() - 0.25
repeated, then a sum and backward. On 16 elements the arithmetic is nearly free, so the time per op is
the framework's own cost: building the graph node, dispatching, and running the backward.
"""

import numpy as np

CHAIN_OPS = 2000
SIZE = 16


def chain(x):
    """The chain, for any framework with PyTorch's API: tinygrad_maas and PyTorch run this same code."""
    y = x
    for _ in range(CHAIN_OPS // 4):
        y = (y * 1.0001 + 0.5).tanh() - 0.25
    y.sum().backward()
    return x.grad


def chain_numpy(x):
    """The floor: the same forward in NumPy with a hand-written backward (no graph, no dispatch)."""
    outputs = []
    y = x
    for _ in range(CHAIN_OPS // 4):
        y = np.tanh(y * np.float32(1.0001) + np.float32(0.5))
        outputs.append(y)
        y = y - np.float32(0.25)
    grad = np.ones_like(x)
    for tanh_out in reversed(outputs):  # d/dy of tanh(1.0001 y + 0.5) - 0.25
        grad = grad * (1 - tanh_out * tanh_out) * np.float32(1.0001)
    return grad


def single_op(x):
    """One product, a sum and a backward: the fixed cost of a tiny graph."""
    (x * x).sum().backward()
    return x.grad
