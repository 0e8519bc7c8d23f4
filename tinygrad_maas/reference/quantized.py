"""int8 arithmetic for quantized layers, in NumPy: the reference twins of kernels/quantized.py.

Symmetric per-row quantization of a float matrix x (m, k), row r:

    s_r = max_c |x[r, c]| / 127          (1 for an all-zero row; nan for a row holding inf or nan)
    q[r, c] = round_half_even(x[r, c] / s_r)      in [-127, 127], so x[r, c] ~ s_r q[r, c]

The product of two quantized matrices (activations a: (m, k), weights b: (n, k), rows quantized alike) is an
integer matrix product, scaled back afterwards:

    x w^T ~ (s_a s_b^T) * (q_a q_b^T),    (q_a q_b^T)[i, j] = sum_p q_a[i, p] q_b[j, p]  in int32

Each product is at most 127 * 127 = 16129 in size, so k up to 131072 terms cannot overflow int32. Here the
integer product is computed as a float64 matrix product (BLAS), which is exact: every partial sum is an
integer below 2^31, far inside float64's 2^53 of exact integers.
"""

import numpy as np

LEVELS = 127
MAX_DEPTH = 131072  # terms per dot product that int32 accumulation cannot overflow


def quantize_rows(x, skip=None):
    """(q int8 (m, k), s float32 (m,)) with x[r] ~ s[r] q[r]; x: float32 (m, k). `skip`: a bool per column
    (the outlier features a layer takes in float32): left out of each row's largest magnitude, coded 0."""
    magnitude = np.abs(x) if skip is None else np.where(skip, np.float32(0), np.abs(x))
    amax = magnitude.max(axis=1, initial=0.0).astype(np.float32)
    scale = np.where(amax > 0, amax / np.float32(LEVELS), np.float32(1.0)).astype(np.float32)
    scale[~np.isfinite(amax)] = np.nan
    with np.errstate(invalid="ignore"):
        q = np.rint(x / scale[:, None])
    q[~np.isfinite(q)] = 0
    if skip is not None:
        q[:, skip] = 0
    return np.clip(q, -LEVELS, LEVELS).astype(np.int8), scale


def columns_above(x, threshold):
    """A bool per column of x (m, k): does some entry's magnitude exceed threshold (compared in float32;
    nan exceeds nothing)?"""
    with np.errstate(invalid="ignore"):
        return (np.abs(x) > np.float32(threshold)).any(axis=0)


def quantize_rows_with_outliers(x, threshold):
    """A dynamic Linear's activations in one call: (q, scale, values, columns), where columns (t,) are the
    features some row's magnitude exceeds threshold at (columns_above), values (m, t) float32 their
    entries, kept in float; q and scale as quantize_rows(x, skip) with those columns skipped."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    above = columns_above(x, threshold)
    columns = np.flatnonzero(above)
    q, scale = quantize_rows(x, above if columns.size else None)
    return q, scale, x[:, columns], columns


def int8_matmul_t(a, b):
    """a @ b.T in int32 for int8 a (m, k) and b (n, k)."""
    return (a.astype(np.float64) @ b.astype(np.float64).T).astype(np.int32)


def pack_int8_weight(weight):
    """The weight as int8_linear_packed reads it. Here: the weight itself (the numba kernels pack it in
    blocks for the CPU's int8 dot-product instruction; kernels/quantized.py)."""
    return np.ascontiguousarray(weight, dtype=np.int8)


def int8_linear_packed(q, row_scale, packed, weight_scale, bias=None, outliers=None):
    """float32 (q @ b.T) * row_scale[:, None] * weight_scale + bias, in that order (float32 throughout),
    for int8 activations q (m, k) and the weight b from pack_int8_weight; plus, when given,
    outliers = (values (m, t) float32, columns (t,)): the input features kept in float (coded 0 in q) at
    those columns, times the weight's columns dequantized: add_outlier_product."""
    out = scale_product(int8_matmul_t(q, packed), row_scale, weight_scale, bias)
    if outliers is None or outliers[0].shape[1] == 0:
        return out
    values, columns = outliers
    return add_outlier_product(out, values, dequantized_columns(packed, weight_scale, columns))


def int8_linear_dynamic(x, threshold, packed, weight_scale, bias=None):
    """A dynamic int8 Linear layer's arithmetic on float32 rows x (m, k): quantize_rows_with_outliers(x,
    threshold), then int8_linear_packed with those outliers (the kernels may take the steps in one call)."""
    q, row_scale, values, columns = quantize_rows_with_outliers(x, threshold)
    outliers = (values, columns) if columns.size else None
    return int8_linear_packed(q, row_scale, packed, weight_scale, bias, outliers=outliers)


def dequantized_columns(weight, weight_scale, columns):
    """(t, n) float32: float32(weight[j, columns[t]]) * weight_scale[j], the float weights of the outlier
    features (the kernel computes each the same way, from its packed weight)."""
    return (weight[:, columns] * weight_scale[:, None]).T


def add_outlier_product(out, values, weights):
    """out += values (m, t) @ weights (t, n) in float32, one feature at a time in order from t = 0 (a
    multiply, then an add into out: no fused multiply-add), the order the kernel adds them in (a BLAS
    product may take another order). out is a new array of the caller's; returned."""
    for t in range(values.shape[1]):
        out += values[:, t, None] * weights[t]
    return out


def scale_product(product, row_scale, weight_scale, bias=None):
    """float32(product) * row_scale[:, None] * weight_scale + bias, in that order: the dequantization both
    twins apply (the VNNI kernel applies the same float32 operations, in the same order, as it writes)."""
    out = product.astype(np.float32)
    out *= row_scale[:, None]
    out *= weight_scale
    return out if bias is None else out + bias
