"""BatchNorm and LayerNorm: gradients, running statistics, train vs eval, PyTorch's values."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn
from tests.gradients import check_gradients

X = tm.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 1.0]], dtype=tm.float64)


def _gradcheck(layer, shape):
    layer.double()
    x = tm.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    return check_gradients(lambda x, *ps: layer(x), (x, *layer.parameters()))


@pytest.mark.parametrize(
    "build, shape",
    [
        (lambda: nn.BatchNorm1d(3), (5, 3)),
        (lambda: nn.BatchNorm1d(3), (4, 3, 2)),
        (lambda: nn.BatchNorm2d(2), (3, 2, 2, 3)),
        (lambda: nn.BatchNorm2d(2, affine=False), (3, 2, 2, 3)),
        (lambda: nn.LayerNorm(4), (3, 4)),
        (lambda: nn.LayerNorm((2, 3)), (2, 2, 3)),
    ],
    ids=["bn1d", "bn1d_3d", "bn2d", "bn2d_no_affine", "ln", "ln_2d"],
)
def test_normalization_gradients_in_training_mode(build, shape):
    assert _gradcheck(build(), shape)


def test_batchnorm_eval_mode_gradient_uses_the_running_statistics():
    layer = nn.BatchNorm1d(3)
    layer.running_mean.array[:] = [0.5, -1.0, 2.0]
    layer.eval()
    assert _gradcheck(layer, (4, 3))


def test_batchnorm_values_and_running_statistics_match_pytorch():
    # channel 0: [1, 3, 5], mean 3, biased var 8/3, unbiased 4; channel 1: [2, 6, 1], mean 3, 14/3, 7
    layer = nn.BatchNorm1d(2).double()
    out = layer(X)
    np.testing.assert_allclose(
        out.array,
        [[-1.2247425750, -0.4629095539], [0.0, 1.3887286617], [1.2247425750, -0.9258191078]],
        rtol=1e-9,
        atol=1e-12,
    )
    np.testing.assert_allclose(layer.running_mean.array, [0.3, 0.3])  # 0.9 * 0 + 0.1 * 3
    np.testing.assert_allclose(layer.running_var.array, [1.3, 1.6])  # 0.9 * 1 + 0.1 * unbiased variance
    assert layer.num_batches_tracked.item() == 1
    layer.eval()
    np.testing.assert_allclose(
        layer(X).array,
        [[0.6139382522, 1.3439638057], [2.3680475443, 4.5062315838], [4.1221568363, 0.5533968612]],
        rtol=1e-9,
    )


def test_batchnorm_with_momentum_none_averages_all_batches():
    layer = nn.BatchNorm1d(1, momentum=None).double()
    for batch in ([[1.0], [3.0]], [[5.0], [7.0]]):
        layer(tm.tensor(batch, dtype=tm.float64))
    assert layer.running_mean.item() == pytest.approx(4.0)  # (2 + 6) / 2


def test_layernorm_values_match_pytorch():
    out = nn.LayerNorm(3).double()(tm.tensor([[1.0, 2.0, 4.0]], dtype=tm.float64))
    np.testing.assert_allclose(out.array, [[-1.0690415315, -0.2672603829, 1.3363019143]], rtol=1e-9)


def test_normalization_errors():
    with pytest.raises(ValueError, match="expected 3 channels"):
        nn.BatchNorm1d(3)(tm.ones(4, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(2)(tm.ones(1, 2))
    with pytest.raises(ValueError, match="expected a 4-D input"):
        nn.BatchNorm2d(2)(tm.ones(4, 2))
    with pytest.raises(ValueError, match="does not match the last dims"):
        nn.LayerNorm(3)(tm.ones(2, 4))


def test_batchnorm_state_dict_has_pytorchs_keys():
    assert list(nn.BatchNorm2d(4).state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
