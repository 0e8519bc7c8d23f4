"""F.cross_entropy and F.embedding: gradients, PyTorch's values, clear errors."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F
from tests.gradients import check_gradients


def make(shape, seed=0):
    return tm.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


TARGETS = tm.tensor([0, 4, 2, -100, 1, 4])
WEIGHTS = tm.tensor([0.5, 1.0, 2.0, 1.5, 0.7], dtype=tm.float64)
CROSS_ENTROPY_CASES = {
    "mean": {},
    "sum": {"reduction": "sum"},
    "none": {"reduction": "none"},
    "label_smoothing": {"label_smoothing": 0.2},
    "weighted_smoothed": {"weight": WEIGHTS, "label_smoothing": 0.1},
    "weighted_none": {"weight": WEIGHTS, "reduction": "none"},
}


@pytest.mark.parametrize("name", CROSS_ENTROPY_CASES)
def test_cross_entropy_gradcheck_with_ignored_targets(name):
    assert check_gradients(lambda x: F.cross_entropy(x, TARGETS, **CROSS_ENTROPY_CASES[name]), make((6, 5)))


def test_cross_entropy_over_spatial_dims_and_unbatched():
    targets = tm.tensor(np.random.default_rng(1).integers(0, 3, (2, 4, 5)))
    assert check_gradients(lambda x: F.cross_entropy(x, targets), make((2, 3, 4, 5)))
    assert check_gradients(lambda x: F.cross_entropy(x, tm.tensor(2)), make((4,)))


def test_cross_entropy_with_probability_targets():
    probabilities = tm.tensor(np.random.default_rng(2).dirichlet(np.ones(5), 6))
    assert check_gradients(lambda x: F.cross_entropy(x, probabilities, label_smoothing=0.1), make((6, 5)))


def test_cross_entropy_values_match_pytorch():
    x = tm.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    t = tm.tensor([2, 0])
    assert F.cross_entropy(x, t).item() == pytest.approx(0.7531091, rel=1e-6)
    assert F.cross_entropy(x, t, reduction="none").tolist() == pytest.approx([0.4076059, 1.0986123], rel=1e-6)
    assert F.cross_entropy(x, tm.tensor([2, -100])).item() == pytest.approx(0.4076059, rel=1e-6)
    assert F.cross_entropy(x, t, label_smoothing=0.3).item() == pytest.approx(0.9031091, rel=1e-6)
    assert F.cross_entropy(x, t, weight=tm.tensor([1.0, 2.0, 3.0])).item() == pytest.approx(0.5803576, rel=1e-6)


def test_cross_entropy_of_huge_logits_is_finite():
    loss = F.cross_entropy(tm.tensor([[1000.0, -1000.0]]), tm.tensor([1]))
    assert loss.item() == pytest.approx(2000.0)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: F.cross_entropy(tm.zeros(2, 3), tm.tensor([0, 3])), IndexError, "target 3 is out of bounds for 3"),
        (lambda: F.cross_entropy(tm.zeros(2, 3), tm.tensor([0, -1])), IndexError, "target -1 is out of bounds"),
        (lambda: F.cross_entropy(tm.zeros(2, 3), tm.tensor([0, 1, 2])), ValueError, r"need shape \(2,\)"),
        (lambda: F.cross_entropy(tm.zeros(2, 3), tm.tensor([0, 1]), reduction="avg"), ValueError, "reduction"),
        (lambda: F.cross_entropy(tm.zeros(2, 3), tm.tensor([0, 1]), weight=tm.ones(2)), ValueError, r"\(3,\)"),
        (lambda: F.cross_entropy(tm.zeros(2, 3), tm.tensor([True, False])), TypeError, "class indices"),
    ],
)
def test_cross_entropy_errors_name_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_embedding_gradcheck_with_repeated_rows():
    # (padding_idx is left out: its row's gradient is zeroed on purpose, so it differs from the
    # numerical derivative by design; the next test pins it)
    indices = tm.tensor([[1, 2, 1], [6, 0, 1]])
    assert check_gradients(lambda w: F.embedding(indices, w), make((7, 3)))


def test_embedding_padding_row_gets_no_gradient():
    weight = tm.ones(4, 2, requires_grad=True)
    F.embedding(tm.tensor([0, 3, 3]), weight, padding_idx=3).sum().backward()
    assert weight.grad.tolist() == [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]


def test_embedding_errors():
    with pytest.raises(IndexError, match="index 5 is out of range for an embedding of 4 rows"):
        F.embedding(tm.tensor([0, 5]), tm.ones(4, 2))
    with pytest.raises(TypeError, match="indices must be an integer tensor"):
        F.embedding(tm.tensor([0.0]), tm.ones(4, 2))
