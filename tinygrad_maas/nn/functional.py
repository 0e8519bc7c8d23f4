"""Functional forms of the ops, as in `torch.nn.functional`."""

import math
import warnings

import numpy as np

from .. import backend
from ..autograd import observe
from ..autograd.grad_mode import is_grad_enabled
from ..creation import as_tensor
from ..ops import pool as _pool
from ..ops.arguments import spatial
from ..ops.conv import Conv2d, conv2d_arguments
from ..ops.embedding import Embedding
from ..ops.join import ConstantPad
from ..ops.linear import Linear
from ..ops.softmax import CrossEntropy
from ..tensor import Tensor
from ..tensor import where as tm_where


def relu(input, inplace=False):
    """max(x, 0). `inplace=True` is accepted and computes a new tensor: in-place changes inside a graph
    are refused here (README, differences from PyTorch), and the result is the same."""
    return input.relu()


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x. Gradient 1 or negative_slope (negative_slope at 0, as
    PyTorch)."""
    return input.where(input > 0, input * negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha (e^x - 1). Gradient 1 or alpha e^x."""
    return input.where(input > 0, (input.clamp(max=0).exp() - 1) * alpha)


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF: x/2 (1 + erf(x / sqrt(2))); approximate="tanh" uses
    x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as PyTorch. Gradients by the product and chain rules."""
    if approximate == "none":
        if input.dtype in (np.float32, np.float64) and _needs_no_graph(input):
            # inference: one pass (kernels' gelu: these five ops' arithmetic, in their order) instead of five
            return as_tensor(backend.kernels("elementwise").gelu(input.array))
        from ..ops.unary import Erf

        return input * 0.5 * (Erf.apply(input * (1 / np.sqrt(2))) + 1)
    if approximate == "tanh":
        return input * 0.5 * (((input + input**3 * 0.044715) * np.sqrt(2 / np.pi)).tanh() + 1)
    raise ValueError(f"gelu(): approximate must be 'none' or 'tanh', got {approximate!r}")


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), without the log of a number that rounded to 0 (logsigmoid(-100) is
    -100, not -inf).   d/dx = 1 - sigmoid(x) = sigmoid(-x)."""
    return -softplus(-input, beta=1.0, threshold=float("inf"))


def one_hot(tensor, num_classes=-1):
    """An int64 tensor of shape tensor.shape + (num_classes,): 1 at each class index, 0 elsewhere.
    num_classes=-1 takes the largest index + 1."""
    indices = tensor.array if isinstance(tensor, Tensor) else np.asarray(tensor)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot(): needs a tensor of class indices (int64), got {indices.dtype}")
    if indices.size and indices.min() < 0:
        raise ValueError(f"one_hot(): class values must be non-negative, got {int(indices.min())}")
    classes = (int(indices.max()) + 1 if indices.size else 0) if num_classes == -1 else num_classes
    if indices.size and indices.max() >= classes:
        raise ValueError(f"one_hot(): class value {int(indices.max())} is not smaller than num_classes={classes}")
    return Tensor(np.eye(classes, dtype=np.int64)[indices.astype(np.int64)])


def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish); its gradient comes from the product rule."""
    return input * input.sigmoid()


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^{beta x}) / beta, linear where beta x > threshold (see ops/unary.py: Softplus)."""
    from ..ops.unary import Softplus

    if beta <= 0:
        raise ValueError(f"softplus(): beta must be positive, got {beta}")
    return Softplus.apply(input, beta=beta, threshold=threshold)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p), so the expected value is
    unchanged; the identity when not training. The mask comes from the generator of tm.manual_seed."""
    return _dropout(input, p, training, input.shape, "dropout")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels: one draw per (sample, channel) of an (N, C, H, W) input, scaled by 1 / (1 - p).
    As PyTorch, a 3-D input is read as (N, C, L) and a 2-D one as (N, C), each with a warning."""
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: received a {input.ndim}-D input; dropout2d is for (N, C, H, W) inputs. As PyTorch, "
            "each element of an (N, C) input is dropped on its own; use dropout for that",
            stacklevel=2,
        )
    elif input.ndim == 3:
        warnings.warn(
            "dropout2d: received a 3-D input, read as (N, C, L) with channel-wise dropout as PyTorch does; "
            "use dropout1d for that",
            stacklevel=2,
        )
    if input.ndim < 2:
        raise ValueError(f"dropout2d(): needs an input with a channel dim, got shape {input.shape}")
    return _dropout(input, p, training, input.shape[:2] + (1,) * (input.ndim - 2), "dropout2d")


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, L) or (C, L) input: one draw per channel, scaled by 1 / (1 - p)."""
    if input.ndim not in (2, 3):
        raise ValueError(f"dropout1d(): expected an (N, C, L) or (C, L) input, got shape {input.shape}")
    channels = input.shape[: input.ndim - 1]
    return _dropout(input, p, training, channels + (1,), "dropout1d")


def _dropout(input, p, training, mask_shape, op):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}(): p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    from ..random import generator

    keep = generator().random(mask_shape) >= p
    return input * (keep / (1.0 - p)).astype(input.dtype)


def softmax(input, dim):
    return input.softmax(dim)


def log_softmax(input, dim):
    return input.log_softmax(dim)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy, as torch.nn.functional.cross_entropy.

    input: logits (N, C), (N, C, d1, ...) or unbatched (C,). target: class indices (int64) of shape
    (N,), (N, d1, ...) or (), or class probabilities (float) of the input's shape. weight: (C,) per-class
    weights. Targets equal to ignore_index add nothing (indices only). reduction: "mean" (weighted by the
    targets' class weights), "sum" or "none". label_smoothing mixes the target with the uniform
    distribution: (1 - s) target + s / C.
    """
    if not isinstance(input, Tensor) or input.dtype.kind != "f" or input.ndim < 1:
        raise TypeError("cross_entropy(): input must be a floating point tensor of logits with a class dim")
    target = target if isinstance(target, Tensor) else Tensor(target)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy(): reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy(): label_smoothing must be in [0, 1], got {label_smoothing}")
    class_dim = 1 if input.ndim > 1 else 0
    classes = input.shape[class_dim]
    if weight is not None and (not isinstance(weight, Tensor) or weight.shape != (classes,)):
        raise ValueError(
            f"cross_entropy(): weight must be a tensor of shape ({classes},), got "
            f"{getattr(weight, 'shape', type(weight).__name__)}"
        )
    weights = np.ones(classes, dtype=input.dtype) if weight is None else weight.array.astype(input.dtype)
    if target.dtype.kind == "f":
        return _cross_entropy_with_probabilities(input, target, weights, class_dim, reduction, label_smoothing)
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"cross_entropy(): target must hold class indices (int64) or probabilities (float), got {target.dtype}"
        )
    expected = input.shape[:class_dim] + input.shape[class_dim + 1 :]
    if target.shape != expected:
        raise ValueError(
            f"cross_entropy(): target of shape {target.shape} does not match input of shape "
            f"{input.shape}; class indices need shape {expected}"
        )
    indices = target.array.astype(np.int64, copy=False)
    bad = (indices != ignore_index) & ((indices < 0) | (indices >= classes))
    if bad.any():
        raise IndexError(
            f"cross_entropy(): target {int(indices[bad].flat[0])} is out of bounds for {classes} "
            f"classes (valid: 0..{classes - 1}, or ignore_index={ignore_index})"
        )
    return CrossEntropy.apply(
        input,
        targets=indices,
        class_weights=weights,
        ignore_index=int(ignore_index),
        smoothing=float(label_smoothing),
        reduction=reduction,
    )


def _cross_entropy_with_probabilities(input, target, weights, class_dim, reduction, smoothing):
    """loss = -sum_c w_c t_c log softmax(x)_c per element, t mixed with label smoothing; mean over elements."""
    if target.shape != input.shape:
        raise ValueError(
            f"cross_entropy(): probability targets must have the input's shape {input.shape}, got {target.shape}"
        )
    classes = input.shape[class_dim]
    mixed = target * (1 - smoothing) + smoothing / classes if smoothing else target
    shape = [1] * input.ndim
    shape[class_dim] = classes
    losses = -(input.log_softmax(class_dim) * mixed * Tensor(weights.reshape(shape))).sum(class_dim)
    return losses if reduction == "none" else losses.sum() if reduction == "sum" else losses.mean()


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) over the batch and any spatial dims:

        y = (x - mean) / sqrt(var + eps) * weight + bias

    In training the batch's own mean and biased variance are used, and the running statistics (if given)
    move towards the batch's: running = (1 - momentum) running + momentum * stat, with the unbiased
    variance, as PyTorch. In eval the running statistics are used. The gradient comes from composing
    mean, var, sqrt and the arithmetic (each op has its own backward).
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm(): expected an input with a channel dim (N, C, ...), got shape {input.shape}")
    channels = input.shape[1]
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        count = input.numel() // channels
        if count <= 1:
            raise ValueError(
                f"batch_norm(): expected more than 1 value per channel when training, got input of shape {input.shape}"
            )
        mean = input.mean(axes, keepdim=True)
        var = input.var(axes, keepdim=True, correction=0)
        if running_mean is not None:
            from ..autograd.grad_mode import no_grad

            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean.detach().reshape(channels) * momentum)
                unbiased = var.detach().reshape(channels) * (count / (count - 1))
                running_var.mul_(1 - momentum).add_(unbiased * momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm(): running_mean and running_var are needed when not training")
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    out = (input - mean) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) dims of each sample:
    y = (x - mean) / sqrt(biased var + eps) * weight + bias."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.shape[input.ndim - len(normalized_shape) :] != normalized_shape:
        raise ValueError(
            f"layer_norm(): normalized_shape {normalized_shape} does not match the last dims of "
            f"input shape {input.shape}"
        )
    if input.dtype in (np.float32, np.float64) and _needs_no_graph(input, weight, bias):
        # inference: one fused pass over the rows (reference/normalization.py) instead of ~8 recorded ops
        return _fused_layer_norm(input, normalized_shape, weight, bias, eps)
    axes = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    mean = input.mean(axes, keepdim=True)
    var = input.var(axes, keepdim=True, correction=0)
    out = (input - mean) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _needs_no_graph(*tensors):
    """True when nothing will be differentiated or watched: grad mode off or no input requiring a gradient,
    and no listener (the profiler, tm.onnx's tracer) following the ops."""
    if observe.listeners:
        return False
    return not is_grad_enabled() or not any(t is not None and t.requires_grad for t in tensors)


def _fused_layer_norm(input, normalized_shape, weight, bias, eps):
    width = math.prod(normalized_shape)
    rows = input.array.reshape(-1, width)
    scale = np.ones(width) if weight is None else weight.array.reshape(-1)
    shift = np.zeros(width) if bias is None else bias.array.reshape(-1)
    out = backend.kernels("normalization").layer_norm_rows(rows, scale, shift, eps)
    return as_tensor(out.reshape(input.shape))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each sample's channels in num_groups groups (mean 0, variance 1 over the group's channels
    and positions, biased variance), then scale and shift per channel. Composed of tensor ops: its
    gradient is theirs."""
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ValueError(
            f"group_norm(): the channels (dim 1 of shape {input.shape}) must divide into num_groups={num_groups}"
        )
    n, channels = input.shape[:2]
    grouped = input.reshape(n, num_groups, -1)
    mean = grouped.mean(dim=-1, keepdim=True)
    variance = grouped.var(dim=-1, keepdim=True, correction=0)
    out = ((grouped - mean) / (variance + eps).sqrt()).reshape(input.shape)
    per_channel = (1, channels) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """softmax(Q K^T * scale + mask) V over the last two dims, as torch.nn.functional.
    scaled_dot_product_attention. scale defaults to 1/sqrt(E). attn_mask: bool (True = may attend) or float
    (added to the scores), broadcast to (..., L, S); is_causal masks future positions."""
    length, source = query.shape[-2], key.shape[-2]
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention(): query {query.shape}, key {key.shape} and value "
            f"{value.shape} do not fit (need q[..., E], k[..., S, E], v[..., S, Ev])"
        )
    scale = 1.0 / np.sqrt(query.shape[-1]) if scale is None else scale
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention(): give attn_mask or is_causal, not both")
        attn_mask = Tensor(np.tril(np.ones((length, source), dtype=bool)))
    if dropout_p == 0.0:
        fused = _fused_attention(query, key, value, attn_mask, scale)
        if fused is not None:
            return fused
    scores = (query @ key.transpose(-2, -1)) * scale
    if attn_mask is not None:
        scores = _apply_attention_mask(scores, attn_mask, allowed_is_true=True)
    weights = _safe_softmax(scores)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return weights @ value


def _safe_softmax(scores):
    """softmax over the last dim, except that a row whose every score is -inf (every key blocked) gets
    weight 0 and gradient 0, not nan, as PyTorch's attention (its _safe_softmax): such a row's scores are
    replaced by 0 before the softmax (so its backward stays finite) and its weights by 0 after."""
    blocked = (scores.array == -np.inf).all(axis=-1, keepdims=True)
    if not blocked.any():
        return scores.softmax(-1)
    blocked = Tensor(np.broadcast_to(blocked, scores.shape))
    return scores.masked_fill(blocked, 0.0).softmax(-1).masked_fill(blocked, 0.0)


def _fused_attention(query, key, value, mask, scale):
    """Inference attention as one kernel (reference/attention.py), or None where the composed ops must run:
    a gradient or a listener (the profiler, tm.onnx's tracer) wants the graph; dtypes other than one float32
    or float64; leading dims that differ between query, key and value, or a mask that would broadcast the
    output to a larger shape (the composed ops broadcast them, or raise the error that names the shapes)."""
    tensors = (query, key, value)
    if not all(isinstance(t, Tensor) for t in tensors) or not _needs_no_graph(*tensors):
        return None
    if isinstance(mask, Tensor) and not _needs_no_graph(mask):
        return None
    dtype = query.dtype
    if dtype not in (np.float32, np.float64) or key.dtype != dtype or value.dtype != dtype:
        return None
    lead = query.shape[:-2]
    if query.ndim not in (3, 4) or key.shape[:-2] != lead or value.shape[:-2] != lead:
        return None
    q, k, v = (t.array if t.ndim == 4 else t.array[:, None] for t in tensors)  # (B, L, E) as one head
    if mask is not None:
        mask = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
        if mask.dtype.kind == "b":  # may attend where True: blocked positions score -inf
            mask = np.where(mask, dtype.type(0), dtype.type(-np.inf))
        scores_shape = query.shape[:-1] + (key.shape[-2],)
        if mask.ndim > len(scores_shape) or any(m not in (1, s) for m, s in zip(mask.shape[::-1], scores_shape[::-1])):
            return None
        if query.ndim == 3:
            mask = mask.reshape(mask.shape[:-2] + (1,) + mask.shape[-2:]) if mask.ndim == 3 else mask
    out = backend.kernels("attention").attention(q, k, v, mask, scale)
    return as_tensor(out if query.ndim == 4 else out[:, 0])


def _apply_attention_mask(scores, mask, allowed_is_true):
    """A bool mask blocks positions (with -inf); a float mask is added to the scores."""
    mask = mask if isinstance(mask, Tensor) else Tensor(mask)
    if mask.dtype.kind == "b":
        blocked = ~mask if allowed_is_true else mask
        return scores.masked_fill(
            blocked.expand(scores.shape) if blocked.shape != scores.shape else blocked, float("-inf")
        )
    return scores + mask.to(scores.dtype)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """input / max(||input||_p, eps) along `dim`, as torch.nn.functional.normalize: each vector scaled to
    length 1, a vector shorter than eps divided by eps instead (a zero vector stays zero).

    Composed of norm, clamp and divide, so its gradient is theirs: for ||x|| >= eps,
    d(x_i / n)/dx_j = (delta_ij - y_i y_j) / n for p = 2 (n = ||x||, y = x / n), the part along y removed;
    below eps the clamp passes no gradient to n, and d/dx = 1 / eps, as PyTorch's."""
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum over `dim` of (x1 / max(||x1||, eps)) (x2 / max(||x2||, eps)), as torch.nn.functional.
    cosine_similarity: x1 and x2 broadcast to one shape first, `dim` counts in that shape and is removed.

    Each input is normalised on its own, as PyTorch's current documentation gives it (its older pages and
    nn.CosineSimilarity's still show x1 . x2 / max(||x1|| ||x2||, eps)): no product of two norms to
    overflow or underflow. Gradient, for norms above eps: d cos / d x1 = (y2 - cos y1) / ||x1||, with
    y = x / ||x||. As PyTorch, the norms are raised to eps outside the graph (_norm_at_least), so below eps
    the gradient still flows through the norm; at a zero vector (whose norm passes none) it is y_other / eps."""
    x1, x2 = as_tensor(x1), as_tensor(x2)
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(
            f"cosine_similarity(): x1 of shape {x1.shape} and x2 of shape {x2.shape} cannot be broadcast "
            "together (trailing dimensions must be equal or 1)"
        ) from None
    x1, x2 = x1.expand(shape), x2.expand(shape)
    return ((x1 / _norm_at_least(x1, dim, eps)) * (x2 / _norm_at_least(x2, dim, eps))).sum(dim)


def _norm_at_least(x, dim, eps):
    """||x|| along dim (kept), its value raised to eps where smaller, its gradient the norm's own: the
    raise is a constant added to the graph (PyTorch clamps the norm in place, outside its graph)."""
    norm = x.norm(2, dim, keepdim=True)
    return norm + (norm.detach().clamp(min=eps) - norm.detach())


def _reduce(losses, reduction, op):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"{op}(): reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _pair_with_target(input, target, op):
    """The target as a tensor of the input's dtype; shapes must broadcast (PyTorch warns when they differ,
    and so do we: it is the classic silent bug of an (N, 1) output against an (N,) target)."""
    target = target if isinstance(target, Tensor) else Tensor(target)
    if target.shape != input.shape:
        import warnings

        warnings.warn(
            f"{op}(): target shape {target.shape} differs from input shape {input.shape}; they will be "
            "broadcast, which is rarely what you want",
            UserWarning,
            stacklevel=3,
        )
    return target.to(input.dtype) if target.dtype != input.dtype else target


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2, averaged (or summed, or per element)."""
    target = _pair_with_target(input, target, "mse_loss")
    return _reduce((input - target) ** 2, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    """|input - target|, averaged (or summed, or per element)."""
    target = _pair_with_target(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with d = input - target."""
    if delta <= 0:
        raise ValueError(f"huber_loss(): delta must be positive, got {delta}")
    target = _pair_with_target(input, target, "huber_loss")
    difference = input - target
    size = difference.abs()
    losses = tm_where(size < delta, difference * difference * 0.5, (size - 0.5 * delta) * delta)
    return _reduce(losses, reduction, "huber_loss")


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target): Huber's loss divided by
    beta, so it tends to the L1 loss as beta -> 0 (beta = 0 is the L1 loss)."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss(): beta must be non-negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    return huber_loss(input, target, reduction=reduction, delta=beta) / beta


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-input[n, target[n]] (log-probabilities in, as after log_softmax), weighted per class; "mean" divides
    by the summed weights of the non-ignored targets, as PyTorch."""
    if not isinstance(input, Tensor) or input.ndim < 1:
        raise TypeError("nll_loss(): input must be a tensor of log-probabilities with a class dim")
    target = target if isinstance(target, Tensor) else Tensor(target)
    class_dim = 1 if input.ndim > 1 else 0
    classes = input.shape[class_dim]
    if target.dtype.kind not in "iu":
        raise TypeError(f"nll_loss(): target must hold class indices (int64), got {target.dtype}")
    expected = input.shape[:class_dim] + input.shape[class_dim + 1 :]
    if target.shape != expected:
        raise ValueError(
            f"nll_loss(): target of shape {target.shape} does not match input of shape "
            f"{input.shape}; class indices need shape {expected}"
        )
    indices = target.array.astype(np.int64)
    kept = indices != ignore_index
    if ((indices < 0) | (indices >= classes))[kept].any():
        bad = int(indices[kept & ((indices < 0) | (indices >= classes))].flat[0])
        raise IndexError(f"nll_loss(): target {bad} is out of bounds for {classes} classes")
    safe = np.where(kept, indices, 0)
    class_weights = np.ones(classes, input.dtype) if weight is None else weight.array.astype(input.dtype)
    row_weights = np.where(kept, class_weights[safe], 0).astype(input.dtype)
    picked = input.gather(class_dim, Tensor(np.expand_dims(safe, class_dim))).squeeze(class_dim)
    losses = -picked * Tensor(row_weights)
    if reduction == "mean":
        total = float(row_weights.sum())
        if total == 0:  # every target ignored: the mean of nothing is nan, and no element gets a gradient
            return losses.sum() + Tensor(np.array(np.nan, dtype=input.dtype))
        return losses.sum() / total
    return _reduce(losses, reduction, "nll_loss")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1]; each log is clamped at -100, as
    PyTorch, so p = 0 or 1 gives a large finite loss instead of inf, and a finite gradient (ops/binary.py,
    BinaryCrossEntropy)."""
    target = _pair_with_target(input, target, "binary_cross_entropy")
    if input.array.size and (input.array.min() < 0 or input.array.max() > 1):
        raise ValueError(
            "binary_cross_entropy(): input must hold probabilities in [0, 1] (apply sigmoid first, "
            "or use binary_cross_entropy_with_logits)"
        )
    from ..ops.binary import BinaryCrossEntropy

    losses = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of sigmoid(x) without computing it: with softplus(z) = log(1 + e^z),
        loss = (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)
    which is -(pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))) and never overflows."""
    target = _pair_with_target(input, target, "binary_cross_entropy_with_logits")
    scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
    losses = (1 - target) * input + scale * softplus(-input)
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction, "binary_cross_entropy_with_logits")


def embedding(input, weight, padding_idx=None, max_norm=None):
    """Rows of weight (num_embeddings, dim) picked by the integer tensor input: output shape
    input.shape + (dim,). Rows at padding_idx receive no gradient."""
    if max_norm is not None:
        raise NotImplementedError("embedding(max_norm=...) is not supported")
    indices = input.array if isinstance(input, Tensor) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding(): indices must be an integer tensor (int64), got {indices.dtype}")
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(
            f"embedding(): weight must be a 2-D tensor (num_embeddings, dim), got "
            f"{getattr(weight, 'shape', type(weight).__name__)}"
        )
    rows = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        bad = int(indices.min() if indices.min() < 0 else indices.max())
        raise IndexError(f"embedding(): index {bad} is out of range for an embedding of {rows} rows")
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ValueError(f"embedding(): padding_idx {padding_idx} is out of range for {rows} rows")
        padding_idx %= rows
    return Embedding.apply(weight, indices=indices.astype(np.int64, copy=False), padding_idx=padding_idx)


def linear(input, weight, bias=None):
    """y = x W^T + b for an input of shape (*, in_features), with weight of shape (out_features,
    in_features) and bias (out_features,) as in PyTorch. One op: see ops/linear.py for the backward."""
    _check_same_dtype("linear", input, weight, bias)
    if weight.ndim != 2 or input.ndim < 1 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear(): input of shape {input.shape} cannot be multiplied by the transpose of a weight "
            f"of shape {weight.shape} (expected an input (*, in_features) and a weight (out_features, "
            "in_features))"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear(): bias must have shape ({weight.shape[0]},), got {bias.shape}")
    return Linear.apply(input, weight, bias)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of an (N, C, H, W) input (or unbatched (C, H, W)) with an (O, C/groups, kh, kw)
    weight, as torch.nn.functional.conv2d. See ops/conv.py for the forward and backward."""
    _check_same_dtype("conv2d", input, weight, bias)
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    stride, padding, dilation = conv2d_arguments(
        input.shape, weight.shape, None if bias is None else bias.shape, stride, padding, dilation, groups
    )
    out = Conv2d.apply(input, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of an (N, C, L) input (or unbatched (C, L)) with an (O, C/groups, k) weight:
    conv2d on a height-1 image, so it shares conv2d's kernels and backward."""
    _check_same_dtype("conv1d", input, weight, bias)
    if input.ndim not in (2, 3) or weight.ndim != 3:
        raise ValueError(
            f"conv1d(): expected an (N, C, L) or (C, L) input and an (O, C/groups, k) weight, got "
            f"shapes {input.shape} and {weight.shape}"
        )
    unbatched = input.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    one = lambda value, name, minimum=1: spatial(value, 1, name, "conv1d", minimum)  # noqa: E731
    padding = padding if isinstance(padding, str) else (0,) + one(padding, "padding", 0)
    out = conv2d(
        input.unsqueeze(2),
        weight.unsqueeze(2),
        bias,
        (1,) + one(stride, "stride"),
        padding,
        (1,) + one(dilation, "dilation"),
        groups,
    ).squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transpose of conv2d (the map conv2d's backward applies to its output gradient), as
    torch.nn.functional.conv_transpose2d, with an (C_in, C_out/groups, kh, kw) weight. Written as conv2d:
    spread the input out with stride - 1 zeros between elements, pad it by dilation * (k - 1) - padding
    (plus output_padding at the bottom and right), and correlate it with the kernel flipped and its
    channels transposed, with stride 1. Its gradient is theirs."""
    _check_same_dtype("conv_transpose2d", input, weight, bias)
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    if input.ndim != 4 or weight.ndim != 4 or input.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ValueError(
            f"conv_transpose2d(): expected an (N, C_in, H, W) input and a (C_in, C_out/groups, kh, kw) weight "
            f"with C_in divisible by groups={groups}, got shapes {input.shape} and {weight.shape}"
        )
    stride, padding = (
        spatial(stride, 2, "stride", "conv_transpose2d", 1),
        spatial(padding, 2, "padding", "conv_transpose2d", 0),
    )
    dilation = spatial(dilation, 2, "dilation", "conv_transpose2d", 1)
    output_padding = spatial(output_padding, 2, "output_padding", "conv_transpose2d", 0)
    if any(o >= max(s, d) for o, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"conv_transpose2d(): output_padding {output_padding} must be smaller than stride or dilation")
    x = input
    for axis, step in ((2, stride[0]), (3, stride[1])):
        x = _spread(x, axis, step)
    widths = []
    for k, p, d, extra in zip(weight.shape[2:], padding, dilation, output_padding):
        edge = d * (k - 1) - p
        widths.append((edge, edge + extra))
    x = x if not any(any(w) for w in widths) else ConstantPad.apply(x, widths=((0, 0), (0, 0), *widths))
    c_in, c_out_per_group, kh, kw = weight.shape
    flipped = (
        weight.reshape(groups, c_in // groups, c_out_per_group, kh, kw)
        .transpose(1, 2)
        .reshape(groups * c_out_per_group, c_in // groups, kh, kw)
        .flip(2, 3)
    )
    out = conv2d(x, flipped, bias, 1, 0, dilation, groups)
    return out.squeeze(0) if unbatched else out


def _spread(x, axis, step):
    """x with step - 1 zeros between neighbours along `axis` (4-D x; axis 2 or 3), in the graph."""
    if step == 1 or x.shape[axis] == 0:
        return x
    widths = [(0, 0)] * (x.ndim + 1)
    widths[axis + 1] = (0, step - 1)
    shape = list(x.shape)
    shape[axis] *= step
    spread = ConstantPad.apply(x.unsqueeze(axis + 1), widths=tuple(widths)).reshape(shape)
    keep = (x.shape[axis] - 1) * step + 1
    return spread[(slice(None),) * axis + (slice(0, keep),)]


def _check_same_dtype(op, input, weight, bias):
    for name, tensor in (("input", input), ("weight", weight), ("bias", bias)):
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"{op}(): {name} must be a tensor, got {type(tensor).__name__}")
    dtypes = {t.dtype for t in (input, weight, bias) if t is not None}
    if len(dtypes) > 1 or input.dtype.kind != "f":
        raise TypeError(
            f"{op}(): input, weight and bias must share one floating dtype, got "
            f"{', '.join(str(t.dtype) for t in (input, weight, bias) if t is not None)}"
        )


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each kernel window of an (N, C, H, W) or (C, H, W) input, as torch.nn.functional.max_pool2d.
    stride defaults to kernel_size; padding (at most half the kernel) counts as -inf."""
    if return_indices:
        raise NotImplementedError("max_pool2d(return_indices=True) is not supported yet")
    x, unbatched = _batched(input, 4, "max_pool2d", "(N, C, H, W)")
    kernel, stride, padding, dilation, out_size = _pool.pool2d_arguments(
        x.shape, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d"
    )
    out = _pool.MaxPool2d.apply(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation, out_size=out_size)
    return out.squeeze(0) if unbatched else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each window of an (N, C, L) or (C, L) input: max_pool2d on a height-1 image."""
    if input.ndim not in (2, 3):
        raise ValueError(f"max_pool1d(): expected an (N, C, L) or (C, L) input, got shape {input.shape}")
    one = lambda value, name, minimum=1: spatial(value, 1, name, "max_pool1d", minimum)  # noqa: E731
    out = max_pool2d(
        input.unsqueeze(-2),
        (1,) + one(kernel_size, "kernel_size"),
        None if stride is None else (1,) + one(stride, "stride"),
        (0,) + one(padding, "padding", 0),
        (1,) + one(dilation, "dilation"),
        ceil_mode,
        return_indices,
    )
    return out.squeeze(-2)


def avg_pool2d(
    input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
):
    """Mean over each kernel window, as torch.nn.functional.avg_pool2d: padding counts as zeros, and
    (count_include_pad) in the divisor; divisor_override replaces the divisor."""
    x, unbatched = _batched(input, 4, "avg_pool2d", "(N, C, H, W)")
    bounds, divisor = _pool.avg_pool2d_windows(
        x.shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
    out = _pool.WindowAverage.apply(x, bounds=bounds, divisor=divisor)
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size: window i spans floor(i*H/out) to ceil((i+1)*H/out)."""
    x, unbatched = _batched(input, 4, "adaptive_avg_pool2d", "(N, C, H, W)")
    bounds, divisor = _pool.adaptive_avg_pool2d_windows(x.shape, output_size)
    out = _pool.WindowAverage.apply(x, bounds=bounds, divisor=divisor)
    return out.squeeze(0) if unbatched else out


def _batched(input, ndim, op, layout):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): input must be a tensor, got {type(input).__name__}")
    if input.ndim not in (ndim - 1, ndim):
        raise ValueError(f"{op}(): expected a {layout} input (or without the batch dim), got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}(): needs a floating point input, got {input.dtype}")
    return (input.unsqueeze(0), True) if input.ndim == ndim - 1 else (input, False)


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims: pad = (last_before, last_after, second_last_before, ...), as PyTorch.

    mode "constant" fills with `value` (default 0; negative widths crop). "reflect" mirrors without
    repeating the edge, "replicate" repeats the edge, "circular" wraps around: these three are an
    indexing op, so their backward (a scatter-add) comes from Index.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): input must be a tensor, got {type(input).__name__}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad(): pad must have an even length of at most 2 * ndim = {2 * input.ndim}, "
            f"got {pad} for shape {input.shape}"
        )
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    widths = tuple(widths)
    if mode == "constant":
        for axis, (before, after) in enumerate(widths):
            if input.shape[axis] + before + after < 0:
                raise ValueError(
                    f"pad(): widths {(before, after)} crop dim {axis} of size {input.shape[axis]} below zero"
                )
        return ConstantPad.apply(input, widths=widths, value=0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad(): mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if value is not None:
        raise ValueError(f"pad(): value is only used by mode='constant', not {mode!r}")
    positions = [
        _source_positions(n, before, after, mode, axis)
        for axis, (n, (before, after)) in enumerate(zip(input.shape, widths))
    ]
    return input[np.ix_(*positions)]


def _source_positions(size, before, after, mode, axis):
    """For each position of the padded axis, the input position its value comes from."""
    if before < 0 or after < 0:
        raise ValueError(f"pad(): negative widths are only allowed with mode='constant' (dim {axis})")
    if size == 0 and (before or after):
        raise ValueError(f"pad(): cannot {mode}-pad dim {axis} of size 0")
    if mode == "reflect" and max(before, after) >= size:
        raise ValueError(
            f"pad(): reflect padding of {max(before, after)} must be smaller than the size {size} of dim {axis}"
        )
    if mode == "circular" and max(before, after) > size:
        raise ValueError(f"pad(): circular padding of {max(before, after)} cannot exceed the size {size} of dim {axis}")
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    positions = np.abs(positions)  # reflect at the start ...
    return np.where(positions > size - 1, 2 * (size - 1) - positions, positions)  # ... and at the end


from .upsampling import interpolate  # noqa: E402,F401  (F.interpolate; nn/upsampling.py)
