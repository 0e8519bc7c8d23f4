"""RNN, GRU and LSTM layers with PyTorch's arguments, parameter names and return values.

A layer stacks num_layers recurrences; each layer runs forward in time and, if bidirectional, also
backward in time (on the time-reversed input, its outputs reversed back), and the two directions'
outputs are concatenated as the next layer's input, with dropout between layers in training.
Parameters are named as PyTorch's (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ..._reverse), so a
PyTorch state_dict loads unchanged. GRU and LSTM run each (layer, direction) as one graph node
(ops/recurrent.py); the plain RNN is composed of tensor ops per step.
"""

import math

from ..creation import empty_for_parameters as _empty
from ..creation import parameter_dtype, zeros
from ..ops.recurrent import gru_sequence, lstm_sequence
from ..tensor import cat, stack
from . import functional as F
from . import init
from .module import Module, Parameter


def rnn_sequence(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """The plain RNN over a (T, N, input) sequence from state h (N, hidden): every step's h, (T, N, hidden).
    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), composed of tensor ops (their backward is theirs);
    the input projection of every step is one matrix product. h=None starts from zeros."""
    projected = x @ w_ih.T + b_ih if b_ih is not None else x @ w_ih.T
    outputs = []
    for t in range(x.shape[0]):
        if h is None:  # h_0 = 0: no h_0 W_hh^T term
            pre = projected[t] + b_hh if b_hh is not None else projected[t]
        else:
            pre = projected[t] + (h @ w_hh.T + b_hh if b_hh is not None else h @ w_hh.T)
        h = pre.tanh() if nonlinearity == "tanh" else pre.relu()
        outputs.append(h)
    return stack(outputs)


class _RecurrentBase(Module):
    gates = 1

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{type(self).__name__}: {name} must be a positive integer, got {value!r}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, dropout, bidirectional
        dtype = parameter_dtype(device, dtype, type(self).__name__)
        rows = self.gates * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.directions
            for suffix in ("", "_reverse")[: self.directions]:
                self.register_parameter(f"weight_ih_l{layer}{suffix}", Parameter(_empty((rows, layer_input), dtype)))
                self.register_parameter(f"weight_hh_l{layer}{suffix}", Parameter(_empty((rows, hidden_size), dtype)))
                if bias:
                    self.register_parameter(f"bias_ih_l{layer}{suffix}", Parameter(_empty((rows,), dtype)))
                    self.register_parameter(f"bias_hh_l{layer}{suffix}", Parameter(_empty((rows,), dtype)))
        self.reset_parameters()

    def flatten_parameters(self):
        """Nothing to do: PyTorch packs the weights for cuDNN here; the CPU kernels read them as they are."""

    @property
    def directions(self):
        return 2 if self.bidirectional else 1

    def reset_parameters(self):
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            init.uniform_(parameter, -bound, bound)

    def _weights(self, layer, suffix):
        get = lambda name: self._parameters.get(f"{name}_l{layer}{suffix}")  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _initial_states(self, hx, batch, name="hx"):
        """One initial state per (layer, direction), or None each when hx is None: a zero state is made
        where a sequence starts (so no zeros of a traced batch size sit in an exported graph)."""
        shape = (self.num_layers * self.directions, batch, self.hidden_size)
        if hx is None:
            return [None] * shape[0]
        if hx.shape != shape:
            raise ValueError(f"{type(self).__name__}: {name} must have shape {shape}, got {hx.shape}")
        return [hx[k] for k in range(shape[0])]

    def _zeros_for(self, x):
        return zeros((x.shape[1], self.hidden_size), dtype=x.dtype)

    def _prepare(self, input):
        if input.ndim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: expected a 2-D (unbatched) or 3-D input, got shape {input.shape}")
        unbatched = input.ndim == 2
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__}: expected input_size {self.input_size} as the last dim, got shape {input.shape}"
            )
        return x, unbatched

    def _finish(self, output, unbatched):
        if unbatched:
            return output.squeeze(1)
        return output.transpose(0, 1) if self.batch_first else output

    def _run(self, x, states):
        """Run every layer and direction; states[k] is the initial state of (layer, direction) k. Returns
        the last layer's output (T, N, D*H) and the final states, in the same order."""
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(("", "_reverse")[: self.directions]):
                k = layer * self.directions + direction
                sequence = x.flip(0) if direction else x
                out, final = self._sequence(sequence, states[k], self._weights(layer, suffix))
                outputs.append(out.flip(0) if direction else out)
                finals.append(final)
            x = outputs[0] if len(outputs) == 1 else cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, finals

    def forward(self, input, hx=None):
        """The layers whose state is one tensor h (RNN, GRU; LSTM has its own): returns (output, h_n)."""
        x, unbatched = self._prepare(input)
        states = self._initial_states(hx if hx is None or not unbatched else hx.unsqueeze(1), x.shape[1])
        output, finals = self._run(x, states)
        h_n = stack(finals)
        return self._finish(output, unbatched), (h_n.squeeze(1) if unbatched else h_n)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(_RecurrentBase):
    """h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu with nonlinearity="relu").
    forward(input, hx=None) -> (output, h_n)."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype)
        self.nonlinearity = nonlinearity

    def _sequence(self, x, h, weights):
        outputs = rnn_sequence(x, h, *weights, nonlinearity=self.nonlinearity)
        return outputs, outputs[-1]


class GRU(_RecurrentBase):
    """PyTorch's GRU (gates r, z, n). forward(input, hx=None) -> (output, h_n)."""

    gates = 3

    def _sequence(self, x, h, weights):
        outputs = gru_sequence(x, self._zeros_for(x) if h is None else h, *weights)
        return outputs, outputs[-1]


class LSTM(_RecurrentBase):
    """PyTorch's LSTM (gates i, f, g, o). forward(input, (h0, c0)=None) -> (output, (h_n, c_n))."""

    gates = 4

    def _sequence(self, x, state, weights):
        h, c = (self._zeros_for(x) if s is None else s for s in state)
        outputs, final_cell = lstm_sequence(x, h, c, *weights)
        return outputs, (outputs[-1], final_cell)

    def forward(self, input, hx=None):
        x, unbatched = self._prepare(input)
        h0, c0 = (None, None) if hx is None else hx
        if unbatched and hx is not None:
            h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
        h0 = self._initial_states(h0, x.shape[1], "h0")
        c0 = self._initial_states(c0, x.shape[1], "c0")
        output, finals = self._run(x, list(zip(h0, c0)))
        h_n, c_n = stack([h for h, _ in finals]), stack([c for _, c in finals])
        if unbatched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._finish(output, unbatched), (h_n, c_n)
