"""Losses: gradients, PyTorch's values (literal), and clear errors."""

import warnings

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn
import tinygrad_maas.nn.functional as F
from tests.gradients import check_gradients

RNG = np.random.default_rng(0)
TARGET = tm.tensor(RNG.standard_normal((4, 3)))
BINARY = tm.tensor(RNG.integers(0, 2, (4, 3)).astype(np.float64))
CLASSES = tm.tensor([2, 0, -100, 1])
WEIGHTS = tm.tensor([0.5, 1.0, 2.0], dtype=tm.float64)


def make(shape, low=-2.0, high=2.0):
    return tm.tensor(RNG.uniform(low, high, shape), requires_grad=True)


LOSSES = {
    "mse": (lambda x: F.mse_loss(x, TARGET), (-2, 2)),
    "mse_none": (lambda x: F.mse_loss(x, TARGET, reduction="none"), (-2, 2)),
    "l1_sum": (lambda x: F.l1_loss(x, TARGET, reduction="sum"), (-2, 2)),
    "huber": (lambda x: F.huber_loss(x, TARGET, delta=0.5), (-2, 2)),
    "nll_weighted_ignore": (lambda x: F.nll_loss(x, CLASSES, weight=WEIGHTS), (-3, 0)),
    "bce": (lambda x: F.binary_cross_entropy(x, BINARY), (0.05, 0.95)),
    "bce_with_logits_pos_weight": (
        lambda x: F.binary_cross_entropy_with_logits(
            x, BINARY, pos_weight=tm.tensor([1.0, 2.0, 3.0], dtype=tm.float64)
        ),
        (-3, 3),
    ),
}


@pytest.mark.parametrize("name", LOSSES)
def test_loss_gradient(name):
    fn, (low, high) = LOSSES[name]
    assert check_gradients(fn, make((4, 3), low, high))


X = tm.tensor([[0.5, -1.0], [2.0, 0.0]])
Y = tm.tensor([[1.0, 1.0], [0.0, 0.0]])


def test_loss_values_match_pytorch():
    # d = X - Y = [[-0.5, -2], [2, 0]]: mse = (0.25 + 4 + 4 + 0) / 4, l1 = (0.5 + 2 + 2) / 4,
    # huber = (0.125 + 1.5 + 1.5 + 0) / 4
    assert F.mse_loss(X, Y).item() == pytest.approx(2.0625)
    assert F.l1_loss(X, Y).item() == pytest.approx(1.125)
    assert F.huber_loss(X, Y).item() == pytest.approx(0.78125)
    assert F.binary_cross_entropy_with_logits(X, Y).item() == pytest.approx(1.1518536, rel=1e-6)
    assert F.binary_cross_entropy_with_logits(X, Y, pos_weight=tm.tensor([2.0, 3.0])).item() == pytest.approx(
        1.9270037, rel=1e-6
    )
    assert F.binary_cross_entropy(X.sigmoid(), Y).item() == pytest.approx(1.1518533, rel=1e-5)
    assert F.nll_loss(X.log_softmax(1), tm.tensor([1, 0])).item() == pytest.approx(0.9141707, rel=1e-6)


def test_binary_cross_entropy_clamps_its_logs_at_minus_100():
    assert F.binary_cross_entropy(tm.tensor([0.0, 1.0]), tm.tensor([1.0, 0.0])).item() == 100.0


def test_cross_entropy_ignores_a_minus_infinite_logit_off_the_target_as_pytorch():
    """A masked class (logit -inf) has probability 0 and adds nothing to the loss: PyTorch's literal values,
    loss and gradient, on both backends (the share-weighted sum must not form 0 * inf there)."""
    x = tm.tensor([[1.0, -np.inf, 0.5]], requires_grad=True)
    loss = F.cross_entropy(x, tm.tensor([0]))
    loss.backward()
    assert loss.item() == pytest.approx(0.4740769863128662, rel=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [[-0.377540647983551, 0.0, 0.3775406777858734]], rtol=1e-6)


def test_loss_modules_hold_their_options():
    assert nn.MSELoss(reduction="sum")(X, Y).item() == pytest.approx(8.25)
    assert nn.CrossEntropyLoss(weight=tm.tensor([1.0, 2.0]))(X, tm.tensor([1, 0])).item() == pytest.approx(
        F.cross_entropy(X, tm.tensor([1, 0]), weight=tm.tensor([1.0, 2.0])).item()
    )
    assert "weight" in dict(nn.CrossEntropyLoss(weight=tm.ones(2)).named_buffers())
    with pytest.raises(ValueError, match="reduction must be"):
        nn.MSELoss(reduction="avg")


def test_mismatched_shapes_warn_like_pytorch():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        F.mse_loss(tm.ones(4, 1), tm.ones(4))
    assert any("target shape (4,) differs from input shape (4, 1)" in str(w.message) for w in caught)


def test_loss_errors():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        F.binary_cross_entropy(tm.tensor([1.5]), tm.tensor([1.0]))
    with pytest.raises(IndexError, match="target 5 is out of bounds for 2 classes"):
        F.nll_loss(X, tm.tensor([5, 0]))
    with pytest.raises(ValueError, match="delta must be positive"):
        F.huber_loss(X, Y, delta=0)
