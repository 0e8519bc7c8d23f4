"""Lesson 8: gradients of gradients."""

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas.autograd import functional as AF

from .pages import run_page

pytestmark = pytest.mark.lesson8


def test_the_page_runs_as_written():
    attempted, failed = run_page("lesson8_higher_order.md")
    assert attempted > 10 and failed == 0


def test_exercise_newton_reaches_the_minimum_in_a_few_steps():
    def f(w):
        return (w.exp() - w).sum()

    w = tm.tensor([1.0, -0.5], dtype=tm.float64)
    for _ in range(6):
        gradient = AF.vjp(f, w)[1].array
        hessian = AF.hessian(f, w).array
        w = tm.tensor(w.array - np.linalg.solve(hessian, gradient))
    assert np.allclose(w.array, 0.0, atol=1e-10)


def test_hvp_equals_the_finite_difference_of_gradients():
    def f(w):
        return (w.sin() * w.pow(2)).sum()

    w, v = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -0.25])
    product = AF.hvp(f, tm.tensor(w), tm.tensor(v))[1].array
    eps = 1e-6
    plus, minus = (AF.vjp(f, tm.tensor(w + s * eps * v))[1].array for s in (1, -1))
    assert np.allclose(product, (plus - minus) / (2 * eps), atol=1e-7)
