"""Dynamic int8 quantization of Linear layers.

Weights W (out, in), one scale per output channel o (symmetric, zero point 0):

    w_o = max_i |W[o, i]| / 127,      Q[o, i] = round(W[o, i] / w_o)  in [-127, 127]

Activations x (rows r of (*, in)), quantized when they arrive, one scale per row:

    s_r = max_i |x[r, i]| / 127,      q[r, i] = round(x[r, i] / s_r)

    y[r, o] = s_r w_o sum_i q[r, i] Q[o, i] + b[o]        the sum in int32 (exact), the rest in float32

Per-row activation scales follow each sentence's token (a row) rather than the whole batch's largest
value, so a short or quiet row keeps its precision; PyTorch's dynamic quantization uses one scale per
tensor. The rounding error of each factor is at most half a step (scale/2), so a row's relative error stays
near 1/254 of its largest entry.

The layer is for inference: it holds int8 buffers, not Parameters, and refuses inputs that need gradients.
"""

import copy

import numpy as np

from .. import backend
from ..autograd import versions
from ..autograd.grad_mode import is_grad_enabled
from ..creation import as_tensor
from ..dtypes import int8 as qint8  # PyTorch's torch.qint8 (tm.qint8): here the NumPy int8 dtype
from ..nn.architecture import LAYERS
from ..nn.linear import Linear
from ..nn.module import Module


def quantize_per_channel(weight):
    """(Q int8 (out, in), w float32 (out,)) with weight[o] ~ w[o] Q[o] (the module docstring)."""
    weight = np.asarray(weight, dtype=np.float32)
    if not np.all(np.isfinite(weight)):
        raise ValueError("quantize_per_channel: the weight holds inf or nan values")
    return backend.kernels("quantized").quantize_rows(weight)


def copy_quantized(quantized, layer):
    """Fill a quantized layer's weight (int8), scale (per output channel) and bias from a float layer's
    (a Linear's (out, in) weight, or a convolution's (out, in, kh, kw), quantized per output channel)."""
    weight = layer.weight.detach().numpy()
    q, scale = quantize_per_channel(weight.reshape(weight.shape[0], -1))
    quantized.weight.numpy()[...] = q.reshape(weight.shape)
    quantized.scale.numpy()[...] = scale
    if layer.bias is not None:
        quantized.bias.numpy()[...] = layer.bias.detach().numpy()
    versions.mark_written(quantized.weight.numpy())  # a packed copy of the old weight is stale now
    return quantized


def inference_input(module, input):
    """The input as a Tensor; a quantized layer holds no Parameters, so an input that needs a gradient is
    an error rather than a gradient silently lost."""
    input = as_tensor(input)
    if input.requires_grad and is_grad_enabled():
        raise RuntimeError(f"{type(module).__name__} is for inference: run it under tm.no_grad()")
    return input


class DynamicQuantizedLinear(Module):
    """y = x W^T + b with W in int8 (per-output-channel scales) and x quantized per row at run time.
    state_dict: weight (int8, out x in), scale (float32, out), bias (float32, out) when present."""

    def __init__(self, in_features, out_features, bias=True, outlier_threshold=6.0):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.outlier_threshold = outlier_threshold
        self.register_buffer("weight", as_tensor(np.zeros((out_features, in_features), dtype=np.int8)))
        self.register_buffer("scale", as_tensor(np.ones(out_features, dtype=np.float32)))
        if bias:
            self.register_buffer("bias", as_tensor(np.zeros(out_features, dtype=np.float32)))
        else:
            self.bias = None

    @classmethod
    def from_float(cls, linear):
        """The quantized twin of a float Linear."""
        quantized = cls(linear.in_features, linear.out_features, linear.bias is not None)
        return copy_quantized(quantized, linear)

    def forward(self, input):
        input = inference_input(self, input)
        if input.ndim < 1 or input.shape[-1] != self.in_features:
            raise ValueError(
                f"DynamicQuantizedLinear: input of shape {input.shape} does not end in in_features {self.in_features}"
            )
        rows = input.array.reshape(-1, self.in_features)  # made float32 as it is quantized
        buffers = self._buffers  # the registry itself: a sentence's layer paid ~2 us for Module.__getattr__
        weight, bias = buffers["weight"].numpy(), buffers.get("bias")
        bias = None if bias is None else bias.numpy()
        out = int8_linear(rows, weight, buffers["scale"].numpy(), bias, self.outlier_threshold, self._packed(weight))
        return as_tensor(out.reshape(*input.shape[:-1], self.out_features))

    def _packed(self, weight):
        """The weight packed for the int8 kernel (kernels/quantized.py), made once and kept: packing a
        1536 x 384 weight takes longer than multiplying a sentence by it. Made again when the weight array
        is replaced or written in place (versions.py's clock: load_state_dict and copy_quantized tick it)."""
        kept = self.__dict__.get("_packed_weight")
        if kept is not None and kept[0] is weight and versions.stale_array((weight,), kept[1]) is None:
            return kept[2]
        packed = backend.kernels("quantized").pack_int8_weight(weight)
        self.__dict__["_packed_weight"] = (weight, versions.clock, packed)
        return packed

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, dtype=qint8, per-channel"


def int8_linear(rows, weight, weight_scale, bias=None, outlier_threshold=6.0, packed=None):
    """rows (m, in) float32 times the int8 weight (out, in) with its per-channel scales, plus the bias:
    rows quantized per row, outlier features (above outlier_threshold) in float32 (the module docstring).
    `packed`: the weight from the kernels' pack_int8_weight, when the caller keeps one."""
    # the outlier columns are left out of each row's scale and coded 0; their float products are added in a
    # pass after the int8 product (no threshold: nothing exceeds infinity, nan included). Without a kept
    # packed weight (the recurrent layers), the weight itself: packing on every call would cost more than
    # a small product saves
    threshold = np.inf if outlier_threshold is None else outlier_threshold
    return backend.kernels("quantized").int8_linear_dynamic(
        rows, threshold, weight if packed is None else packed, weight_scale, bias
    )


def _dynamic_twins():
    """float layer type -> its dynamic int8 twin (recurrent.py imports this module, so it is looked up late)."""
    from ..nn.rnn import GRU, LSTM
    from .recurrent import DynamicQuantizedGRU, DynamicQuantizedLSTM

    return {Linear: DynamicQuantizedLinear, GRU: DynamicQuantizedGRU, LSTM: DynamicQuantizedLSTM}


# saved models (nn/architecture.py) may hold quantized layers: architecture.json names them, the int8
# weights and their scales go to weights.safetensors
LAYERS["DynamicQuantizedLinear"] = (
    DynamicQuantizedLinear,
    ("in_features", "out_features", "bias", "outlier_threshold"),
)


def quantize_dynamic(model, qconfig_spec=None, dtype=qint8, mapping=None, inplace=False):
    """The model with each submodule whose type is in qconfig_spec (default: nn.Linear, nn.GRU, nn.LSTM, as
    PyTorch's) replaced by its dynamically quantized twin, as torch.ao.quantization.quantize_dynamic. A copy
    unless inplace."""
    if np.dtype(dtype) != qint8:
        raise ValueError(f"quantize_dynamic: only dtype=tm.qint8 is supported, got {dtype}")
    if mapping is not None:
        raise ValueError("quantize_dynamic: a custom mapping is not supported")
    twins = _dynamic_twins()
    wanted = set(twins) if qconfig_spec is None else set(qconfig_spec)
    unsupported = sorted(kind.__name__ for kind in wanted if kind not in twins)
    if unsupported:
        raise ValueError(
            f"quantize_dynamic: no dynamic int8 version of {unsupported}; supported: nn.Linear, nn.GRU, nn.LSTM"
        )
    if not inplace:
        model = copy.deepcopy(model)
    if type(model) in wanted:
        return twins[type(model)].from_float(model)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) in wanted:  # exact type, as PyTorch: a subclass may compute something else
                setattr(parent, name, twins[type(child)].from_float(child))
    return model
