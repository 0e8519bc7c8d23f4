"""F.one_hot, F.logsigmoid, F.smooth_l1_loss and the rounding and copying methods, against PyTorch 2.13's
values."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F
from tests.gradients import check_gradients


def test_one_hot_marks_each_class_and_infers_the_count():
    assert F.one_hot(tm.tensor([0, 2, 1]), 4).tolist() == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]
    inferred = F.one_hot(tm.tensor([[1], [0]]))
    assert inferred.shape == (2, 1, 2) and inferred.dtype == tm.int64


@pytest.mark.parametrize(
    "values, classes, message",
    [([3], 2, "class value 3 is not smaller than num_classes=2"), ([-1], 2, "must be non-negative, got -1")],
)
def test_one_hot_refuses_classes_out_of_range(values, classes, message):
    with pytest.raises(ValueError, match=message):
        F.one_hot(tm.tensor(values), classes)


def test_logsigmoid_stays_finite_far_out_and_matches_pytorch():
    x = tm.tensor([-100.0, -1.0, 0.0, 2.0, 50.0], dtype=tm.float64, requires_grad=True)
    y = F.logsigmoid(x)
    y.sum().backward()
    expected = [-100.0, -1.3132616875182228, -0.6931471805599453, -0.1269280110429725, -1.9287498479639178e-22]
    assert np.allclose(y.tolist(), expected, rtol=1e-12, atol=0)
    slopes = [1.0, 0.7310585786300049, 0.5, 0.11920292202211755, 1.9287498479639178e-22]
    assert np.allclose(x.grad.tolist(), slopes, rtol=1e-12, atol=0)
    assert check_gradients(F.logsigmoid, tm.tensor([-3.0, 0.5, 2.0], dtype=tm.float64, requires_grad=True))


def test_smooth_l1_loss_is_huber_over_beta_and_l1_at_beta_zero():
    a, b = tm.tensor([0.0, 0.5, 3.0]), tm.tensor([0.2, 2.0, 0.0])
    assert F.smooth_l1_loss(a, b).item() == pytest.approx(1.1733332872390747)
    assert np.allclose(F.smooth_l1_loss(a, b, beta=0.5, reduction="none").tolist(), [0.04, 1.25, 2.75])
    assert F.smooth_l1_loss(a, b, beta=0.0).item() == pytest.approx(1.566666603088379)
    with pytest.raises(ValueError, match="beta must be non-negative, got -1"):
        F.smooth_l1_loss(a, b, beta=-1)


def test_rounding_is_half_to_even_and_has_gradient_zero():
    assert tm.tensor([1.5, 2.5, -0.5, 0.25]).round().tolist() == [2.0, 2.0, -0.0, 0.0]
    assert np.allclose(tm.tensor([1.2345]).round(decimals=2).tolist(), [1.23])
    x = tm.tensor([0.5, -1.5], requires_grad=True)
    (x.floor() + x.ceil() + x.round()).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    assert tm.floor(tm.tensor([1.7, -1.2])).tolist() == [1.0, -2.0] and tm.ceil(tm.tensor([1.2])).tolist() == [2.0]


def test_clone_copies_and_stays_in_the_graph_contiguous_and_cpu_return_views_when_they_can():
    x = tm.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    copy = x.clone()
    assert copy.array is not x.array and not np.shares_memory(copy.array, x.array)
    (copy * 3).sum().backward()
    assert x.grad.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert x.contiguous() is x and x.cpu() is x
    transposed = x.T.contiguous()
    assert transposed.array.flags.c_contiguous and transposed.tolist() == [[1.0, 3.0], [2.0, 4.0]]


def test_log1p_and_expm1_are_accurate_near_zero_and_promote_integers():
    assert tm.tensor([1e-10], dtype=tm.float64).log1p().item() == pytest.approx(1e-10, rel=1e-9)
    assert tm.tensor([1e-10], dtype=tm.float64).expm1().item() == pytest.approx(1e-10, rel=1e-9)
    assert tm.tensor([1, 2]).log1p().dtype == tm.float32
