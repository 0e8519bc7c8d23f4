"""Lesson 1: a scalar engine computes the same gradients as the tensor engine."""

import math

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas.autograd.scalar import Scalar

from .pages import run_page

pytestmark = pytest.mark.lesson1


def test_the_page_runs_as_written():
    attempted, failed = run_page("lesson1_scalar_engine.md")
    assert attempted > 5 and failed == 0


@pytest.mark.parametrize("seed", range(5))
def test_scalar_and_tensor_engines_agree(seed):
    a0, b0, c0 = np.random.default_rng(seed).uniform(0.5, 2.0, 3)

    def expression(a, b, c):
        return ((a * b + c).tanh() * a - b / c).exp() + (a * c).log()

    scalars = [Scalar(v) for v in (a0, b0, c0)]
    expression(*scalars).backward()
    tensors = [tm.tensor(v, dtype=tm.float64, requires_grad=True) for v in (a0, b0, c0)]
    expression(*tensors).backward()
    assert [s.grad for s in scalars] == pytest.approx([t.grad.item() for t in tensors], rel=1e-12)


def test_a_value_used_on_two_paths_gets_both():
    x = Scalar(3.0)
    (x * x + x).backward()  # 2x + 1
    assert x.grad == 7.0


def test_a_chain_of_100000_nodes_needs_no_recursion():
    x = Scalar(0.0)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.backward()
    assert x.grad == 1.0 and y.value == 100_000


def test_gradients_accumulate_across_backward_calls():
    a = Scalar(0.5)
    y = a.tanh()
    y.backward()
    y.backward()
    assert a.grad == pytest.approx(2 * (1 - math.tanh(0.5) ** 2))
