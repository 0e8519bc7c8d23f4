"""Static int8 quantization of Conv2d and Linear layers: activation scales fixed by calibration.

Run the float model on a few representative batches; each quantized layer records the largest magnitude
its input reached (PyTorch's MinMaxObserver, symmetric). That fixes the input's scale once:

    s_x = max |x| over the calibration batches / 127        q = clip(round(x / s_x), -127, 127)

Weights are quantized per output channel as in dynamic.py. A Conv2d then multiplies int8 receptive
fields (im2col of q) by its int8 weights with int32 accumulation; a Linear its int8 rows:

    y[o, p] = s_x w_o sum_k Q[o, k] q[k, p] + b[o]

No scale is computed while serving, and the int8 input of the next layer could be produced directly; the
price is that an input beyond the calibrated range is clipped to it.
"""

import copy

import numpy as np

from .. import backend
from ..autograd.grad_mode import no_grad
from ..creation import as_tensor
from ..nn.architecture import LAYERS
from ..nn.conv import Conv2d
from ..nn.linear import Linear
from ..nn.module import Module
from ..ops.arguments import spatial
from .dynamic import copy_quantized, inference_input


def quantize_with_scale(x, scale):
    """q = clip(round(x / scale), -127, 127) as int8, for one scale for the whole tensor."""
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.rint(np.asarray(x, dtype=np.float32) / np.float32(scale))
    return np.clip(np.nan_to_num(q), -127, 127).astype(np.int8)


class _StaticQuantized(Module):
    """Buffers: weight int8 (out, ...), scale float32 (out,) per channel, input_scale float32 (), bias."""

    def _init_buffers(self, weight_shape, out, bias):
        self.register_buffer("weight", as_tensor(np.zeros(weight_shape, dtype=np.int8)))
        self.register_buffer("scale", as_tensor(np.ones(out, dtype=np.float32)))
        self.register_buffer("input_scale", as_tensor(np.ones((), dtype=np.float32)))
        if bias:
            self.register_buffer("bias", as_tensor(np.zeros(out, dtype=np.float32)))
        else:
            self.bias = None

    def _fill(self, layer, input_scale):
        self.input_scale.numpy()[...] = input_scale
        return copy_quantized(self, layer)

    def _scaled(self, product):
        """float32 (rows, out) from the int32 product: times s_x w_o, plus the bias."""
        out = product.astype(np.float32)
        out *= self.input_scale.numpy() * self.scale.numpy()
        if self.bias is not None:
            out += self.bias.numpy()
        return out


class StaticQuantizedLinear(_StaticQuantized):
    def extra_repr(self):
        scale = float(self.input_scale.numpy())
        return f"in_features={self.in_features}, out_features={self.out_features}, input_scale={scale:.4g}, dtype=qint8"

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self._init_buffers((out_features, in_features), out_features, bias)

    def forward(self, input):
        input = inference_input(self, input)
        if input.ndim < 1 or input.shape[-1] != self.in_features:
            raise ValueError(f"StaticQuantizedLinear: input of shape {input.shape} does not end in {self.in_features}")
        rows = quantize_with_scale(input.array.reshape(-1, self.in_features), self.input_scale.numpy())
        product = backend.kernels("quantized").int8_matmul_t(rows, self.weight.numpy())
        return as_tensor(self._scaled(product).reshape(*input.shape[:-1], self.out_features))


class StaticQuantizedConv2d(_StaticQuantized):
    def extra_repr(self):
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, input_scale={float(self.input_scale.numpy()):.4g}, dtype=qint8"
        )

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        op = "StaticQuantizedConv2d"
        self.kernel_size, self.stride = (
            spatial(kernel_size, 2, "kernel_size", op, 1),
            spatial(stride, 2, "stride", op, 1),
        )
        self.padding, self.dilation = spatial(padding, 2, "padding", op), spatial(dilation, 2, "dilation", op, 1)
        self._init_buffers((out_channels, in_channels, *self.kernel_size), out_channels, bias)

    def forward(self, input):
        input = inference_input(self, input)
        if input.ndim != 4 or input.shape[1] != self.in_channels:
            raise ValueError(f"StaticQuantizedConv2d: expected input (N, {self.in_channels}, H, W), got {input.shape}")
        q = quantize_with_scale(input.array, self.input_scale.numpy())
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = self.kernel_size, self.stride, self.padding, self.dilation
        if ph or pw:
            q = np.pad(q, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        out_h = (q.shape[2] - dh * (kh - 1) - 1) // sh + 1
        out_w = (q.shape[3] - dw * (kw - 1) - 1) // sw + 1
        if out_h < 1 or out_w < 1:
            raise ValueError(f"StaticQuantizedConv2d: input {input.shape} is smaller than the kernel")
        cols = backend.kernels("conv").im2col(q, kh, kw, sh, sw, dh, dw, out_h, out_w)  # (C*kh*kw, N*Ho*Wo)
        product = backend.kernels("quantized").int8_matmul_t(
            np.ascontiguousarray(cols.T), self.weight.numpy().reshape(self.out_channels, -1)
        )  # (N*Ho*Wo, O)
        out = self._scaled(product).reshape(input.shape[0], out_h, out_w, self.out_channels)
        return as_tensor(np.ascontiguousarray(out.transpose(0, 3, 1, 2)))


def _from_float(layer, input_scale):
    if type(layer) is Linear:
        quantized = StaticQuantizedLinear(layer.in_features, layer.out_features, layer.bias is not None)
    else:
        if layer.groups != 1 or not isinstance(layer.padding, tuple):
            raise ValueError("quantize_static: Conv2d with groups or string padding is not supported")
        quantized = StaticQuantizedConv2d(
            layer.in_channels,
            layer.out_channels,
            layer.kernel_size,
            layer.stride,
            layer.padding,
            layer.dilation,
            layer.bias is not None,
        )
    return quantized._fill(layer, input_scale)


def quantize_static(model, calibration, qconfig_spec=None, inplace=False):
    """The model with its Conv2d and Linear layers (or the types in qconfig_spec) in int8, their input
    scales calibrated on `calibration`: an iterable of input batches (arrays or tensors) run through the
    float model first. A copy unless inplace."""
    wanted = {Conv2d, Linear} if qconfig_spec is None else set(qconfig_spec)
    unsupported = sorted(kind.__name__ for kind in wanted if kind not in (Conv2d, Linear))
    if unsupported:
        raise ValueError(f"quantize_static: no static int8 version of {unsupported}; supported: nn.Conv2d, nn.Linear")
    if not inplace:
        model = copy.deepcopy(model)
    targets = [
        (parent, name, child)
        for parent in model.modules()
        for name, child in parent.named_children()
        if type(child) in wanted
    ]
    largest = {id(child): 0.0 for _, _, child in targets}
    hooks = [child.register_forward_hook(_observer(largest, id(child))) for _, _, child in targets]
    was_training = model.training
    model.eval()
    batches = 0
    try:
        with no_grad():
            for batch in calibration:
                model(as_tensor(batch))
                batches += 1
    finally:
        for hook in hooks:
            hook.remove()
    if not batches:
        raise ValueError("quantize_static: the calibration data held no batch")
    for parent, name, child in targets:
        amax = largest[id(child)]
        setattr(parent, name, _from_float(child, amax / 127 if amax > 0 else 1.0))
    return model.train(was_training)


def _observer(largest, key):
    def observe(module, inputs, output):
        largest[key] = max(largest[key], float(np.abs(inputs[0].numpy()).max(initial=0.0)))

    return observe


LAYERS["StaticQuantizedLinear"] = (StaticQuantizedLinear, ("in_features", "out_features", "bias"))
LAYERS["StaticQuantizedConv2d"] = (
    StaticQuantizedConv2d,
    ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "bias"),
)
