"""The layer-norm kernel agrees with its NumPy twin, and F.layer_norm's inference path (one fused pass) with
its recorded, differentiable path."""

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas.kernels import normalization as numba_normalization
from tinygrad_maas.nn import functional as F
from tinygrad_maas.reference import normalization as numpy_normalization


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (300, 384), (0, 4)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_twins_agree(shape, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 4 + 2).astype(dtype)
    weight, bias = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    got = numba_normalization.layer_norm_rows(x, weight, bias, 1e-5)
    expected = numpy_normalization.layer_norm_rows(x, weight, bias, 1e-5)
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [tm.float32, tm.float64])
def test_layer_norm_without_gradients_takes_one_pass_and_equals_the_recorded_ops(affine, dtype):
    rng = np.random.default_rng(1)
    x = tm.tensor((rng.standard_normal((3, 4, 2, 6)) * 5).astype(dtype))
    weight = tm.tensor(rng.standard_normal((2, 6)).astype(dtype)) if affine else None
    bias = tm.tensor(rng.standard_normal((2, 6)).astype(dtype)) if affine else None
    recorded = F.layer_norm(x.requires_grad_(), (2, 6), weight, bias, 1e-5)
    assert recorded.grad_fn is not None  # the differentiable path: the ops were recorded
    with tm.no_grad():
        fused = F.layer_norm(x, (2, 6), weight, bias, 1e-5)
    assert fused.grad_fn is None and fused.dtype == dtype
    tolerance = 1e-5 if dtype == tm.float32 else 1e-12
    np.testing.assert_allclose(fused.numpy(), recorded.detach().numpy(), rtol=tolerance, atol=tolerance)


def test_a_watched_forward_pass_keeps_the_recorded_ops_so_tracing_and_profiling_see_them():
    x = tm.ones(2, 3)
    with tm.no_grad(), tm.profile() as profile:
        F.layer_norm(x, (3,))
    assert "Mean" in profile.key_averages().table()
