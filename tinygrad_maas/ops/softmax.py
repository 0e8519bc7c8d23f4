"""softmax, log_softmax and softmax-cross-entropy, each with its closed-form backward.

softmax:      y_i = e^{x_i} / sum_j e^{x_j}
              dL/dx_i = y_i (g_i - sum_j g_j y_j)        (g = dL/dy; the Jacobian is diag(y) - y y^T)
log_softmax:  y_i = x_i - log sum_j e^{x_j}
              dL/dx_i = g_i - softmax(x)_i sum_j g_j     (the Jacobian is I - 1 softmax^T)
cross_entropy (class indices): loss_r = -sum_c a_c log softmax(x_r)_c, dloss_r/dx_r = softmax(x_r) sum(a) - a,
              with a = one-hot(target) times its class weight, mixed with label smoothing (see
              reference/softmax.py). Fused: the gradient never builds log_softmax's graph.

The kernels work on the last axis of a 2-D array (reference/softmax.py, kernels/softmax.py); here the
softmax axis is moved last and everything else flattened into rows.
"""

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..reference.softmax import class_shares
from . import either


def _as_rows(x, axis):
    """x as a 2-D (rows, classes) array with `axis` last, and the shape to restore it from."""
    if x.ndim == 0:
        return x.reshape(1, 1), None
    if axis in (-1, x.ndim - 1):  # already last (a batch of logits, attention scores): no moveaxis to pay
        return x.reshape(-1, x.shape[-1]), x.shape
    moved = np.moveaxis(x, axis, -1)
    return moved.reshape(-1, moved.shape[-1]), moved.shape


def _from_rows(rows, axis, moved_shape):
    if moved_shape is None:
        return either.reshape(rows, ())
    if axis in (-1, len(moved_shape) - 1):
        return either.reshape(rows, moved_shape)
    return either.moveaxis(either.reshape(rows, moved_shape), -1, axis)


class _Rowwise(Function):
    """Softmax and log-softmax run row by row: the axis is moved last and the array seen as rows, the
    backend's kernel `kernel` (and `kernel`_backward) runs, and the result goes back in place. Only the
    output y is saved (as rows for the kernel, and as the result, a view of the same memory, for
    create_graph): both gradients are functions of y (see each op's docstring). On Tensors the backward is
    the formula itself (`in_graph`), written with recorded ops."""

    kernel = None
    saved_roles = (None, "output")

    @classmethod
    def forward(cls, ctx, x, axis):
        rows, ctx.moved_shape = _as_rows(x, axis)
        y = getattr(backend.kernels("softmax"), cls.kernel)(rows)
        ctx.axis = axis
        result = _from_rows(y, axis, ctx.moved_shape)
        ctx.save_for_backward(y, result)
        return result

    @classmethod
    def backward(cls, ctx, grad):
        y_rows, y = ctx.saved_tensors
        if either.is_tensor(grad):
            return cls.in_graph(y, grad, ctx.axis)
        grad_rows, _ = _as_rows(grad, ctx.axis)
        backward = getattr(backend.kernels("softmax"), cls.kernel + "_backward")
        return _from_rows(backward(y_rows, grad_rows), ctx.axis, ctx.moved_shape)


class Softmax(_Rowwise):
    """y_i = exp(x_i) / sum_j exp(x_j) along the axis.   dL/dx_i = y_i * (g_i - sum_j g_j y_j)."""

    kernel = "softmax"

    @staticmethod
    def in_graph(y, grad, axis):
        axes = () if y.ndim == 0 else (axis,)
        return y * (grad - either.sum_axes(grad * y, axes, keepdims=True))


class LogSoftmax(_Rowwise):
    """y_i = x_i - log sum_j exp(x_j) along the axis.   dL/dx_i = g_i - exp(y_i) * sum_j g_j."""

    kernel = "log_softmax"

    @staticmethod
    def in_graph(y, grad, axis):
        axes = () if y.ndim == 0 else (axis,)
        return grad - np.exp(y) * either.sum_axes(grad, axes, keepdims=True)


class CrossEntropy(Function):
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against class indices (N,) or (N, d1, ...).

    reduction "none" gives the per-element losses; "sum" their sum; "mean" their sum divided by the sum of
    the target classes' weights over the non-ignored elements (PyTorch's weighted mean).

    dloss_r/dlogits_r = softmax(logits_r) sum_c a_rc - a_r (module docstring): on Tensors (create_graph)
    that formula is written with recorded ops (`in_graph`), so its softmax has a gradient too.
    """

    saved_roles = (None, None, None, "logits")

    @staticmethod
    def forward(ctx, logits, targets, class_weights, ignore_index, smoothing, reduction):
        rows, moved_shape = _as_rows(logits, 1 if logits.ndim > 1 else 0)
        flat_targets = targets.reshape(-1)
        losses, target_weight, lse = backend.kernels("softmax").cross_entropy(
            rows, flat_targets, class_weights, ignore_index, smoothing
        )
        ctx.save_for_backward(rows, flat_targets, lse, logits)
        ctx.settings = (class_weights, ignore_index, smoothing, reduction)
        ctx.moved_shape, ctx.logits_ndim, ctx.target_shape = moved_shape, logits.ndim, targets.shape
        if reduction == "none":
            return losses.reshape(targets.shape)
        if reduction == "sum":
            return losses.sum()
        ctx.total_weight = target_weight.sum()
        with np.errstate(invalid="ignore", divide="ignore"):  # every element ignored: nan, as PyTorch
            return losses.sum() / ctx.total_weight

    @staticmethod
    def backward(ctx, grad):
        rows, flat_targets, lse, logits = ctx.saved_tensors
        if either.is_tensor(grad):
            return CrossEntropy.in_graph(ctx, grad, logits, flat_targets)
        class_weights, ignore_index, smoothing, reduction = ctx.settings
        if reduction == "none":
            row_grads = np.ascontiguousarray(np.broadcast_to(grad, ctx.target_shape)).reshape(-1)
        else:
            row_grads = np.full(rows.shape[0], _scale(grad, reduction, ctx), dtype=rows.dtype)
        grad_rows = backend.kernels("softmax").cross_entropy_backward(
            rows, flat_targets, class_weights, ignore_index, smoothing, lse, row_grads
        )
        return _from_rows(grad_rows, 1 if ctx.logits_ndim > 1 else 0, ctx.moved_shape)

    @staticmethod
    def in_graph(ctx, grad, logits, flat_targets):
        class_weights, ignore_index, smoothing, reduction = ctx.settings
        axis = 1 if ctx.logits_ndim > 1 else 0
        rows, _ = _as_rows_in_graph(logits, axis)
        shares, _ = class_shares(flat_targets, class_weights, ignore_index, smoothing, rows.shape[1], rows.dtype)
        if reduction == "none":
            row_grads = either.reshape(either.broadcast_to(grad, ctx.target_shape), (-1,))
        else:
            scale = _scale(grad, reduction, ctx)
            row_grads = either.broadcast_to(either.reshape(scale, (1,)), (rows.shape[0],))
        probabilities = Softmax.apply(rows, axis=1)
        grad_rows = (probabilities * shares.sum(axis=1, keepdims=True) - shares) * either.reshape(row_grads, (-1, 1))
        return _from_rows(grad_rows, axis, ctx.moved_shape)


def _scale(grad, reduction, ctx):
    """What each row's loss gradient is multiplied by: 1 for "sum", 1 / (the summed target weights) for
    "mean"; 0 when every target was ignored (the loss is nan, as PyTorch's, but no logit gets a gradient)."""
    if reduction == "sum":
        return grad
    if ctx.total_weight == 0:
        return either.zeros_like(grad)
    return grad / ctx.total_weight


def _as_rows_in_graph(x, axis):
    """_as_rows for a Tensor: recorded moveaxis and reshape."""
    if x.ndim == 0:
        return either.reshape(x, (1, 1)), None
    moved = either.moveaxis(x, axis, -1)
    return either.reshape(moved, (-1, moved.shape[-1])), moved.shape
