"""The numba GRU/LSTM cell kernels agree with their NumPy twins, forward and backward."""

import numpy as np
import pytest

from tinygrad_maas.kernels import recurrent as numba_cells
from tinygrad_maas.reference import recurrent as numpy_cells


def _tolerance(dtype):
    # float32: the numba kernel's rational tanh is within ~3 ulp of np.tanh
    return {"rtol": 1e-5, "atol": 2e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-13}


def _random(rng, dtype, *shape):
    return (rng.standard_normal(shape) * 2).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch, size", [(1, 1), (3, 5), (32, 64)])
def test_gru_cell_twins_agree(batch, size, dtype):
    rng = np.random.default_rng(0)
    xp, hp, h_prev = (
        _random(rng, dtype, batch, 3 * size),
        _random(rng, dtype, batch, 3 * size),
        _random(rng, dtype, batch, size),
    )
    results = []
    for cells in (numpy_cells, numba_cells):
        gates, hn, h = (
            np.empty((batch, 3 * size), dtype),
            np.empty((batch, size), dtype),
            np.empty((batch, size), dtype),
        )
        cells.gru_cell(xp, hp, h_prev, gates, hn, h)
        dxp, dhp = np.empty_like(gates), np.empty_like(gates)
        direct = cells.gru_cell_backward(
            _random(np.random.default_rng(1), dtype, batch, size), gates, hn, h_prev, dxp, dhp
        )
        results.append((h, gates, hn, dxp, dhp, direct))
    for numpy_array, numba_array in zip(*results):
        assert numba_array.dtype == dtype
        np.testing.assert_allclose(numba_array, numpy_array, **_tolerance(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch, size", [(1, 1), (3, 5), (32, 64)])
def test_lstm_cell_twins_agree(batch, size, dtype):
    rng = np.random.default_rng(2)
    xp, hp, c_prev = (
        _random(rng, dtype, batch, 4 * size),
        _random(rng, dtype, batch, 4 * size),
        _random(rng, dtype, batch, size),
    )
    dh, dc = _random(rng, dtype, batch, size), _random(rng, dtype, batch, size)
    results = []
    for cells in (numpy_cells, numba_cells):
        gates, c, h = np.empty((batch, 4 * size), dtype), np.empty((batch, size), dtype), np.empty((batch, size), dtype)
        cells.lstm_cell(xp, hp, c_prev, gates, c, h)
        da = np.empty_like(gates)
        dc_prev = cells.lstm_cell_backward(dh, dc, gates, c_prev, c, da)
        results.append((h, gates, c, da, dc_prev))
    for numpy_array, numba_array in zip(*results):
        np.testing.assert_allclose(numba_array, numpy_array, **_tolerance(dtype))


def test_float32_tanh_of_the_numba_kernels_saturates_and_keeps_sign():
    xp = np.array([[0.0, 0.0, 50.0], [0.0, 0.0, -50.0]], dtype=np.float32)
    gates, hn, h = np.empty((2, 3), np.float32), np.empty((2, 1), np.float32), np.empty((2, 1), np.float32)
    numba_cells.gru_cell(xp, np.zeros((2, 3), np.float32), np.zeros((2, 1), np.float32), gates, hn, h)
    assert gates[:, 2].tolist() == [1.0, -1.0]  # n = tanh(+-50) clamps to exactly +-1


@pytest.mark.parametrize("cells", [numba_cells, numpy_cells], ids=["numba", "numpy"])
def test_float32_sigmoid_of_the_cells_keeps_relative_precision_and_the_special_values(cells):
    """The r gate of a GRU cell is sigmoid(xp_r + hp_r): written out for the negative tail, a float32
    subnormal, infinities and NaN. The numba kernel's sigmoid is its own float32 exp (plain arithmetic, so
    it vectorizes): within a few units in the last place of the float64 logistic function."""
    points = np.array([-40.0, -15.5, -100.0, -200.0, -np.inf, np.inf, np.nan, 0.0, 3.0], dtype=np.float32)
    size = points.size
    xp = np.zeros((1, 3 * size), np.float32)
    xp[0, :size] = points
    gates, hn, h = np.empty((1, 3 * size), np.float32), np.empty((1, size), np.float32), np.empty((1, size), np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        cells.gru_cell(xp, np.zeros_like(xp), np.zeros((1, size), np.float32), gates, hn, h)
    r = gates[0, :size].astype(np.float64)
    exact = 1 / (1 + np.exp(-points[:4].astype(np.float64)))
    np.testing.assert_allclose(r[:2], exact[:2], rtol=4e-7, atol=0)  # 4.248e-18 and 1.75e-7
    np.testing.assert_allclose(r[2:4], exact[2:4], rtol=0, atol=1.5e-45)  # subnormal 3.7e-44, and 0
    assert r[4] == 0.0 and r[5] == 1.0 and np.isnan(r[6]) and r[7] == 0.5
    np.testing.assert_allclose(r[8], 1 / (1 + np.exp(-3.0)), rtol=4e-7)
