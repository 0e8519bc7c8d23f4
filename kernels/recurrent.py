"""GRU and LSTM cell steps as numba kernels: twins of tinygrad_maas/reference/recurrent.py (same
functions, signatures and math; the derivations are in its docstring).

One fused loop per step instead of a dozen NumPy passes with temporaries. The cells are small (N x H is
a few thousand elements), so the kernels are serial: starting threads would cost more than the work.
"""

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from .exponential import exp_of_non_positive

# tanh for float32 as a rational function (odd degree-13 numerator over even degree-6 denominator, input
# clamped to +-7.9053, where float32 tanh is already +-1). Plain arithmetic, so LLVM vectorizes the cell
# loops, where a libm tanh call per element does not (docs/kernels.md, "Recurrent cells").
# Measured against float64 tanh on [-12, 12]: max error 3.4e-7 (about 3 ulp; np.tanh's own is 6e-8).
_CLAMP = np.float32(7.90531110763549805)
_A13, _A11, _A9 = np.float32(-2.76076847742355e-16), np.float32(2.00018790482477e-13), np.float32(-8.60467152213735e-11)
_A7, _A5, _A3 = np.float32(5.12229709037114e-08), np.float32(1.48572235717979e-05), np.float32(6.37261928875436e-04)
_A1 = np.float32(4.89352455891786e-03)
_B6, _B4 = np.float32(1.19825839466702e-06), np.float32(1.18534705686654e-04)
_B2, _B0 = np.float32(2.26843463243900e-03), np.float32(4.89352518554385e-03)
_ZERO, _ONE = np.float32(0.0), np.float32(1.0)


def _tanh(x):
    """tanh in the precision of x (only called from jitted code, where the overload below applies)."""
    return math.tanh(x)


@overload(_tanh)
def _tanh_for_type(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:

        def rational_tanh(x):
            x = _CLAMP if x > _CLAMP else (-_CLAMP if x < -_CLAMP else x)
            x2 = x * x
            p = ((((((_A13 * x2 + _A11) * x2 + _A9) * x2 + _A7) * x2 + _A5) * x2 + _A3) * x2 + _A1) * x
            q = ((_B6 * x2 + _B4) * x2 + _B2) * x2 + _B0
            return p / q

        return rational_tanh
    return lambda x: math.tanh(x)  # float64: the exact libm tanh


def _sigmoid(x):
    """1 / (1 + e^-x) in the precision of x (only called from jitted code, where the overload below applies)."""
    return 1.0 / (1.0 + math.exp(-x))


@overload(_sigmoid)
def _sigmoid_for_type(x):
    """With z = e^-|x|: 1 / (1 + z) for x >= 0 and z / (1 + z) below, so neither overflows and a small
    sigmoid keeps its relative precision (sigmoid(-40) = 4.2e-18, as PyTorch; (1 + tanh(x/2)) / 2 rounds
    it to 0)."""
    if isinstance(x, types.Float) and x.bitwidth == 32:

        def sigmoid32(x):
            z = exp_of_non_positive(x if x <= _ZERO else -x)
            return _ONE / (_ONE + z) if x >= _ZERO else z / (_ONE + z)

        return sigmoid32

    def sigmoid64(x):
        z = math.exp(-abs(x))
        return 1.0 / (1.0 + z) if x >= 0.0 else z / (1.0 + z)

    return sigmoid64


# Each kernel takes 1-D slices of a row (one per gate) before its inner loop: indexing a 2-D array at a
# computed offset (gates[b, size + k]) kept LLVM from vectorizing the loop; plain 1-D indexing by the loop
# counter vectorizes (docs/kernels.md has the timings).


@njit(cache=True, error_model="numpy")
def _gru_cell(xp, hp, h_prev, gates, hn, h):
    size = h_prev.shape[1]
    for b in range(h_prev.shape[0]):
        x_r, x_z, x_n = xp[b, :size], xp[b, size : 2 * size], xp[b, 2 * size :]
        h_r, h_z, h_n = hp[b, :size], hp[b, size : 2 * size], hp[b, 2 * size :]
        r_out, z_out, n_out = gates[b, :size], gates[b, size : 2 * size], gates[b, 2 * size :]
        previous, hn_out, h_out = h_prev[b], hn[b], h[b]
        for k in range(size):
            r = _sigmoid(x_r[k] + h_r[k])
            z = _sigmoid(x_z[k] + h_z[k])
            n = _tanh(x_n[k] + r * h_n[k])
            r_out[k] = r
            z_out[k] = z
            n_out[k] = n
            hn_out[k] = h_n[k]
            h_out[k] = (_ONE - z) * n + z * previous[k]


@njit(cache=True, error_model="numpy")
def _gru_cell_backward(dh, gates, hn, h_prev, dxp, dhp, dh_direct):
    # Writes d xp whole but only the n-third of d hp: its r and z thirds equal d xp's and are copied after
    # the loop. Fewer output slices keep the loop within what LLVM will check for aliasing and vectorize
    # (with all ten output slices written here it did not; docs/kernels.md).
    size = h_prev.shape[1]
    for b in range(h_prev.shape[0]):
        r_row, z_row, n_row = gates[b, :size], gates[b, size : 2 * size], gates[b, 2 * size :]
        dx_r, dx_z, dx_n = dxp[b, :size], dxp[b, size : 2 * size], dxp[b, 2 * size :]
        dh_n = dhp[b, 2 * size :]
        grad, hidden_n, previous, direct = dh[b], hn[b], h_prev[b], dh_direct[b]
        for k in range(size):
            r, z, n = r_row[k], z_row[k], n_row[k]
            da_n = grad[k] * (_ONE - z) * (_ONE - n * n)
            dx_r[k] = da_n * hidden_n[k] * r * (_ONE - r)
            dx_z[k] = grad[k] * (previous[k] - n) * z * (_ONE - z)
            dx_n[k] = da_n
            dh_n[k] = da_n * r
            direct[k] = grad[k] * z
    dhp[:, : 2 * size] = dxp[:, : 2 * size]


@njit(cache=True, error_model="numpy")
def _lstm_cell(xp, hp, c_prev, gates, c, h):
    size = c_prev.shape[1]
    for b in range(c_prev.shape[0]):
        x_i, x_f, x_g, x_o = xp[b, :size], xp[b, size : 2 * size], xp[b, 2 * size : 3 * size], xp[b, 3 * size :]
        h_i, h_f, h_g, h_o = hp[b, :size], hp[b, size : 2 * size], hp[b, 2 * size : 3 * size], hp[b, 3 * size :]
        i_out, f_out = gates[b, :size], gates[b, size : 2 * size]
        g_out, o_out = gates[b, 2 * size : 3 * size], gates[b, 3 * size :]
        previous, c_out, h_out = c_prev[b], c[b], h[b]
        for k in range(size):
            i = _sigmoid(x_i[k] + h_i[k])
            f = _sigmoid(x_f[k] + h_f[k])
            g = _tanh(x_g[k] + h_g[k])
            o = _sigmoid(x_o[k] + h_o[k])
            i_out[k] = i
            f_out[k] = f
            g_out[k] = g
            o_out[k] = o
            cell = f * previous[k] + i * g
            c_out[k] = cell
            h_out[k] = o * _tanh(cell)


@njit(cache=True, error_model="numpy")
def _lstm_cell_backward(dh, dc, gates, c_prev, c, da, dc_prev):
    size = c_prev.shape[1]
    for b in range(c_prev.shape[0]):
        i_row, f_row = gates[b, :size], gates[b, size : 2 * size]
        g_row, o_row = gates[b, 2 * size : 3 * size], gates[b, 3 * size :]
        da_i, da_f, da_g, da_o = da[b, :size], da[b, size : 2 * size], da[b, 2 * size : 3 * size], da[b, 3 * size :]
        grad_h, grad_c, previous, cell, out = dh[b], dc[b], c_prev[b], c[b], dc_prev[b]
        for k in range(size):
            i, f, g, o = i_row[k], f_row[k], g_row[k], o_row[k]
            tanh_c = _tanh(cell[k])
            dc_total = grad_c[k] + grad_h[k] * o * (_ONE - tanh_c * tanh_c)
            da_i[k] = dc_total * g * i * (_ONE - i)
            da_f[k] = dc_total * previous[k] * f * (_ONE - f)
            da_g[k] = dc_total * i * (_ONE - g * g)
            da_o[k] = grad_h[k] * tanh_c * o * (_ONE - o)
            out[k] = dc_total * f


def gru_cell(xp, hp, h_prev, gates, hn, h):
    _gru_cell(xp, hp, h_prev, gates, hn, h)


def gru_cell_backward(dh, gates, hn, h_prev, dxp, dhp):
    dh_direct = np.empty_like(dh)
    _gru_cell_backward(dh, gates, hn, h_prev, dxp, dhp, dh_direct)
    return dh_direct


def lstm_cell(xp, hp, c_prev, gates, c, h):
    _lstm_cell(xp, hp, c_prev, gates, c, h)


def lstm_cell_backward(dh, dc, gates, c_prev, c, da):
    dc_prev = np.empty_like(dc)
    _lstm_cell_backward(dh, dc, gates, c_prev, c, da, dc_prev)
    return dc_prev
