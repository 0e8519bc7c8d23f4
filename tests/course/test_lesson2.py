"""Lesson 2: broadcasting forwards means summing backwards."""

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas.ops.broadcast import unbroadcast

from .pages import run_page

pytestmark = pytest.mark.lesson2


def test_the_page_runs_as_written():
    attempted, failed = run_page("lesson2_tensors_broadcasting.md")
    assert attempted > 5 and failed == 0


@pytest.mark.parametrize(
    "big, small", [((2, 3), (3,)), ((2, 3), (2, 1)), ((4, 2, 3), (1, 3)), ((2, 3), ()), ((5, 1, 4), (3, 1))]
)
def test_the_gradient_of_a_broadcast_input_is_the_sum_of_what_it_fed(big, small):
    rng = np.random.default_rng(0)
    a = tm.tensor(rng.standard_normal(big), requires_grad=True)
    b = tm.tensor(rng.standard_normal(small), requires_grad=True)
    weights = rng.standard_normal(np.broadcast_shapes(big, small))
    ((a + b) * tm.tensor(weights)).sum().backward()
    assert b.grad.shape == small
    assert np.allclose(b.grad.array, unbroadcast(weights, small))
    assert np.isclose(b.grad.array.sum(), weights.sum())  # every output element fed from b exactly once


def test_unbroadcast_keeps_size_one_axes_and_drops_added_ones():
    assert unbroadcast(np.ones((4, 2, 3)), (2, 1)).shape == (2, 1)
    assert unbroadcast(np.ones((4, 2, 3)), (3,)).tolist() == [8.0, 8.0, 8.0]
