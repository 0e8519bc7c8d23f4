"""ONNX layer operators run with our layers' functional forms: Gemm, Conv, ConvTranspose, pools, Resize,
normalisation, GRU, LSTM.

Weights in PyTorch's gate order are cut from ONNX's with tensor slicing and concatenation, so gradients
reach the graph's own initializers (an imported model fine-tunes).
"""

from ..nn import functional as F
from ..ops.join import cat
from ..ops.recurrent import gru_sequence, lstm_sequence


def _text(value, default):
    value = default if value is None else value
    return value.decode() if isinstance(value, bytes) else value


def _symmetric_pads(node, spatial):
    """ONNX pads (begins then ends) as one padding per spatial axis; asymmetric pads are applied first."""
    if _text(node.attr("auto_pad"), "NOTSET") not in ("NOTSET", "VALID"):
        node.fail(f"auto_pad {_text(node.attr('auto_pad'), '')!r} is not supported (NOTSET or VALID)")
    pads = node.attr("pads") or [0] * (2 * spatial)
    begins, ends = pads[:spatial], pads[spatial:]
    return begins, ends


def _gemm(node):
    a, b, c = node.input(0), node.input(1), node.input(2)
    alpha, beta = node.attr("alpha", 1.0), node.attr("beta", 1.0)
    if node.attr("transA", 0):
        a = a.T
    if node.attr("transB", 0) and alpha == 1.0 and beta == 1.0 and (c is None or c.ndim == 1):
        return F.linear(a, b, c)  # nn.Linear's layout: the fast path and its kernel
    y = a @ (b.T if node.attr("transB", 0) else b)
    if alpha != 1.0:
        y = y * alpha
    if c is not None:
        y = y + (c * beta if beta != 1.0 else c)
    return y


def _conv(node):
    x, weight, bias = node.input(0), node.input(1), node.input(2)
    spatial = weight.ndim - 2
    if spatial not in (1, 2):
        node.fail(f"only 1-D and 2-D convolutions are supported, got {spatial}-D")
    begins, ends = _symmetric_pads(node, spatial)
    if begins != ends:
        x = F.pad(x, [w for pair in zip(begins[::-1], ends[::-1]) for w in pair])
        begins = [0] * spatial
    conv = F.conv2d if spatial == 2 else F.conv1d
    return conv(
        x,
        weight,
        bias,
        stride=tuple(node.attr("strides") or [1] * spatial),
        padding=tuple(begins),
        dilation=tuple(node.attr("dilations") or [1] * spatial),
        groups=node.attr("group", 1),
    )


def _pool_arguments(node):
    """(kernel, stride, padding, dilation, ceil_mode) as 2-D pairs; a 1-D pool is a 2-D one of height 1."""
    kernel = list(node.attr("kernel_shape"))
    spatial = len(kernel)
    if spatial not in (1, 2):
        node.fail(f"only 1-D and 2-D pooling is supported, got kernel_shape {kernel}")
    begins, ends = _symmetric_pads(node, spatial)
    if begins != ends:
        node.fail(f"asymmetric pads {node.attr('pads')} are not supported in pooling")
    stride, dilation = list(node.attr("strides") or [1] * spatial), list(node.attr("dilations") or [1] * spatial)
    lead = [1] * (2 - spatial)
    pairs = [tuple(lead + v) for v in (kernel, stride, dilation)] + [tuple([0] * (2 - spatial) + list(begins))]
    kernel, stride, dilation, padding = pairs
    return kernel, stride, padding, dilation, bool(node.attr("ceil_mode", 0))


def _as_2d(node, pool):
    """Run a 2-D pool, on a 1-D input given a height of 1."""
    x = node.input(0)
    one_d = x.ndim == 3
    out = pool(x.unsqueeze(2) if one_d else x, *_pool_arguments(node))
    return out.squeeze(2) if one_d else out


def _max_pool(node):
    if node.outputs > 1:
        node.fail("the Indices output of MaxPool is not supported")
    pool = lambda x, kernel, stride, padding, dilation, ceil_mode: F.max_pool2d(
        x, kernel, stride, padding, dilation=dilation, ceil_mode=ceil_mode
    )
    return _as_2d(node, pool)


def _average_pool(node):
    include = bool(node.attr("count_include_pad", 0))

    def pool(x, kernel, stride, padding, dilation, ceil_mode):
        if dilation != (1, 1):
            node.fail("dilated average pooling is not supported")
        return F.avg_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode, count_include_pad=include)

    return _as_2d(node, pool)


def _conv_transpose(node):
    x, weight, bias = node.input(0), node.input(1), node.input(2)
    if weight.ndim != 4:
        node.fail(f"only 2-D transposed convolutions are supported, got a weight of shape {weight.shape}")
    if node.attr("output_shape") is not None:
        node.fail("output_shape is not supported: give pads and output_padding")
    begins, ends = _symmetric_pads(node, 2)
    if begins != ends:
        node.fail(f"asymmetric pads {node.attr('pads')} are not supported in ConvTranspose")
    return F.conv_transpose2d(
        x,
        weight,
        bias,
        stride=tuple(node.attr("strides") or [1, 1]),
        padding=tuple(begins),
        output_padding=tuple(node.attr("output_padding") or [0, 0]),
        groups=node.attr("group", 1),
        dilation=tuple(node.attr("dilations") or [1, 1]),
    )


def _instance_normalization(node):
    """y = scale (x - mean) / sqrt(var + eps) + B over each (sample, channel)'s positions (biased var)."""
    x, scale, bias = node.inputs[:3]
    axes = tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axes, keepdim=True), x.var(axes, keepdim=True, correction=0)
    normalised = (x - mean) / (var + node.attr("epsilon", 1e-5)).sqrt()
    return normalised * scale.reshape(shape) + bias.reshape(shape)


# Resize's (mode, coordinate_transformation_mode) -> F.interpolate's mode and align_corners, for the
# forms PyTorch's exporter writes for nn.Upsample / F.interpolate.
_RESIZE = {
    ("nearest", "asymmetric"): ("nearest", None),
    ("linear", "half_pixel"): ("linear", False),
    ("linear", "pytorch_half_pixel"): ("linear", False),
    ("linear", "align_corners"): ("linear", True),
}


def _resize(node):
    x = node.input(0)
    mode = _text(node.attr("mode"), "nearest")
    transform = _text(node.attr("coordinate_transformation_mode"), "half_pixel")
    if (mode, transform) not in _RESIZE or (mode == "nearest" and _text(node.attr("nearest_mode"), "") != "floor"):
        node.fail(f"mode {mode!r} with coordinate_transformation_mode {transform!r} is not supported")
    kind, align_corners = _RESIZE[(mode, transform)]
    if kind == "linear":
        kind = {3: "linear", 4: "bilinear"}.get(x.ndim, "linear")
    scales, sizes = node.input(2), node.input(3)
    if sizes is not None and sizes.numel():
        return F.interpolate(x, size=node.ints(3)[2:], mode=kind, align_corners=align_corners)
    factors = [float(v) for v in scales.array.reshape(-1)]
    if factors[:2] != [1.0, 1.0]:
        node.fail(f"only the spatial dims can be resized, got scales {factors}")
    return F.interpolate(x, scale_factor=tuple(factors[2:]), mode=kind, align_corners=align_corners)


def _global_average_pool(node):
    x = node.input(0)
    return x.mean(tuple(range(2, x.ndim)), keepdim=True)


def _batch_normalization(node):
    if node.attr("training_mode", 0) or node.outputs > 1:
        node.fail("only inference BatchNormalization (training_mode=0, one output) is supported")
    x, scale, bias, mean, var = node.inputs[:5]
    return F.batch_norm(x, mean, var, scale, bias, False, 0.0, node.attr("epsilon", 1e-5))


def _layer_normalization(node):
    if node.outputs > 1:
        node.fail("the Mean and InvStdDev outputs of LayerNormalization are not supported")
    x, scale, bias = node.input(0), node.input(1), node.input(2)
    axis = node.attr("axis", -1) % x.ndim
    return F.layer_norm(x, x.shape[axis:], scale, bias, node.attr("epsilon", 1e-5))


def _recurrent_checks(node, gates):
    if node.attr("layout", 0) != 0:
        node.fail("only layout=0 (sequence first) is supported")
    if node.input(4) is not None:
        node.fail("sequence_lens is not supported: every sequence runs to full length")
    if node.attr("activations") is not None or node.attr("clip") is not None:
        node.fail("custom activations and clip are not supported")
    if gates == 3 and not node.attr("linear_before_reset", 0):
        node.fail("only linear_before_reset=1 (PyTorch's GRU) is supported")
    if gates == 4 and (node.input(7) is not None or node.attr("input_forget", 0)):
        node.fail("peepholes and input_forget are not supported")
    direction = _text(node.attr("direction"), "forward")
    return ["forward", "reverse"] if direction == "bidirectional" else [direction]


def _reorder(weight, order, size):
    """ONNX's gate blocks of `weight` (gates * size rows) put in PyTorch's order."""
    return cat([weight[k * size : (k + 1) * size] for k in order], dim=0)


def _directions(node, gates, order, run):
    """Run each direction with its weights in PyTorch's layout; stack outputs as ONNX's Y, Y_h (, Y_c)."""
    x, w, r, b = node.input(0), node.input(1), node.input(2), node.input(3)
    size = node.attr("hidden_size")
    directions = _recurrent_checks(node, gates)
    batch = x.shape[1]
    ys, finals, cells = [], [], []
    for d, direction in enumerate(directions):
        w_ih, w_hh = _reorder(w[d], order, size), _reorder(r[d], order, size)
        b_ih = b_hh = None
        if b is not None:
            b_ih = _reorder(b[d][: gates * size], order, size)
            b_hh = _reorder(b[d][gates * size :], order, size)
        state = [node.input(i)[d] if node.input(i) is not None else None for i in (5, 6)]
        state = [s if s is not None else x.new_zeros((batch, size)) for s in state]
        sequence = x.flip(0) if direction == "reverse" else x
        y, cell = run(sequence, state, w_ih, w_hh, b_ih, b_hh)
        y = y.flip(0) if direction == "reverse" else y
        ys.append(y.unsqueeze(1))
        finals.append((y[0] if direction == "reverse" else y[-1]).unsqueeze(0))
        cells.append(cell)
    y = cat(ys, dim=1)
    y_h = cat(finals, dim=0)
    if gates == 3:
        return y, y_h
    return y, y_h, cat([c.unsqueeze(0) for c in cells], dim=0)


def _gru(node):
    """ONNX gates z, r, h; PyTorch's (and gru_sequence's) r, z, n."""
    run = lambda x, state, *weights: (gru_sequence(x, state[0], *weights), None)
    return _directions(node, 3, (1, 0, 2), run)


def _lstm(node):
    """ONNX gates i, o, f, c; PyTorch's (and lstm_sequence's) i, f, g, o."""
    run = lambda x, state, *weights: lstm_sequence(x, state[0], state[1], *weights)
    return _directions(node, 4, (0, 2, 3, 1), run)


LAYER_HANDLERS = {
    "Gemm": _gemm,
    "Conv": _conv,
    "MaxPool": _max_pool,
    "AveragePool": _average_pool,
    "GlobalAveragePool": _global_average_pool,
    "ConvTranspose": _conv_transpose,
    "InstanceNormalization": _instance_normalization,
    "Resize": _resize,
    "BatchNormalization": _batch_normalization,
    "LayerNormalization": _layer_normalization,
    "GRU": _gru,
    "LSTM": _lstm,
}

# initializers that hold statistics, not weights: buffers of the imported module (no gradient)
STATISTICS_INPUTS = {"BatchNormalization": (3, 4)}
