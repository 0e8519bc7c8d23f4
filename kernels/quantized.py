"""int8 kernels for quantized layers: twins of tinygrad_maas/reference/quantized.py (same functions, same
results bit for bit; its docstring has the arithmetic).

int8_matmul_t takes each output as a dot product of two contiguous int8 rows. The rows are widened to
int16 first (each product of two int8 values fits int16), which lets LLVM use the CPU's multiply-add of
int16 pairs into int32 (pmaddwd) over whole vector registers. Parallel over the rows of the output when
the product is large enough to pay for waking the threads.
"""

import numpy as np
from numba import carray, njit, prange

from tinygrad_maas.reference.quantized import LEVELS, MAX_DEPTH, scale_product

from .registers import HAS_VNNI, add_byte_products, stack_buffer
from .threads import launch


@njit(cache=True)  # serial: measured as fast as threads even at 416 x 1536, and far faster on small inputs
def _quantize_rows(x, q, scale):
    for r in prange(x.shape[0]):
        amax = np.float32(0.0)
        finite = True
        for c in range(x.shape[1]):
            v = abs(x[r, c])
            if not np.isfinite(v):
                finite = False
            elif v > amax:
                amax = v
        s = amax / np.float32(LEVELS) if amax > 0 else np.float32(1.0)
        scale[r] = s if finite else np.nan
        for c in range(x.shape[1]):
            v = np.rint(x[r, c] / s) if finite else np.float32(0.0)
            q[r, c] = np.int8(min(max(v, -LEVELS), LEVELS))


def quantize_rows(x):
    x = np.ascontiguousarray(x, dtype=np.float32)
    q = np.empty(x.shape, dtype=np.int8)
    scale = np.empty(x.shape[0], dtype=np.float32)
    _quantize_rows(x, q, scale)
    return q, scale


@njit(cache=True, inline="always")
def _dot_rows(row, b, out_row, k):
    """out_row[j] = row . b[j] for every row j of b, in int32 (row already widened to int16)."""
    for j in range(b.shape[0]):
        weights = b[j]
        total = np.int32(0)
        for p in range(k):
            total += np.int32(np.int16(row[p]) * np.int16(weights[p]))
        out_row[j] = total


# Two functions, not one body compiled twice: numba's cache is keyed by the function, so a threaded and a
# serial compilation of the same function would overwrite each other's cached code.
@njit(parallel=True, cache=True)
def _int8_matmul_t(a, b, out):
    k = a.shape[1]  # the size in a local: read from the array inside the loop, it stops LLVM vectorising
    for i in prange(a.shape[0]):
        _dot_rows(a[i].astype(np.int16), b, out[i], k)


@njit(cache=True)
def _int8_matmul_t_serial(a, b, out):
    k = a.shape[1]
    for i in range(a.shape[0]):
        _dot_rows(a[i].astype(np.int16), b, out[i], k)


# Below this many multiply-adds, waking the worker threads (OMP_WAIT_POLICY=PASSIVE, backend.py) costs more
# than they save (2 cores: 13 x 384 x 384 took 50 us serial, 61 us threaded; 40 x 384 x 384, 153 against 120).
THREADS_FROM = 4_000_000


def int8_matmul_t(a, b):
    if a.shape[1] > MAX_DEPTH:
        raise ValueError(f"int8_matmul_t: {a.shape[1]} terms per dot product could overflow int32 (max {MAX_DEPTH})")
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.int32)
    kernel = _int8_matmul_t if a.shape[0] * a.shape[1] * b.shape[0] >= THREADS_FROM else _int8_matmul_t_serial
    kernel(np.ascontiguousarray(a), np.ascontiguousarray(b), out)
    return out


# ---------------------------------------------------------------------------------------------------------
# The int8 product on AVX-512 VNNI, with the weight packed once (its layer keeps the packed copy).
#
# vpdpbusd multiplies unsigned by signed bytes. Activations are signed, so they go in shifted by 128
# (a + 128 = a XOR 0x80, as a byte) and the shift is taken back with the weight's row sums:
#     sum_p a[i, p] b[j, p] = sum_p (a[i, p] + 128) b[j, p] - 128 sum_p b[j, p]
# exact in int32 (wrapping arithmetic cancels: the true value fits, MAX_DEPTH). The weight (n, k) is packed
# in blocks of 16 rows, 4 bytes of each row side by side: packed[jb, q] = b[16 jb + l, 4 q + t] for lane
# l and byte t, 64 bytes, one vector register; 4 bytes of an activation row, given to all 16 lanes, times
# that register is 64 multiply-adds into the 16 outputs' sums. A task keeps 6 rows x 32 outputs of sums
# (12 registers) while it walks the shared axis, so each loaded weight register serves 6 rows.

_ROWS = 6  # activation rows per task: 12 sum registers, 2 weight registers, room for the broadcasts
_FLIP = np.int32(-2139062144)  # 0x80808080: each byte's top bit, so a signed byte a reads as a + 128


class PackedInt8Weight:
    """An int8 weight (n, k) packed for `int8_linear_packed`, with 128 x its row sums."""

    def __init__(self, weight):
        n, k = weight.shape
        quads, blocks = -(-k // 4), -(-n // 16)
        padded = np.zeros((blocks * 16, quads * 4), dtype=np.int8)
        padded[:n, :k] = weight
        blocked = padded.reshape(blocks, 16, quads, 4).transpose(0, 2, 1, 3)
        self.blocks = np.ascontiguousarray(blocked).reshape(blocks, quads * 64)
        self.shift = np.zeros(blocks * 16, dtype=np.int32)
        self.shift[:n] = 128 * weight.sum(axis=1, dtype=np.int32)
        self.shape = (n, k)


@njit(parallel=True, cache=True, error_model="numpy")
def _int8_linear_packed(words, blocks, shift, row_scale, weight_scale, bias, out):
    # words (m, quads) int32: 4 activation bytes each, flipped to unsigned here (XOR 0x80 per byte)
    # out (m, blocks * 16) float32: (sum - shift) * row_scale * weight_scale + bias, the twin's order
    m, quads = words.shape
    count = blocks.shape[0]
    row_tiles, pairs = (m + _ROWS - 1) // _ROWS, (count + 1) // 2
    weights = blocks.reshape(-1)
    stride = blocks.shape[1]
    for task in prange(row_tiles * pairs):
        i0, first = (task // pairs) * _ROWS, (task % pairs) * 2
        second = min(first + 1, count - 1)  # an odd last block is computed twice, written once
        sums = carray(stack_buffer(192, shift), 192)
        for s in range(192):
            sums[s] = 0
        for q in range(quads):
            at0, at1 = first * stride + q * 64, second * stride + q * 64
            for r in range(_ROWS):  # a fixed count: unrolled, so every `sums` offset is a constant
                word = words[min(i0 + r, m - 1), q] ^ _FLIP  # rows past the end repeat the last, unwritten
                add_byte_products(sums, 32 * r, word, weights, at0)
                add_byte_products(sums, 32 * r + 16, word, weights, at1)
        for r in range(_ROWS):  # a fixed count, guarded: a loop of varying length would index `sums` by a
            last = min(i0 + r, m - 1)  # variable, and LLVM could no longer keep it in registers
            into, scale = out[last], row_scale[last]
            for half in range(2):
                block = first + half
                if block < count and i0 + r < m:
                    for lane in range(16):
                        j = block * 16 + lane
                        product = np.float32(sums[(r * 2 + half) * 16 + lane] - shift[j])
                        into[j] = product * scale * weight_scale[j] + bias[j]


def pack_int8_weight(weight):
    """The weight (n, k) int8 in the form int8_linear_packed reads: packed for VNNI where the CPU has it,
    else the weight itself."""
    weight = np.ascontiguousarray(weight, dtype=np.int8)
    return PackedInt8Weight(weight) if HAS_VNNI and weight.shape[1] <= MAX_DEPTH else weight


def int8_linear_packed(q, row_scale, packed, weight_scale, bias=None):
    """float32 (q @ b.T) * row_scale[:, None] * weight_scale + bias, for int8 activations q (m, k) with
    their row scales and a weight b from pack_int8_weight with its channel scales (the twin's order).
    A weight that is not packed (an int8 array) takes the int16 kernel."""
    if not isinstance(packed, PackedInt8Weight):
        return scale_product(int8_matmul_t(q, packed), row_scale, weight_scale, bias)
    n, k = packed.shape
    if q.ndim != 2 or q.shape[1] != k:
        raise ValueError(f"int8_linear_packed: activations of shape {q.shape} against a weight of shape {(n, k)}")
    m, quads, width = q.shape[0], packed.blocks.shape[1] // 64, packed.blocks.shape[0] * 16
    if k % 4 == 0:  # 4 bytes of a row as one int32 word: the kernel reads q itself
        words = np.ascontiguousarray(q).view(np.int32)
    else:  # padded with zeros (after the kernel's flip: an activation of 0, against the weight's zero padding)
        padded = np.zeros((m, quads * 4), dtype=np.int8)
        padded[:, :k] = q
        words = padded.view(np.int32)
    scales = np.zeros(width, dtype=np.float32)
    scales[:n] = weight_scale
    shifts = np.zeros(width, dtype=np.float32)
    if bias is not None:
        shifts[:n] = bias
    out = np.empty((m, width), dtype=np.float32)
    if m:
        row_scale = np.ascontiguousarray(row_scale, dtype=np.float32)
        launch(
            _int8_linear_packed,
            m * k * n,
            THREADS_FROM,
            words,
            packed.blocks,
            packed.shift,
            row_scale,
            scales,
            shifts,
            out,
        )
    return out[:, :n]
