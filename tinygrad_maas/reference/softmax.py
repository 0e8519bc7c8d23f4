"""softmax, log_softmax and softmax-cross-entropy over the last axis of a 2-D array, in NumPy: the
reference twins of kernels/softmax.py. (ops/softmax.py moves any axis to the last one first.)

softmax:        y_i = e^{x_i - m} / sum_j e^{x_j - m}       m = max_j x_j, so nothing overflows
                dL/dx_i = y_i (g_i - sum_j g_j y_j)
log_softmax:    y_i = x_i - m - log sum_j e^{x_j - m}
                dL/dx_i = g_i - e^{y_i} sum_j g_j
cross-entropy of row r with target t, per-class weights w, label smoothing s over C classes:
                a_c  = (1 - s) w_t [c == t] + s w_c / C          (how much each class's log-prob counts)
                loss = -sum_c a_c log p_c = sum_c a_c (lse - x_c) lse = log sum_j e^{x_j}
                dloss/dx_c = p_c sum_j a_j - a_c
A row whose target is ignore_index has loss 0, gradient 0 and weight 0.
"""

import numpy as np


def softmax(x):
    exps = np.exp(x - x.max(axis=1, keepdims=True, initial=-np.inf))
    return exps / exps.sum(axis=1, keepdims=True)


def softmax_backward(y, grad):
    return y * (grad - (grad * y).sum(axis=1, keepdims=True))


def log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True, initial=-np.inf)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def log_softmax_backward(y, grad):
    return grad - np.exp(y) * grad.sum(axis=1, keepdims=True)


def class_shares(targets, class_weights, ignore_index, smoothing, n_classes, dtype):
    """a[r, c] of the docstring, zero on ignored rows; and each row's weight w_t (0 if ignored)."""
    rows = np.arange(targets.shape[0])
    kept = targets != ignore_index
    safe_targets = np.where(kept, targets, 0)
    target_weight = np.where(kept, class_weights[safe_targets], 0).astype(dtype)
    shares = np.zeros((targets.shape[0], n_classes), dtype=dtype)
    shares[rows, safe_targets] = (1 - smoothing) * target_weight
    if smoothing:
        shares += kept[:, None] * (smoothing / n_classes) * class_weights[None, :].astype(dtype)
    return shares, target_weight


def cross_entropy(logits, targets, class_weights, ignore_index, smoothing):
    """Per-row losses (N,), per-row target weights (N,) and per-row logsumexp (N,) for backward."""
    shift = logits.max(axis=1, keepdims=True, initial=-np.inf)
    lse = (np.log(np.exp(logits - shift).sum(axis=1, keepdims=True)) + shift)[:, 0]
    shares, target_weight = class_shares(targets, class_weights, ignore_index, smoothing, logits.shape[1], logits.dtype)
    # a class with no share adds nothing, even where its logit is -inf (0 * inf would be nan), as PyTorch's
    # loss, which only reads the target's log-probability
    with np.errstate(invalid="ignore"):
        terms = shares * (lse[:, None] - logits)
    losses = np.where(shares != 0, terms, 0).sum(axis=1)
    return losses, target_weight, lse


def cross_entropy_backward(logits, targets, class_weights, ignore_index, smoothing, lse, row_grads):
    """dL/dlogits for per-row upstream gradients row_grads (N,)."""
    shares, _ = class_shares(targets, class_weights, ignore_index, smoothing, logits.shape[1], logits.dtype)
    probabilities = np.exp(logits - lse[:, None])
    return (probabilities * shares.sum(axis=1, keepdims=True) - shares) * row_grads[:, None]
