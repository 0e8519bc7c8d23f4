"""Scaled dot-product attention for inference, in NumPy: the reference twin of kernels/attention.py.

For one (batch, head) pair, queries Q (L, E), keys K (S, E), values V (S, Ev) and an additive mask M (L, S):

    scores[i, j] = (sum_e Q[i, e] K[j, e]) * scale + M[i, j]
    weights[i]   = softmax(scores[i])  = e^(scores[i, j] - max_j scores[i, j]) / sum_j e^(...)
    out[i]       = sum_j weights[i, j] V[j]

This is the inference path of F.scaled_dot_product_attention (no gradient needed, no dropout, nobody
tracing): one pass instead of the five recorded ops of the composed form (matmul, scale, mask, softmax,
matmul), which stays the path with gradients. A bool mask or is_causal reaches it as an additive mask of 0
(may attend) and -inf (blocked), as the composed form's masked_fill. A row whose every score is -inf (every
key blocked) gets weights 0, not the nan of 0 / 0: PyTorch's attention does the same (its _safe_softmax).
"""

import numpy as np


def attention(q, k, v, mask, scale):
    """out (B, H, L, Ev) for q (B, H, L, E), k (B, H, S, E), v (B, H, S, Ev) of one float dtype; mask additive,
    broadcastable to (B, H, L, S), or None; scale a float (taken in q's dtype)."""
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) * q.dtype.type(scale)
    if mask is not None:
        scores = scores + mask.astype(q.dtype, copy=False)
    blocked = (scores == -np.inf).all(axis=-1, keepdims=True)  # every key blocked: weights 0
    with np.errstate(invalid="ignore"):  # such a row's -inf - -inf; nan inputs stay nan
        exps = np.exp(scores - scores.max(axis=-1, keepdims=True, initial=-np.inf))
        weights = np.where(blocked, q.dtype.type(0), exps / exps.sum(axis=-1, keepdims=True))
    return np.matmul(weights, v)
