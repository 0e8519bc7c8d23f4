"""Lesson 6: tm.optim follows the update rules written by hand."""

import numpy as np
import pytest

import tinygrad_maas as tm

from .pages import run_page

pytestmark = pytest.mark.lesson6


def test_the_page_runs_as_written():
    attempted, failed = run_page("lesson6_optimizers.md")
    assert attempted > 5 and failed == 0


def steps(optimizer_class, count=5, **settings):
    p = tm.tensor([0.0, 1.0, -2.0], dtype=tm.float64, requires_grad=True)
    optimizer = optimizer_class([p], **settings)
    for _ in range(count):
        optimizer.zero_grad()
        ((p - 3.0) ** 2).sum().backward()
        optimizer.step()
    return np.array(p.tolist())


def test_exercise_nesterov_momentum_by_hand():
    p, velocity = np.array([0.0, 1.0, -2.0]), None
    for _ in range(5):
        g = 2 * (p - 3.0)
        velocity = g if velocity is None else 0.9 * velocity + g
        p = p - 0.1 * (g + 0.9 * velocity)
    assert np.allclose(steps(tm.optim.SGD, lr=0.1, momentum=0.9, nesterov=True), p)


def test_exercise_adamw_decays_apart_from_the_gradient():
    p, m, v = np.array([0.0, 1.0, -2.0]), np.zeros(3), np.zeros(3)
    for t in range(1, 6):
        g = 2 * (p - 3.0)
        p = p - 0.1 * 0.01 * p
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        p = p - 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    assert np.allclose(steps(tm.optim.AdamW, lr=0.1, weight_decay=0.01), p)
