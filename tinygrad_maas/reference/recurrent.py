"""GRU and LSTM cells in NumPy: the reference twins of kernels/recurrent.py.

A cell step gets its two projections already multiplied out: xp = W_ih x_t + b_ih (for every step in
one matmul) and hp = W_hh h_{t-1} + b_hh, so it is only elementwise work. Gate order as PyTorch.

GRU (r, z, n):   r = s(xr + hr)   z = s(xz + hz)   n = tanh(xn + r * hn)   h = (1 - z) n + z h_prev
  backward, given dh (the gradient at h):
    dn = dh (1 - z)          dz = dh (h_prev - n)          dh_prev (direct part) = dh z
    da_n = dn (1 - n^2)      dr = da_n hn                  (a_* are pre-activations)
    da_r = dr r (1 - r)      da_z = dz z (1 - z)
    d xp = [da_r, da_z, da_n]          d hp = [da_r, da_z, da_n r]
LSTM (i, f, g, o):   i, f, o = s(.)   g = tanh(.)   c = f c_prev + i g   h = o tanh(c)
  backward, given dh and dc (the gradient at h and at c):
    dc_total = dc + dh o (1 - tanh(c)^2)
    da_i = dc_total g i (1 - i)        da_f = dc_total c_prev f (1 - f)
    da_g = dc_total i (1 - g^2)        da_o = dh tanh(c) o (1 - o)
    d xp = d hp = [da_i, da_f, da_g, da_o]        dc_prev = dc_total f
(s is the logistic sigmoid, s' = s (1 - s); tanh' = 1 - tanh^2.)
"""

import numpy as np

from .elementwise import logistic as _sigmoid


def gru_cell(xp, hp, h_prev, gates, hn, h):
    """One GRU step. Writes r, z, n into gates (N, 3H), hp's n-part into hn and the new hidden state
    into h (all (N, H) arrays are the caller's, so a sequence allocates nothing per step)."""
    size = h_prev.shape[1]
    r = _sigmoid(xp[:, :size] + hp[:, :size])
    z = _sigmoid(xp[:, size : 2 * size] + hp[:, size : 2 * size])
    hn[...] = hp[:, 2 * size :]
    n = np.tanh(xp[:, 2 * size :] + r * hn)
    gates[:, :size], gates[:, size : 2 * size], gates[:, 2 * size :] = r, z, n
    h[...] = (1 - z) * n + z * h_prev


def gru_cell_backward(dh, gates, hn, h_prev, dxp, dhp):
    """Backward of one GRU step: writes d xp and d hp (N, 3H); returns dh_prev's direct part (dh z)."""
    size = h_prev.shape[1]
    r, z, n = gates[:, :size], gates[:, size : 2 * size], gates[:, 2 * size :]
    da_n = dh * (1 - z) * (1 - n * n)
    da_r = da_n * hn * r * (1 - r)
    da_z = dh * (h_prev - n) * z * (1 - z)
    dxp[:, :size], dxp[:, size : 2 * size], dxp[:, 2 * size :] = da_r, da_z, da_n
    dhp[:, :size], dhp[:, size : 2 * size], dhp[:, 2 * size :] = da_r, da_z, da_n * r
    return dh * z


def lstm_cell(xp, hp, c_prev, gates, c, h):
    """One LSTM step. Writes i, f, g, o into gates (N, 4H), the new cell into c and the new hidden state
    into h."""
    size = c_prev.shape[1]
    a = xp + hp
    i, f = _sigmoid(a[:, :size]), _sigmoid(a[:, size : 2 * size])
    g, o = np.tanh(a[:, 2 * size : 3 * size]), _sigmoid(a[:, 3 * size :])
    gates[:, :size], gates[:, size : 2 * size], gates[:, 2 * size : 3 * size], gates[:, 3 * size :] = i, f, g, o
    c[...] = f * c_prev + i * g
    h[...] = o * np.tanh(c)


def lstm_cell_backward(dh, dc, gates, c_prev, c, da):
    """Backward of one LSTM step: writes the pre-activation gradient da (N, 4H); returns dc_prev."""
    size = c_prev.shape[1]
    i, f, g, o = gates[:, :size], gates[:, size : 2 * size], gates[:, 2 * size : 3 * size], gates[:, 3 * size :]
    tanh_c = np.tanh(c)
    dc_total = dc + dh * o * (1 - tanh_c * tanh_c)
    da[:, :size] = dc_total * g * i * (1 - i)
    da[:, size : 2 * size] = dc_total * c_prev * f * (1 - f)
    da[:, 2 * size : 3 * size] = dc_total * i * (1 - g * g)
    da[:, 3 * size :] = dh * tanh_c * o * (1 - o)
    return dc_total * f
