"""GRU and LSTM over a whole sequence as one graph node each (not a dozen nodes per time step).

forward:  XP = X W_ih^T + b_ih                      all time steps in one matmul: (T, N, G*H)
          for t: hp = h W_hh^T + b_hh; h = cell(XP[t], hp, h)       one small matmul + one fused kernel
          (where a gate is a plain sum, b_hh is added into XP once instead of into hp every step)
backward: for t from last to first:
              dXP[t], dHP[t] = cell_backward(dh, ...)   (the cell's derivation: reference/recurrent.py)
              dh = direct part + dHP[t] W_hh            the gradient flowing to the previous step
          dW_hh = sum_t dHP[t]^T h_{t-1}   dW_ih = sum_t dXP[t]^T x_t     each one matmul over all steps
          db_ih = sum dXP,  db_hh = sum dHP,  dX = dXP W_ih

Gate order and weight layout are PyTorch's (GRU: r, z, n; LSTM: i, f, g, o), so nn.GRU / nn.LSTM can
hold PyTorch's weight_ih_l0 etc. unchanged. The cell kernels come from the backend. Under create_graph the
gradients come from each op's `definition` (one cell per step in Tensor ops) replayed (autograd/replay.py).
"""

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.replay import gradients_by_replay
from . import either
from .join import stack


def _input_projection(x, w_ih, bias):
    """X W_ih^T + bias for all time steps in one matmul: (T, N, G*H). The bias is added in place."""
    steps, batch, _ = x.shape
    projected = (x.reshape(steps * batch, -1) @ w_ih.T).reshape(steps, batch, -1)
    if bias is not None:
        projected += bias
    return projected


def _add_biases(b_ih, b_hh):
    if b_ih is None or b_hh is None:
        return b_ih if b_hh is None else b_hh
    return b_ih + b_hh


def _weight_grads(dxp, dhp, x, previous_h, w_ih):
    """The sequence-level gradients shared by GRU and LSTM: one matmul each over all time steps."""
    width = dxp.shape[-1]
    dxp2, dhp2 = dxp.reshape(-1, width), dhp.reshape(-1, width)
    grad_w_ih = dxp2.T @ x.reshape(-1, x.shape[-1])
    grad_w_hh = dhp2.T @ previous_h.reshape(-1, previous_h.shape[-1])
    grad_x = (dxp2 @ w_ih).reshape(x.shape)
    return grad_x, grad_w_ih, grad_w_hh, dxp2.sum(axis=0), dhp2.sum(axis=0)


def _gru_input_bias(b_ih, b_hh, size):
    """b_ih plus the r and z thirds of b_hh, which add straight into those gates' sums. b_hh's n third must
    stay with W_hn h, because n = tanh(xn + r * (W_hn h + b_hn))."""
    if b_hh is None:
        return b_ih
    bias = np.zeros_like(b_hh) if b_ih is None else b_ih.copy()
    bias[: 2 * size] += b_hh[: 2 * size]
    return bias


class GRUSequence(Function):
    """outputs[t] = h_t for t = 1..T, from x (T, N, I), h0 (N, H), w_ih (3H, I), w_hh (3H, H), b_ih, b_hh.

    Backpropagation through time, last step first (the cell's own derivative: reference/recurrent.py):
        dXP[t], dHP[t] = cell_backward(dL/dh_t)     dL/dh_{t-1} = (direct part) + dHP[t] W_hh
        dL/dW_ih = sum_t dXP[t]^T x_t    dL/dW_hh = sum_t dHP[t]^T h_{t-1}    dL/dx = dXP W_ih
        dL/db_ih = sum dXP,  dL/db_hh = sum dHP,  dL/dh0 = the gradient that reaches step 0
    """

    saved_roles = ("x", "h0", "w_ih", "w_hh", None, None, None, "b_ih", "b_hh")

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh):
        cell = backend.kernels("recurrent").gru_cell
        steps, batch = x.shape[:2]
        size = h0.shape[1]
        xp = _input_projection(x, w_ih, _gru_input_bias(b_ih, b_hh, size))
        outputs = np.empty((steps, batch, size), dtype=x.dtype)
        gates = np.empty((steps, batch, 3 * size), dtype=x.dtype)
        hn = np.empty((steps, batch, size), dtype=x.dtype)
        hp = np.empty((batch, 3 * size), dtype=x.dtype)  # reused every step
        w_hh_t = w_hh.T
        h = h0
        for t in range(steps):
            np.matmul(h, w_hh_t, out=hp)
            if b_hh is not None:
                hp[:, 2 * size :] += b_hh[2 * size :]
            cell(xp[t], hp, h, gates[t], hn[t], outputs[t])
            h = outputs[t]
        ctx.save_for_backward(x, h0, w_ih, w_hh, outputs, gates, hn, b_ih, b_hh)
        return outputs

    @staticmethod
    def backward(ctx, grad):
        x, h0, w_ih, w_hh, outputs, gates, hn, b_ih, b_hh = ctx.saved_tensors
        if either.is_tensor(grad):
            return gradients_by_replay(ctx, grad, GRUSequence.definition, (x, h0, w_ih, w_hh, b_ih, b_hh))
        cell_backward = backend.kernels("recurrent").gru_cell_backward
        previous_h = np.concatenate([h0[None], outputs[:-1]])
        dxp, dhp = np.empty_like(gates), np.empty_like(gates)
        dh = np.zeros_like(h0)
        for t in reversed(range(x.shape[0])):
            direct = cell_backward(dh + grad[t], gates[t], hn[t], previous_h[t], dxp[t], dhp[t])
            dh = direct + dhp[t] @ w_hh
        grad_x, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh = _weight_grads(dxp, dhp, x, previous_h, w_ih)
        return grad_x, dh, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh

    @staticmethod
    def definition(x, h0, w_ih, w_hh, b_ih, b_hh):
        """The GRU in Tensor ops, one step at a time (PyTorch's equations):
        r = s(x W_ir + b_ir + h W_hr + b_hr), z = s(x W_iz + b_iz + h W_hz + b_hz),
        n = tanh(x W_in + b_in + r (h W_hn + b_hn)), h' = (1 - z) n + z h."""
        size = h0.shape[1]
        h, outputs = h0, []
        for t in range(x.shape[0]):
            xp, hp = _affine(x[t], w_ih, b_ih), _affine(h, w_hh, b_hh)
            r = (xp[:, :size] + hp[:, :size]).sigmoid()
            z = (xp[:, size : 2 * size] + hp[:, size : 2 * size]).sigmoid()
            n = (xp[:, 2 * size :] + r * hp[:, 2 * size :]).tanh()
            h = (1 - z) * n + z * h
            outputs.append(h)
        return stack(outputs)


class LSTMSequence(Function):
    """outputs[0, t] = h_t and outputs[1, t] = c_t (shape (2, T, N, H)), from x (T, N, I), h0, c0 (N, H),
    w_ih (4H, I), w_hh (4H, H), b_ih, b_hh. Every h and every c is an output, so a loss on c_T (or any c_t)
    differentiates too; the (2, T, N, H) layout keeps each step's h and c contiguous.

    Backpropagation through time, last step first: with a_t the gate pre-activations (XP[t] + h W_hh^T),
        dA[t], dL/dc_{t-1} = cell_backward(dL/dh_t, dL/dc_t)      dL/dh_{t-1} = dA[t] W_hh
        dL/dW_ih = sum_t dA[t]^T x_t    dL/dW_hh = sum_t dA[t]^T h_{t-1}    dL/dx = dA W_ih
        dL/db_ih = dL/db_hh = sum dA    (both biases are added to every gate)
    """

    saved_roles = ("x", "h0", "c0", "w_ih", "w_hh", None, None, "b_ih", "b_hh")

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        cell = backend.kernels("recurrent").lstm_cell
        steps, batch = x.shape[:2]
        size = h0.shape[1]
        xp = _input_projection(x, w_ih, _add_biases(b_ih, b_hh))  # every LSTM gate is a plain sum: both biases fold in
        outputs = np.empty((2, steps, batch, size), dtype=x.dtype)
        hs, cs = outputs
        gates = np.empty((steps, batch, 4 * size), dtype=x.dtype)
        hp = np.empty((batch, 4 * size), dtype=x.dtype)  # reused every step
        w_hh_t = w_hh.T
        h, c = h0, c0
        for t in range(steps):
            np.matmul(h, w_hh_t, out=hp)
            cell(xp[t], hp, c, gates[t], cs[t], hs[t])
            h, c = hs[t], cs[t]
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, outputs, gates, b_ih, b_hh)
        return outputs

    @staticmethod
    def backward(ctx, grad):
        x, h0, c0, w_ih, w_hh, outputs, gates, b_ih, b_hh = ctx.saved_tensors
        if either.is_tensor(grad):
            return gradients_by_replay(ctx, grad, LSTMSequence.definition, (x, h0, c0, w_ih, w_hh, b_ih, b_hh))
        cell_backward = backend.kernels("recurrent").lstm_cell_backward
        hs, cs = outputs
        grad_h, grad_c = grad
        previous_h = np.concatenate([h0[None], hs[:-1]])
        da = np.empty_like(gates)
        dh, dc = np.zeros_like(h0), np.zeros_like(c0)
        for t in reversed(range(x.shape[0])):
            c_prev = cs[t - 1] if t else c0
            dc = cell_backward(dh + grad_h[t], dc + grad_c[t], gates[t], c_prev, cs[t], da[t])
            dh = da[t] @ w_hh
        grad_x, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh = _weight_grads(da, da, x, previous_h, w_ih)
        return grad_x, dh, dc, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh

    @staticmethod
    def definition(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        """The LSTM in Tensor ops, one step at a time (PyTorch's equations): with a = x W_ih^T + b_ih +
        h W_hh^T + b_hh split into i, f, g, o: c' = s(f) c + s(i) tanh(g), h' = s(o) tanh(c')."""
        size = h0.shape[1]
        h, c, hs, cs = h0, c0, [], []
        for t in range(x.shape[0]):
            a = _affine(x[t], w_ih, b_ih) + _affine(h, w_hh, b_hh)
            i, f = a[:, :size].sigmoid(), a[:, size : 2 * size].sigmoid()
            g, o = a[:, 2 * size : 3 * size].tanh(), a[:, 3 * size :].sigmoid()
            c = f * c + i * g
            h = o * c.tanh()
            hs.append(h)
            cs.append(c)
        return stack([stack(hs), stack(cs)])


def _affine(x, weight, bias):
    """x W^T + b in Tensor ops (b may be None)."""
    out = x @ weight.T
    return out if bias is None else out + bias


def gru_sequence(x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
    """Run a one-layer, one-direction GRU over x (T, N, I) from h0 (N, H): returns outputs (T, N, H);
    outputs[-1] is h_T. The building block of nn.GRU (more layers, batch_first, bidirectional)."""
    _check_recurrent("gru_sequence", 3, x, h0, w_ih, w_hh, b_ih, b_hh)
    return GRUSequence.apply(x, h0, w_ih, w_hh, b_ih, b_hh)


def lstm_sequence(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
    """Run a one-layer, one-direction LSTM over x (T, N, I) from (h0, c0) (N, H) each: returns
    (outputs (T, N, H), c_T (N, H)); outputs[-1] is h_T."""
    _check_recurrent("lstm_sequence", 4, x, h0, w_ih, w_hh, b_ih, b_hh)
    if c0.shape != h0.shape or c0.dtype != h0.dtype:
        raise ValueError(f"lstm_sequence(): c0 must match h0 {h0.shape} {h0.dtype}, got {c0.shape} {c0.dtype}")
    both = LSTMSequence.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    return both[0], both[1, -1]


def _check_recurrent(op, gates, x, h0, w_ih, w_hh, b_ih, b_hh):
    if x.ndim != 3 or h0.ndim != 2:
        raise ValueError(
            f"{op}(): expected x of shape (T, N, input_size) and h0 of shape (N, hidden_size), "
            f"got {x.shape} and {h0.shape}"
        )
    steps, batch, inputs = x.shape
    size = h0.shape[1]
    expected = {
        "h0": (h0, (batch, size)),
        "w_ih": (w_ih, (gates * size, inputs)),
        "w_hh": (w_hh, (gates * size, size)),
        "b_ih": (b_ih, (gates * size,)),
        "b_hh": (b_hh, (gates * size,)),
    }
    for name, (tensor, shape) in expected.items():
        if tensor is not None and tensor.shape != shape:
            raise ValueError(
                f"{op}(): {name} must have shape {shape} for x {x.shape} and hidden size {size}, got {tensor.shape}"
            )
    kinds = {t.dtype for t in (x, h0, w_ih, w_hh, b_ih, b_hh) if t is not None}
    if len(kinds) != 1 or x.dtype.kind != "f":
        raise TypeError(f"{op}(): all tensors must share one floating dtype, got {sorted(map(str, kinds))}")
    if steps == 0:
        raise ValueError(f"{op}(): the sequence is empty (x has shape {x.shape})")
