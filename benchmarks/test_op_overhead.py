"""pytest-benchmark: per-op overhead of forward + backward on tiny tensors.

    python -m pytest benchmarks/test_op_overhead.py

Divide the chain's median by CHAIN_OPS for the time per op. PyTorch's rows are skipped when it is not
installed. For one table with ratios measured side by side, run `python -m benchmarks.compare_overhead`.
"""

import numpy as np
import pytest

import tinygrad_maas as tm
from benchmarks import overhead_workloads as work


def test_chain_tinygrad_maas(benchmark):
    x = tm.randn(work.SIZE, requires_grad=True)

    def run():
        x.grad = None
        return work.chain(x)

    benchmark(run)


def test_chain_numpy_hand_written(benchmark):
    benchmark(work.chain_numpy, np.random.default_rng(0).standard_normal(work.SIZE).astype(np.float32))


def test_chain_torch(benchmark):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(2)
    x = torch.randn(work.SIZE, requires_grad=True)

    def run():
        x.grad = None
        return work.chain(x)

    benchmark(run)


def test_mul_sum_backward_tinygrad_maas(benchmark):
    x = tm.randn(work.SIZE, requires_grad=True)

    def run():
        x.grad = None
        return work.single_op(x)

    benchmark(run)


def test_mul_sum_backward_torch(benchmark):
    torch = pytest.importorskip("torch")
    x = torch.randn(work.SIZE, requires_grad=True)

    def run():
        x.grad = None
        return work.single_op(x)

    benchmark(run)
