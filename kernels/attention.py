"""Scaled dot-product attention for inference as one numba kernel: the twin of
tinygrad_maas/reference/attention.py (same function, same math; its docstring has it).

Parallel over the (batch, head) pairs. An attention's matrices are small (a sentence: 13 queries and keys
of 32 features per head), too small for loops over one row: a loop of 13 or 16 iterations spends more on
its own start than on its arithmetic. So both products run in register tiles, as a BLAS kernel does:
_ROWS query rows x _LANES keys (or output features) of sums held in registers (`registers.stack_buffer`),
each step the tile's 8 values of one column of Q^T (or of the weights, transposed) times a contiguous run
of 16 from K^T (or V), the loops of constant length unrolled and vectorised. A pair's Q^T, K^T and V are
first copied into zero-padded contiguous buffers, so a tile never reads past a row, whatever the caller's
strides. Between the two products the scores get the mask and each row's maximum taken off, then e^x in
one loop over all the pair's scores (the vectorised exponential; the padding's keys get -inf, so weight 0).
A row whose every key is blocked (-inf) gets weight 0 everywhere, as PyTorch's attention gives.

Each score is summed over e in order from 0, and each output over the keys in order, a multiply then an add
(no fused multiply-add). NumPy's matmul (the twin) may sum in another order, so the twins agree to
rounding, not bit for bit.
"""

import numba
import numpy as np
from numba import carray, prange

from .exponential import exp_of_non_positive
from .registers import stack_buffer
from .threads import compiled_twice

_ROWS, _LANES = 8, 16  # a tile: 8 rows x 16 lanes = 8 vector registers of float32 sums
_TILE = _ROWS * _LANES


def _attend_all(q, k, v, mask, scale, limits, chunks, out):
    # limits = (0, -inf) in q's dtype: the starting values, typed as the data (a literal 0.0 would make a
    # float32 kernel compute in float64 and call libm's exp). `chunks` share the (batch, head) pairs, each
    # with its own buffers, allocated once.
    batch, heads, length, depth = q.shape
    keys, width = k.shape[2], v.shape[3]
    rows = (length + _ROWS - 1) // _ROWS * _ROWS
    columns = (keys + _LANES - 1) // _LANES * _LANES
    features = (width + _LANES - 1) // _LANES * _LANES
    zero, lowest = limits[0], limits[1]
    for chunk in prange(chunks):
        # the padding (rows past L, keys past S, features past Ev) is zeroed here and never written
        queries = np.zeros((depth, rows), dtype=q.dtype)  # Q^T: a tile's 8 rows side by side
        transposed = np.zeros((depth, columns), dtype=q.dtype)  # K^T
        values = np.zeros((keys, features), dtype=q.dtype)  # V's rows, contiguous whatever the strides
        weights = np.zeros((keys, rows), dtype=q.dtype)  # the softmax, transposed as Q
        scores = np.empty((rows, columns), dtype=q.dtype)
        sums = carray(stack_buffer(_TILE, scores), _TILE)  # one buffer per product: LLVM keeps each
        outputs = carray(stack_buffer(_TILE, scores), _TILE)  # in registers only if all its uses unroll
        for task in range(chunk, batch * heads, chunks):
            b, h = task // heads, task % heads
            # the mask's axes of size 1 broadcast: index 0 there
            mb, mh = b if mask.shape[0] > 1 else 0, h if mask.shape[1] > 1 else 0
            row_step, key_step = 1 if mask.shape[2] > 1 else 0, 1 if mask.shape[3] > 1 else 0
            for i in range(length):
                for e in range(depth):
                    queries[e, i] = q[b, h, i, e]
            for j in range(keys):
                for e in range(depth):
                    transposed[e, j] = k[b, h, j, e]
                for c in range(width):
                    values[j, c] = v[b, h, j, c]
            for i0 in range(0, rows, _ROWS):  # scores = Q K^T, tile by tile
                for j0 in range(0, columns, _LANES):
                    for s in range(_TILE):
                        sums[s] = zero
                    for e in range(depth):
                        factors, run = queries[e, i0:], transposed[e, j0:]  # views indexed by constants alone
                        for lane in range(_LANES):
                            for r in range(_ROWS):
                                sums[r * _LANES + lane] += factors[r] * run[lane]
                    for r in range(_ROWS):
                        for lane in range(_LANES):
                            scores[i0 + r, j0 + lane] = sums[r * _LANES + lane]
            for i in range(length):  # the mask, each row's maximum off; the padding's keys -inf
                row, largest, any_open = scores[i], lowest, False
                for j in range(keys):
                    row[j] = row[j] * scale + mask[mb, mh, i * row_step, j * key_step]
                    largest = max(largest, row[j])
                    any_open |= row[j] != lowest  # nan counts as open: its row stays nan
                shift = largest if any_open else zero  # every key blocked: e^-inf = 0 throughout, weight 0
                for j in range(keys):
                    row[j] -= shift
                for j in range(keys, columns):
                    row[j] = lowest
            shifted = scores[:length].reshape(-1)  # one long loop: vectorised, where rows of 13 keys are not
            for at in range(shifted.shape[0]):
                shifted[at] = exp_of_non_positive(shifted[at])
            for i in range(length):
                row, total = scores[i], zero
                for j in range(keys):
                    total += row[j]
                for j in range(keys):  # a total of 0: every key blocked (PyTorch's _safe_softmax: weight 0)
                    weights[j, i] = row[j] / total if total != zero else zero
            for i0 in range(0, rows, _ROWS):  # out = weights V, tile by tile
                for c0 in range(0, features, _LANES):
                    for s in range(_TILE):
                        outputs[s] = zero
                    for j in range(keys):
                        factors, run = weights[j, i0:], values[j, c0:]
                        for lane in range(_LANES):
                            for r in range(_ROWS):
                                outputs[r * _LANES + lane] += factors[r] * run[lane]
                    for r in range(_ROWS):  # fixed counts, guarded: `outputs` indexed by a variable, or a
                        for lane in range(_LANES):  # loop of varying length, would put it on the stack
                            if i0 + r < length and c0 + lane < width:
                                out[b, h, i0 + r, c0 + lane] = outputs[r * _LANES + lane]


_attend, _attend_serial = compiled_twice(_attend_all, "_attend", error_model="numpy")

# Multiply-adds (pairs x L x S x (E + Ev)) from which the kernel takes numba's threads: a sentence's 12 heads
# are below it (waking a sleeping worker costs ~50 us, docs/kernels.md "Threads"), a batch's far above.
THREADS_FROM = 1 << 20


_LIMITS = {np.dtype(t): np.array([0, -np.inf], dtype=t) for t in (np.float32, np.float64)}
_NO_MASK = {dtype: np.zeros((1, 1, 1, 1), dtype=dtype) for dtype in _LIMITS}


def attention(q, k, v, mask, scale):
    """As the twin: q (B, H, L, E), k (B, H, S, E), v (B, H, S, Ev) of one float dtype, any strides; mask
    additive, of at most 4 dims broadcastable to (B, H, L, S), or None."""
    batch, heads, length, _ = q.shape
    keys = k.shape[2]
    dtype = q.dtype
    # the mask as 4-D, in q's dtype; the kernel broadcasts its axes of size 1 itself (np.broadcast_to took
    # longer than a sentence's attention for one head)
    if mask is None:
        mask = _NO_MASK[dtype]
    else:
        mask = mask.astype(dtype, copy=False).reshape((1,) * (4 - mask.ndim) + mask.shape)
    out = np.empty((batch, heads, length, v.shape[3]), dtype=dtype)
    threaded = batch * heads * length * keys * (q.shape[3] + v.shape[3]) >= THREADS_FROM
    chunks = min(batch * heads, numba.get_num_threads()) if threaded else 1
    (_attend if threaded else _attend_serial)(q, k, v, mask, dtype.type(scale), _LIMITS[dtype], chunks, out)
    return out
