"""F.normalize, F.cosine_similarity and nn.CosineSimilarity against PyTorch 2.13's values, edges included
(zero vectors, vectors shorter than eps, broadcasting, infinities)."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn
import tinygrad_maas.nn.functional as F
from tests.gradients import check_gradients

RNG = np.random.default_rng(0)


def test_normalize_scales_each_vector_to_length_one_and_leaves_a_zero_vector_zero():
    """Rows (3, 4), (0, 0) and (1e-13, 0): the last is shorter than eps = 1e-12, so it is divided by eps.
    PyTorch's gradient of the sum: 1 / eps at the short and the zero vector (the clamp passes none to the
    norm there)."""
    x = tm.tensor([[3.0, 4.0], [0.0, 0.0], [1e-13, 0.0]], dtype=tm.float64, requires_grad=True)
    y = F.normalize(x)
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), [[0.6, 0.8], [0.0, 0.0], [0.1, 0.0]], rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), [[0.032, -0.024], [1e12, 1e12], [1e12, 1e12]], rtol=1e-12)


def test_normalize_takes_any_p_and_dim():
    x = tm.tensor([[1.0, -2.0], [3.0, 4.0]], dtype=tm.float64)
    np.testing.assert_allclose(F.normalize(x, p=1, dim=0).numpy(), [[0.25, -1 / 3], [0.75, 2 / 3]], rtol=1e-15)
    assert F.normalize(tm.zeros(0, 3)).shape == (0, 3)


def test_normalize_and_cosine_similarity_gradients():
    assert check_gradients(lambda x: F.normalize(x, dim=-1), tm.tensor(RNG.standard_normal((3, 4)), requires_grad=True))
    a = tm.tensor(RNG.standard_normal((2, 5)), requires_grad=True)
    b = tm.tensor(RNG.standard_normal((1, 5)), requires_grad=True)  # broadcast against a's rows
    assert check_gradients(F.cosine_similarity, (a, b))


def test_cosine_similarity_matches_pytorch_with_a_zero_row_and_broadcasting():
    """(1, 2, 3) against (4, 5, 6) and a zero row against it: PyTorch 2.13 gives 0.9746318461970762 and 0,
    and for the zero row the gradient y2 / eps (a zero vector's norm passes no gradient)."""
    a = tm.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=tm.float64, requires_grad=True)
    b = tm.tensor([[4.0, 5.0, 6.0]], dtype=tm.float64, requires_grad=True)
    cos = F.cosine_similarity(a, b)
    cos.sum().backward()
    np.testing.assert_allclose(cos.detach().numpy(), [0.9746318461970762, 0.0], rtol=1e-14)
    np.testing.assert_allclose(
        a.grad.numpy(),
        [
            [0.05221242033198621, 0.013053105082996536, -0.026106210165993182],
            [45584230.583855174, 56980288.22981898, 68376345.87578276],
        ],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        b.grad.numpy(), [[-0.020172980582812854, -0.0023732918332721037, 0.015426396916268681]], rtol=1e-12
    )
    assert F.cosine_similarity(tm.ones(2, 1, 3), tm.ones(1, 4, 3), dim=-1).shape == (2, 4)


def test_cosine_similarity_edges_match_pytorch():
    """A vector shorter than eps = 1e-8 is divided by eps (PyTorch: 0.1); inf gives nan; empty batches stay
    empty; a 1-D pair along dim 0 gives a scalar (float32, as PyTorch's 0.7071067690849304)."""
    tiny = F.cosine_similarity(tm.tensor([[1e-9, 0.0]], dtype=tm.float64), tm.tensor([[1.0, 0.0]], dtype=tm.float64))
    np.testing.assert_allclose(tiny.numpy(), [0.1], rtol=1e-12)
    with np.errstate(invalid="ignore"):  # inf / inf
        assert np.isnan(F.cosine_similarity(tm.tensor([[np.inf, 1.0]]), tm.tensor([[1.0, 1.0]])).item())
    assert F.cosine_similarity(tm.zeros(0, 3), tm.zeros(0, 3)).shape == (0,)
    scalar = F.cosine_similarity(tm.tensor([1.0, 0.0]), tm.tensor([1.0, 1.0]), dim=0)
    assert scalar.shape == () and scalar.dtype == tm.float32 and scalar.item() == np.float32(0.7071067690849304)


def test_a_norm_below_eps_is_raised_to_eps_outside_the_graph_as_in_pytorch():
    """x1 = (1e-9, 2e-9) is shorter than eps = 1e-8: its value is divided by eps, but its gradient still
    flows through the norm (PyTorch clamps the norm in place, outside its graph). PyTorch 2.13's values."""
    x1 = tm.tensor([[1e-9, 2e-9]], dtype=tm.float64, requires_grad=True)
    x2 = tm.tensor([[1.0, 3.0]], dtype=tm.float64, requires_grad=True)
    cos = F.cosine_similarity(x1, x2)
    cos.sum().backward()
    np.testing.assert_allclose(cos.detach().numpy(), [0.22135943621178658], rtol=1e-14)
    np.testing.assert_allclose(x1.grad.numpy(), [[21723281.66507213, 75069339.93182804]], rtol=1e-12)
    np.testing.assert_allclose(x2.grad.numpy(), [[0.009486832980505136, -0.0031622776601683694]], rtol=1e-12)


def test_cosine_similarity_names_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"x1 of shape \(2, 3\) and x2 of shape \(2, 4\) cannot be broadcast"):
        F.cosine_similarity(tm.ones(2, 3), tm.ones(2, 4))


def test_the_cosine_similarity_module_is_the_function():
    module = nn.CosineSimilarity(dim=0, eps=1e-6)
    x1, x2 = tm.tensor(RNG.standard_normal((4, 3))), tm.tensor(RNG.standard_normal((4, 3)))
    np.testing.assert_array_equal(module(x1, x2).numpy(), F.cosine_similarity(x1, x2, 0, 1e-6).numpy())
    assert repr(module) == "CosineSimilarity(dim=0, eps=1e-06)"
    from tinygrad_maas.nn.modules.distance import CosineSimilarity  # torch.nn.modules.distance's path

    assert CosineSimilarity is nn.CosineSimilarity
