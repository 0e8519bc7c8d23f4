"""int8 kernels for quantized layers: twins of tinygrad_maas/reference/quantized.py (same functions, same
results bit for bit; its docstring has the arithmetic).

int8_matmul_t takes each output as a dot product of two contiguous int8 rows. The rows are widened to
int16 first (each product of two int8 values fits int16), which lets LLVM use the CPU's multiply-add of
int16 pairs into int32 (pmaddwd) over whole vector registers. Parallel over the rows of the output when
the product is large enough to pay for waking the threads.
"""

import numpy as np
from numba import carray, njit, prange

from tinygrad_maas.reference.quantized import (
    LEVELS,
    MAX_DEPTH,
    add_outlier_product,
    dequantized_columns,
    scale_product,
)

from .registers import HAS_VNNI, add_byte_products, float32_from_bits, stack_buffer
from .threads import compiled_twice

_MAGNITUDE = np.int32(0x7FFFFFFF)  # a float32's bits without the sign
_INFINITY = np.int32(0x7F800000)  # the smallest magnitude bits of a non-finite float32 (inf, then nan)
_LOW, _HIGH = np.float32(-LEVELS), np.float32(LEVELS)


@njit(cache=True, error_model="numpy", inline="always")
def _quantize_row(x, bits, keep, q, scale, r):
    # keep[c]: _MAGNITUDE for a quantized column, 0 for a skipped one. The row's largest magnitude is an
    # integer max over the magnitude bits (vectorised; non-negative floats order as their bits).
    k = x.shape[1]
    largest = np.int32(0)
    for c in range(k):
        largest = max(largest, bits[r, c] & keep[c])
    if largest >= _INFINITY:  # inf or nan in a quantized column: the row's output is nan
        scale[r] = np.nan
        for c in range(k):
            q[r, c] = 0
        return
    s = float32_from_bits(largest) / np.float32(LEVELS) if largest > 0 else np.float32(1.0)
    scale[r] = s
    for c in range(k):
        v = min(max(np.rint(x[r, c] / s), _LOW), _HIGH)  # a skipped column's inf clips before the cast
        q[r, c] = np.int8(v) if keep[c] != 0 else np.int8(0)


def _quantize_all_rows(x, keep, q, scale):
    bits = x.view(np.int32)
    for r in prange(x.shape[0]):
        _quantize_row(x, bits, keep, q, scale, r)


_quantize_rows, _quantize_rows_serial = compiled_twice(_quantize_all_rows, "_quantize_rows", error_model="numpy")


# Elements below which quantizing runs on the calling thread: a parallel launch costs tens of microseconds
# (threads.py), more than a vectorised pass over a 704 x 384 batch (docs/quantization.md, "The int8 kernel")
QUANTIZE_THREADS_FROM = 1 << 20


def quantize_rows(x, skip=None):
    x = np.ascontiguousarray(x, dtype=np.float32)
    q = np.empty(x.shape, dtype=np.int8)
    scale = np.empty(x.shape[0], dtype=np.float32)
    keep = np.full(x.shape[1], _MAGNITUDE, dtype=np.int32)
    if skip is not None:
        keep[np.asarray(skip, dtype=bool)] = 0
    kernel = _quantize_rows if x.size >= QUANTIZE_THREADS_FROM else _quantize_rows_serial
    kernel(x, keep, q, scale)
    return q, scale


def _quantize_with_outliers(x, threshold, q, scale):
    # the outlier columns first (one serial pass, a flag per column), then their values gathered, then the
    # rows quantized with them skipped, as _quantize_all_rows
    m, k = x.shape
    above = np.zeros(k, dtype=np.bool_)
    _columns_above(x, threshold, above)
    columns = np.flatnonzero(above)
    values = np.empty((m, columns.shape[0]), dtype=np.float32)
    for r in range(m):
        for t in range(columns.shape[0]):
            values[r, t] = x[r, columns[t]]
    keep = np.empty(k, dtype=np.int32)
    for c in range(k):
        keep[c] = 0 if above[c] else _MAGNITUDE
    bits = x.view(np.int32)
    for r in prange(m):
        _quantize_row(x, bits, keep, q, scale, r)
    return values, columns


_quantize_outliers, _quantize_outliers_serial = compiled_twice(
    _quantize_with_outliers, "_quantize_outliers", error_model="numpy"
)


def quantize_rows_with_outliers(x, threshold):
    x = np.ascontiguousarray(x, dtype=np.float32)
    q = np.empty(x.shape, dtype=np.int8)
    scale = np.empty(x.shape[0], dtype=np.float32)
    kernel = _quantize_outliers if x.size >= QUANTIZE_THREADS_FROM else _quantize_outliers_serial
    values, columns = kernel(x, np.float32(threshold), q, scale)
    return q, scale, values, columns


@njit(cache=True, error_model="numpy", inline="always")
def _columns_above(x, threshold, above):
    for r in range(x.shape[0]):
        for c in range(x.shape[1]):
            above[c] |= abs(x[r, c]) > threshold


def columns_above(x, threshold):
    x = np.ascontiguousarray(x, dtype=np.float32)
    above = np.zeros(x.shape[1], dtype=np.bool_)
    _columns_above(x, np.float32(threshold), above)
    return above


@njit(cache=True, inline="always")
def _dot_rows(row, b, out_row, k):
    """out_row[j] = row . b[j] for every row j of b, in int32 (row already widened to int16)."""
    for j in range(b.shape[0]):
        weights = b[j]
        total = np.int32(0)
        for p in range(k):
            total += np.int32(np.int16(row[p]) * np.int16(weights[p]))
        out_row[j] = total


def _all_dot_rows(a, b, out):
    k = a.shape[1]  # the size in a local: read from the array inside the loop, it stops LLVM vectorising
    for i in prange(a.shape[0]):
        _dot_rows(a[i].astype(np.int16), b, out[i], k)


_int8_matmul_t, _int8_matmul_t_serial = compiled_twice(_all_dot_rows, "_int8_matmul_t")


# Below this many multiply-adds, waking the worker threads (OMP_WAIT_POLICY=PASSIVE, backend.py) costs more
# than they save (2 cores: 13 x 384 x 384 took 50 us serial, 61 us threaded; 40 x 384 x 384, 153 against 120).
THREADS_FROM = 4_000_000
# The VNNI kernel does several times the int16 kernel's multiply-adds per microsecond, so its threads pay
# only from a larger product (measured inside the model, where every launch wakes a sleeping worker:
# docs/quantization.md, "The int8 kernel")
PACKED_THREADS_FROM = 1 << 25


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


def _packed_kernels(rows):
    """(threaded, serial) drivers of the VNNI product for tasks of `rows` activation rows (a constant numba
    compiles in: the loops over the rows unroll and the sums stay in registers). _ROWS for the bulk of a
    product; fewer for the rows left over, so a sentence of 13 tokens pays for 13 rows, not 18: a task's
    cost is its rows' multiply-adds whether the rows exist or not."""
    size = rows * 32

    # words (m, quads) int32: 4 activation bytes each, flipped to unsigned in the task (XOR 0x80 per byte)
    # out (m, blocks * 16) float32: (sum - shift) * row_scale * weight_scale + bias, the twin's order.
    # The task's body is written out here rather than called: a jitted function in the closure would make
    # numba's on-disk cache miss in every new process (the key holds the function object's identity).
    def all_tasks(words, blocks, shift, row_scale, weight_scale, bias, out):
        count, pairs = blocks.shape[0], (blocks.shape[0] + 1) // 2
        weights, stride = blocks.reshape(-1), blocks.shape[1]
        for task in prange((words.shape[0] + rows - 1) // rows * pairs):
            # one task: rows i0 .. i0 + rows - 1 against the output blocks first and first + 1
            m, quads = words.shape[0], words.shape[1]
            i0, first = (task // pairs) * rows, (task % pairs) * 2
            second = min(first + 1, count - 1)  # an odd last block is computed twice, written once
            sums = carray(stack_buffer(size, shift), size)
            for s in range(size):
                sums[s] = 0
            for q in range(quads):
                at0, at1 = first * stride + q * 64, second * stride + q * 64
                for r in range(rows):  # a fixed count: unrolled, so every `sums` offset is a constant
                    word = words[min(i0 + r, m - 1), q] ^ _FLIP  # rows past the end repeat the last, unwritten
                    add_byte_products(sums, 32 * r, word, weights, at0)
                    add_byte_products(sums, 32 * r + 16, word, weights, at1)
            for r in range(rows):  # a fixed count, guarded: a loop of varying length would index `sums` by a
                last = min(i0 + r, m - 1)  # variable, and LLVM could no longer keep it in registers
                into, scale = out[last], row_scale[last]
                for half in range(2):
                    block = first + half
                    if block < count and i0 + r < m:
                        for lane in range(16):
                            j = block * 16 + lane
                            product = np.float32(sums[(r * 2 + half) * 16 + lane] - shift[j])
                            into[j] = product * scale * weight_scale[j] + bias[j]

    return compiled_twice(all_tasks, f"_int8_linear_packed_{rows}", error_model="numpy")


def _add_outliers_driver(values, columns, k, blocks, scales, out):
    """out[i] += values[i, t] * float32(b[j, columns[t]]) * scales[j], t in order from 0: the twin's
    dequantized_columns then add_outlier_product (float32 multiplies, then an add: no fused multiply-add).
    The weight's columns are read from its packed bytes (byte (lane, column) of a block sits at quad
    column // 4, offset lane * 4 + column % 4) and dequantized once, before the rows; then one row per task,
    the loop over a row's outputs vectorised. False, with nothing written, when a column lies outside the
    k input features."""
    extras, width = columns.shape[0], out.shape[1]
    for t in range(extras):
        if columns[t] < 0 or columns[t] >= k:
            return False
    weights = np.empty((extras, width), dtype=np.float32)
    for t in range(extras):
        at = (columns[t] // 4) * 64 + columns[t] % 4
        for j in range(width):
            weights[t, j] = np.float32(blocks[j // 16, at + (j % 16) * 4]) * scales[j]
    for i in prange(out.shape[0]):
        row = out[i]
        for t in range(extras):
            value, weight = values[i, t], weights[t]
            for j in range(width):
                row[j] += value * weight[j]
    return True


_add_outliers, _add_outliers_serial = compiled_twice(_add_outliers_driver, "_add_outliers", error_model="numpy")
# multiply-adds (rows x outlier features x outputs) from which the outlier pass takes numba's threads (704 x
# 6 x 1536, MiniLM's feed-forward at batch 32: 622 us alone, 311 threaded; 13 x 6 x 1536, a sentence: 10, 8)
OUTLIERS_THREADS_FROM = 1 << 19


# By rows per task: numba compiles each on its first call (a sentence's leftover rows pick one of 1 - 5).
_PACKED = {rows: _packed_kernels(rows) for rows in range(1, _ROWS + 1)}
# the serial builds by name, for _int8_linear_serial (numba calls a module's global dispatchers directly),
# which has a branch for each count of leftover rows, 1 - 5: its whole tasks are of _ROWS = 6 rows
assert _ROWS == 6
_PACKED_SERIAL_1, _PACKED_SERIAL_2, _PACKED_SERIAL_3, _PACKED_SERIAL_4, _PACKED_SERIAL_5, _PACKED_SERIAL_6 = (
    _PACKED[rows][1] for rows in range(1, _ROWS + 1)
)


def pack_int8_weight(weight):
    """The weight (n, k) int8 in the form int8_linear_packed reads: packed for VNNI where the CPU has it,
    else the weight itself."""
    weight = np.ascontiguousarray(weight, dtype=np.int8)
    return PackedInt8Weight(weight) if HAS_VNNI and weight.shape[1] <= MAX_DEPTH else weight


def int8_linear_packed(q, row_scale, packed, weight_scale, bias=None, outliers=None):
    """float32 (q @ b.T) * row_scale[:, None] * weight_scale + bias, for int8 activations q (m, k) with
    their row scales and a weight b from pack_int8_weight with its channel scales (the twin's order); plus
    outliers = (values (m, t) float32, columns (t,)), the input features kept in float, times the weight's
    columns dequantized, when given (added in a pass over the rows after the product). A weight that is not packed
    (an int8 array) takes the int16 kernel."""
    if outliers is not None and outliers[0].shape[1] == 0:
        outliers = None
    if not isinstance(packed, PackedInt8Weight):
        out = scale_product(int8_matmul_t(q, packed), row_scale, weight_scale, bias)
        if outliers is None:
            return out
        return add_outlier_product(out, outliers[0], dequantized_columns(packed, weight_scale, outliers[1]))
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
    scales = _padded(weight_scale, n, width)
    shifts = _padded(bias, n, width)
    out = np.empty((m, width), dtype=np.float32)
    row_scale = np.ascontiguousarray(row_scale, dtype=np.float32)
    whole = m - m % _ROWS
    for rows, start, stop in ((_ROWS, 0, whole), (m - whole, whole, m)):  # whole tasks, then the rest
        if start < stop:
            threaded, serial = _PACKED[rows]
            kernel = threaded if (stop - start) * k * n >= PACKED_THREADS_FROM else serial
            part = slice(start, stop)
            kernel(words[part], packed.blocks, packed.shift, row_scale[part], scales, shifts, out[part])
    if outliers is not None:  # a pass of its own over the rows: inside the product's tasks it cost up to as much again
        _add_outlier_pass(outliers, packed.blocks, scales, k, out)
    return out if width == n else out[:, :n]


@njit(cache=True, error_model="numpy")
def _int8_linear_serial(x, threshold, blocks, shift, scales, bias, k, q, row_scale, out):
    # int8_linear_dynamic's steps for a small product, in one call: quantizing with the outliers, the
    # product's whole tasks, its leftover rows and the outlier pass, each the serial build of this module's
    # kernel for it (numba links them in, so no Python runs between them; the code is theirs, the numbers too)
    values, columns = _quantize_outliers_serial(x, threshold, q, row_scale)
    words = q.view(np.int32)
    m = x.shape[0]
    whole = m - m % _ROWS
    if whole:
        _PACKED_SERIAL_6(words[:whole], blocks, shift, row_scale[:whole], scales, bias, out[:whole])
    left, rest = m - whole, slice(whole, m)
    if left == 1:  # one driver per count of rows left over: the count is compiled into each
        _PACKED_SERIAL_1(words[rest], blocks, shift, row_scale[rest], scales, bias, out[rest])
    elif left == 2:
        _PACKED_SERIAL_2(words[rest], blocks, shift, row_scale[rest], scales, bias, out[rest])
    elif left == 3:
        _PACKED_SERIAL_3(words[rest], blocks, shift, row_scale[rest], scales, bias, out[rest])
    elif left == 4:
        _PACKED_SERIAL_4(words[rest], blocks, shift, row_scale[rest], scales, bias, out[rest])
    elif left == 5:
        _PACKED_SERIAL_5(words[rest], blocks, shift, row_scale[rest], scales, bias, out[rest])
    if columns.shape[0]:
        _add_outliers_serial(values, columns, k, blocks, scales, out)


def _add_outlier_pass(outliers, blocks, scales, k, out):
    """out += the outlier features' float product (_add_outliers_driver), or a ValueError naming the shapes
    when the values (m, t) and columns (t,) do not fit out's m rows and k input features."""
    values, columns = np.ascontiguousarray(outliers[0], dtype=np.float32), np.asarray(outliers[1], dtype=np.int64)
    m = out.shape[0]
    fits = columns.ndim == 1 and values.shape == (m, columns.shape[0])
    if fits:
        threaded = m * columns.shape[0] * out.shape[1] >= OUTLIERS_THREADS_FROM
        fits = (_add_outliers if threaded else _add_outliers_serial)(values, columns, k, blocks, scales, out)
    if not fits:
        raise ValueError(
            f"int8_linear_packed: outlier values of shape {values.shape} and columns {columns.tolist()} do not "
            f"fit {m} rows of {k} input features"
        )


def _padded(per_channel, n, width):
    """A float32 vector of n per-output values (zeros for None) as `width` values, zero-padded; the
    vector itself when it needs no padding (the common widths are whole blocks of 16)."""
    if per_channel is not None and width == n:
        return np.ascontiguousarray(per_channel, dtype=np.float32)
    padded = np.zeros(width, dtype=np.float32)
    if per_channel is not None:
        padded[:n] = per_channel
    return padded


def int8_linear_dynamic(x, threshold, packed, weight_scale, bias=None):
    """The twin's int8_linear_dynamic: quantize_rows_with_outliers(x, threshold), then int8_linear_packed
    with those outliers. A small product (one that runs on the calling thread) against a packed weight
    whose depth is whole 4-byte words takes all of it in one call (_int8_linear_serial): a sentence's layer
    spent as long in the Python between the steps as in some of the steps."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    m, k = x.shape
    small = m * k < QUANTIZE_THREADS_FROM and isinstance(packed, PackedInt8Weight)
    if not (small and k % 4 == 0 and packed.shape[1] == k and m * k * packed.shape[0] < PACKED_THREADS_FROM):
        q, row_scale, values, columns = quantize_rows_with_outliers(x, threshold)
        outliers = (values, columns) if columns.size else None
        return int8_linear_packed(q, row_scale, packed, weight_scale, bias, outliers=outliers)
    n, width = packed.shape[0], packed.blocks.shape[0] * 16
    q, row_scale = np.empty((m, k), dtype=np.int8), np.empty(m, dtype=np.float32)
    out = np.empty((m, width), dtype=np.float32)
    scales, shifts = _padded(weight_scale, n, width), _padded(bias, n, width)
    _int8_linear_serial(x, np.float32(threshold), packed.blocks, packed.shift, scales, shifts, k, q, row_scale, out)
    return out if width == n else out[:, :n]
