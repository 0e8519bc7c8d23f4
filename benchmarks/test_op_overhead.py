"""pytest-benchmark: per-op overhead of forward + backward on tiny tensors.

    python -m pytest benchmarks/test_op_overhead.py

Divide the chain's median by CHAIN_OPS for the time per op. PyTorch's rows are skipped when it is not
installed. For one table with ratios measured side by side, run `python -m benchmarks.compare_overhead`.
"""

import numpy as np
import pytest

import tinygrad_maas as tm
from benchmarks import overhead_workloads as work


def _time_backward(benchmark, x, workload):
    """Time `workload(x)` (forward + backward), clearing x.grad so every call starts alike."""

    def run():
        x.grad = None
        return workload(x)

    benchmark(run)


def _torch():
    """PyTorch on this machine's 2 threads, like every other comparison; skips when it is not installed."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(2)
    return torch


def test_chain_tinygrad_maas(benchmark):
    _time_backward(benchmark, tm.randn(work.SIZE, requires_grad=True), work.chain)


def test_chain_numpy_hand_written(benchmark):
    benchmark(work.chain_numpy, np.random.default_rng(0).standard_normal(work.SIZE).astype(np.float32))


def test_chain_torch(benchmark):
    _time_backward(benchmark, _torch().randn(work.SIZE, requires_grad=True), work.chain)


def test_mul_sum_backward_tinygrad_maas(benchmark):
    _time_backward(benchmark, tm.randn(work.SIZE, requires_grad=True), work.single_op)


def test_mul_sum_backward_torch(benchmark):
    _time_backward(benchmark, _torch().randn(work.SIZE, requires_grad=True), work.single_op)
