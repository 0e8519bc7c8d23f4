"""2-D convolution (cross-correlation, as in PyTorch) by im2col and one batched matmul.

    cols = im2col(pad(x))                         (G, Cg*kh*kw, N*Ho*Wo)   every receptive field a column
    out  = W_g @ cols + b                         (G, O/G, N*Ho*Wo)        W_g: (G, O/G, Cg*kh*kw)

One GEMM per group covers the whole batch (far faster than one small GEMM per image).
backward, with g = dL/dout laid out as (G, O/G, N*Ho*Wo):
    dL/dW_g = g @ cols^T                          each weight meets every column it multiplied
    dL/dx   = unpad(col2im(W_g^T @ g))            col2im is the adjoint of im2col: it sums the column
                                                  gradients back into the input positions they came from
    dL/db   = sum of g over n, y, x

im2col/col2im come from the backend (numba kernels, or their NumPy twins); the matmuls are NumPy's BLAS,
except dL/dW where the numba kernel measured faster (backend.matmul_transposed). A layer with few input
channels and a wide output computes its product with the direct kernel instead (kernels/conv_direct.py:
the same sum, tap by tap, with no column matrix; backend.direct_convolution says where), and then its
weight gradient by the direct kernel too (tap by tap, no column matrix).
conv1d is conv2d on inputs of height 1 (see nn/functional.py).
"""

import numpy as np

from .. import backend
from ..autograd.function import Function
from . import either
from .arguments import spatial


class Conv2d(Function):
    """out = W * x + b (cross-correlation): cols = im2col(pad(x)), out = W_g @ cols + b.

    With G = dL/dout laid out as (groups, O/G, N*Ho*Wo):
        dL/dW_g = G @ cols^T        dL/dx = unpad(col2im(W_g^T @ G))        dL/db = sum of G over n, y, x
    (col2im is im2col's transpose: it sums each column's gradient back where the column was read from.)

    On Tensors (create_graph) the same formulas run with recorded ops (`in_graph`): im2col and col2im,
    each linear with constant coefficients and the other's transpose, become one LinearMap op each.
    """

    saved_roles = (None, None, "x", "weight")

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        product = Conv2d.product(ctx, x, weight, stride, padding, dilation, groups)  # (O, N, Ho, Wo)
        out = product.transpose(1, 0, 2, 3)
        if bias is not None:
            out = out + bias.reshape(1, -1, 1, 1)  # also makes the result contiguous
        else:
            out = np.ascontiguousarray(out)
        return out

    @staticmethod
    def product(ctx, x, weight, stride, padding, dilation, groups):
        """W_g @ im2col(pad(x)) for the whole batch, laid out (O, N, Ho, Wo) as the GEMM leaves it (or the
        same from the direct kernel, where backend.direct_convolution says it is faster). Saves what
        `input_and_weight_grads` needs (the columns, or the padded input they come from; the grouped
        weight), and x and weight for create_graph (no copies)."""
        (pad_top, pad_bottom), (pad_left, pad_right) = padding
        (stride_h, stride_w), (dilation_h, dilation_w) = stride, dilation
        n = x.shape[0]
        out_channels, _, kernel_h, kernel_w = weight.shape
        padded = x
        if pad_top or pad_bottom or pad_left or pad_right:
            padded = np.pad(x, ((0, 0), (0, 0), (pad_top, pad_bottom), (pad_left, pad_right)))
        out_h = (padded.shape[2] - dilation_h * (kernel_h - 1) - 1) // stride_h + 1
        out_w = (padded.shape[3] - dilation_w * (kernel_w - 1) - 1) // stride_w + 1
        geometry = (kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, out_h, out_w)
        ctx.geometry, ctx.padded_shape, ctx.padding, ctx.weight_shape = geometry, padded.shape, padding, weight.shape
        weight_g = weight.reshape(groups, out_channels // groups, -1)
        if backend.direct_convolution(padded, weight, stride, dilation, groups):
            # few channels: the direct kernel, no column matrix (backward too: kernels/conv_direct.py)
            ctx.save_for_backward(padded, weight_g, x, weight)
            return backend.kernels("conv_direct").direct_product(padded, weight)
        cols = backend.kernels("conv").im2col(padded, *geometry)  # (C*kh*kw, N*Ho*Wo)
        cols = cols.reshape(groups, -1, cols.shape[1])  # (G, Cg*kh*kw, N*Ho*Wo), a view
        product = np.matmul(weight_g, cols)  # one GEMM per group: (G, O/G, N*Ho*Wo)
        ctx.save_for_backward(cols, weight_g, x, weight)
        return product.reshape(out_channels, n, out_h, out_w)

    @staticmethod
    def backward(ctx, grad):
        cols, weight_g, x, weight = ctx.saved_tensors
        if either.is_tensor(grad):
            return Conv2d.in_graph(ctx, grad, x, weight)
        # (N, O, Ho, Wo) -> (O, N, Ho, Wo): the layout of the forward's product
        grad_product = np.ascontiguousarray(grad.transpose(1, 0, 2, 3))
        grad_x, grad_weight = Conv2d.input_and_weight_grads(ctx, grad_product)
        grad_bias = grad.sum(axis=(0, 2, 3)) if ctx.needs_input_grad[2] else None
        return grad_x, grad_weight, grad_bias

    @staticmethod
    def input_and_weight_grads(ctx, grad_product):
        """(dL/dx, dL/dW) from dL/dproduct, laid out (O, N, Ho, Wo) as `product` returned it (None for
        either that is not needed)."""
        cols, weight_g = ctx.saved_tensors[:2]
        need_x, need_weight = ctx.needs_input_grad[:2]
        groups, out_per_group = weight_g.shape[:2]
        grad_g = grad_product.reshape(groups, out_per_group, -1)
        grad_x = grad_weight = None
        if cols.ndim == 4 and need_weight:  # the direct kernel ran: it saved the padded input, not columns
            kernel_h, kernel_w = ctx.geometry[:2]
            grad_weight = backend.kernels("conv_direct").direct_weight_grad(cols, grad_product, kernel_h, kernel_w)
            if grad_weight is None:  # narrow outputs over an input holding inf or nan: the columns, exactly
                cols = backend.kernels("conv").im2col(cols, *ctx.geometry).reshape(groups, -1, grad_g.shape[-1])
        if need_weight and grad_weight is None:  # (O/G, N*Ho*Wo) against (Cg*kh*kw, N*Ho*Wo) rows: a @ bt.T
            grad_weight = np.stack([backend.matmul_transposed(grad_g[g], cols[g]) for g in range(groups)])
            grad_weight = grad_weight.reshape(ctx.weight_shape)
        if need_x:
            grad_cols = np.matmul(weight_g.transpose(0, 2, 1), grad_g).reshape(-1, grad_g.shape[-1])
            grad_padded = backend.kernels("conv").col2im(grad_cols, ctx.padded_shape, *ctx.geometry)
            (top, bottom), (left, right) = ctx.padding
            h, w = ctx.padded_shape[2:]
            grad_x = grad_padded[:, :, top : h - bottom, left : w - right]
        return grad_x, grad_weight

    @staticmethod
    def in_graph(ctx, grad, x, weight):
        need_x, need_weight, need_bias = ctx.needs_input_grad
        out_channels = ctx.weight_shape[0]
        groups = out_channels // ctx.saved_tensors[1].shape[1]
        grad_g = either.reshape(either.transpose(grad, (1, 0, 2, 3)), (groups, out_channels // groups, -1))
        (top, bottom), (left, right) = ctx.padding
        grad_x = grad_weight = grad_bias = None
        if need_weight:
            padded = either.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
            cols = either.linear(padded, ctx, Conv2d.im2col, Conv2d.col2im)
            cols = either.reshape(cols, (groups, -1, cols.shape[-1]))
            grad_weight = either.reshape(grad_g @ either.swapaxes(cols, -1, -2), ctx.weight_shape)
        if need_x:
            weight_g = either.reshape(weight, (groups, out_channels // groups, -1))
            grad_cols = either.swapaxes(weight_g, -1, -2) @ grad_g
            grad_cols = either.reshape(grad_cols, (-1, grad_cols.shape[-1]))
            grad_padded = either.linear(grad_cols, ctx, Conv2d.col2im, Conv2d.im2col)
            h, w = ctx.padded_shape[2:]
            grad_x = grad_padded[:, :, top : h - bottom, left : w - right]
        if need_bias:
            grad_bias = either.sum_axes(grad, (0, 2, 3))
        return grad_x, grad_weight, grad_bias

    @staticmethod
    def im2col(ctx, padded):
        """Every receptive field of the padded input as a column: (C*kh*kw, N*Ho*Wo)."""
        return backend.kernels("conv").im2col(np.ascontiguousarray(padded), *ctx.geometry)

    @staticmethod
    def col2im(ctx, cols):
        """The transpose of im2col: each column summed back into the positions it was read from."""
        return backend.kernels("conv").col2im(np.ascontiguousarray(cols), ctx.padded_shape, *ctx.geometry)


_CHECKED_LIMIT = 256  # argument sets remembered by conv2d_arguments (a model has a few; a sweep may have many)
_checked = {}


def conv2d_arguments(input_shape, weight_shape, bias_shape, stride, padding, dilation, groups, op="conv2d"):
    """Check a conv2d call and return (stride, ((top, bottom), (left, right)), dilation) as PyTorch
    reads them: ints or pairs, padding also "valid" (none) or "same" (output size = input size, stride 1;
    for an even kernel the extra row/column goes at the bottom/right, as in PyTorch).

    A layer calls this with the same arguments on every batch, and checking them costs ~15 us (a third of a
    small layer's whole forward at batch 1), so accepted argument sets are remembered, keyed with their
    types (True is not taken for 1); a rejected one raises every time."""
    shapes = (tuple(input_shape), tuple(weight_shape), None if bias_shape is None else tuple(bias_shape))
    key = (shapes, _typed(stride), _typed(padding), _typed(dilation), _typed(groups), op)
    try:
        found = _checked.get(key)
    except TypeError:  # an argument that cannot be a key (a list of lists, an array): the check names it
        return _check_conv2d_arguments(input_shape, weight_shape, bias_shape, stride, padding, dilation, groups, op)
    if found is None:
        found = _check_conv2d_arguments(input_shape, weight_shape, bias_shape, stride, padding, dilation, groups, op)
        if len(_checked) >= _CHECKED_LIMIT:
            _checked.clear()
        _checked[key] = found
    return found


def _typed(value):
    """A hashable key for an argument that tells 1 from True and 1.0, and a list from a tuple."""
    kind = type(value)
    if kind is tuple or kind is list:
        return (kind, tuple(value), tuple(map(type, value)))
    return (kind, value)


def _check_conv2d_arguments(input_shape, weight_shape, bias_shape, stride, padding, dilation, groups, op):
    stride, dilation = spatial(stride, 2, "stride", op, 1), spatial(dilation, 2, "dilation", op, 1)
    if len(input_shape) != 4:
        raise ValueError(f"{op}(): expected a 4-D input (N, C, H, W), got shape {input_shape}")
    if len(weight_shape) != 4:
        raise ValueError(
            f"{op}(): expected a 4-D weight (out_channels, in_channels/groups, kh, kw), got shape {weight_shape}"
        )
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}(): groups must be a positive integer, got {groups!r}")
    channels, out_channels = input_shape[1], weight_shape[0]
    if channels != weight_shape[1] * groups:
        raise ValueError(
            f"{op}(): input has {channels} channels but weight of shape {weight_shape} with "
            f"groups={groups} expects {weight_shape[1] * groups}"
        )
    if out_channels % groups:
        raise ValueError(f"{op}(): out_channels {out_channels} is not divisible by groups={groups}")
    if bias_shape is not None and bias_shape != (out_channels,):
        raise ValueError(f"{op}(): bias must have shape ({out_channels},), got {bias_shape}")
    reach = [d * (k - 1) + 1 for d, k in zip(dilation, weight_shape[2:])]
    if isinstance(padding, str):
        if padding == "valid":
            padding = ((0, 0), (0, 0))
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}(): padding='same' needs stride 1, got stride {stride}")
            padding = tuple(((r - 1) // 2, r - 1 - (r - 1) // 2) for r in reach)
        else:
            raise ValueError(f"{op}(): padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    else:
        padding = tuple((p, p) for p in spatial(padding, 2, "padding", op, 0))
    for axis, (size, (before, after), r) in enumerate(zip(input_shape[2:], padding, reach)):
        if size + before + after < r:
            raise ValueError(
                f"{op}(): the kernel reaches {r} elements (with dilation) but the padded input is "
                f"only {size + before + after} along spatial dim {axis} (input shape {input_shape})"
            )
    return stride, padding, dilation
