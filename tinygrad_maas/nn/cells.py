"""RNNCell, GRUCell and LSTMCell: one time step of RNN, GRU and LSTM, for loops written by hand.

Each runs its layer's sequence function over a sequence of length 1 (the same ops, forward and backward,
as the full layers), with PyTorch's parameter names (weight_ih, weight_hh, bias_ih, bias_hh), shapes and
initialisation U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
"""

import math

from ..creation import empty_for_parameters as _empty
from ..creation import parameter_dtype, zeros
from ..ops.recurrent import gru_sequence, lstm_sequence
from . import init
from .module import Module, Parameter
from .rnn import rnn_sequence


class _CellBase(Module):
    gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{type(self).__name__}: {name} must be a positive integer, got {value!r}")
        dtype = parameter_dtype(device, dtype, type(self).__name__)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rows = self.gates * hidden_size
        self.weight_ih = Parameter(_empty((rows, input_size), dtype))
        self.weight_hh = Parameter(_empty((rows, hidden_size), dtype))
        if bias:
            self.bias_ih = Parameter(_empty((rows,), dtype))
            self.bias_hh = Parameter(_empty((rows,), dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            init.uniform_(parameter, -bound, bound)

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def _step_input(self, input):
        """input as a one-step sequence (1, N, input_size), and whether it came without a batch dim."""
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__}: expected input of shape (batch, {self.input_size}) or "
                f"({self.input_size},), got {input.shape}"
            )
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        return x.unsqueeze(0), unbatched

    def _state(self, state, batch, dtype, unbatched, name="hx"):
        if state is None:
            return zeros(batch, self.hidden_size, dtype=dtype)
        state = state.unsqueeze(0) if unbatched else state
        if state.shape != (batch, self.hidden_size):
            raise ValueError(
                f"{type(self).__name__}: {name} must have shape ({batch}, {self.hidden_size}), got {state.shape}"
            )
        return state

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu). forward(input, hx=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, unbatched = self._step_input(input)
        h = None if hx is None else self._state(hx, x.shape[1], x.dtype, unbatched)  # None: from zeros
        h = rnn_sequence(x, h, *self._weights(), nonlinearity=self.nonlinearity)[0]
        return h.squeeze(0) if unbatched else h


class GRUCell(_CellBase):
    """One step of PyTorch's GRU (gates r, z, n). forward(input, hx=None) -> h'."""

    gates = 3

    def forward(self, input, hx=None):
        x, unbatched = self._step_input(input)
        h = self._state(hx, x.shape[1], x.dtype, unbatched)
        h = gru_sequence(x, h, *self._weights())[0]
        return h.squeeze(0) if unbatched else h


class LSTMCell(_CellBase):
    """One step of PyTorch's LSTM (gates i, f, g, o). forward(input, (h, c)=None) -> (h', c')."""

    gates = 4

    def forward(self, input, hx=None):
        x, unbatched = self._step_input(input)
        h, c = (None, None) if hx is None else hx
        h = self._state(h, x.shape[1], x.dtype, unbatched, "h")
        c = self._state(c, x.shape[1], x.dtype, unbatched, "c")
        outputs, c = lstm_sequence(x, h, c, *self._weights())
        h = outputs[0]
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)
