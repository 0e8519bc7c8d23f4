"""The int8 kernels agree with their NumPy twins exactly: integer arithmetic has one right answer."""

import numpy as np
import pytest

from tinygrad_maas.kernels import quantized as numba_quantized
from tinygrad_maas.reference import quantized as numpy_quantized


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (13, 384), (3, 1537), (0, 4), (4, 0)], ids=str)
def test_int8_matmul_twins_agree_exactly_and_equal_the_integer_product(shape):
    rng = np.random.default_rng(0)
    a = rng.integers(-127, 128, shape, dtype=np.int8)
    b = rng.integers(-127, 128, (9, shape[1]), dtype=np.int8)
    product = numba_quantized.int8_matmul_t(a, b)
    assert product.dtype == np.int32
    assert np.array_equal(product, numpy_quantized.int8_matmul_t(a, b))
    assert np.array_equal(product, a.astype(np.int64) @ b.astype(np.int64).T)


def test_int8_matmul_of_extreme_values_accumulates_in_int32_without_overflow():
    a = np.full((2, 4096), -127, dtype=np.int8)
    b = np.full((3, 4096), -127, dtype=np.int8)
    assert np.all(numba_quantized.int8_matmul_t(a, b) == 127 * 127 * 4096)  # 66,064,384 < 2^31
    assert np.all(numpy_quantized.int8_matmul_t(a, b) == 127 * 127 * 4096)


# rows not a multiple of the 6 a task takes (every leftover count 1 - 5, run by the kernels for that many
# rows, alone or after whole tasks), outputs not a multiple of 16 or 32, a shared axis not a multiple of 4;
# none at all; a sentence against MiniLM's shapes; one large enough for the threaded driver
# (PACKED_THREADS_FROM multiply-adds), with an odd number of output blocks
PACKED_SHAPES = [(1, 1, 1), (7, 5, 9), (13, 384, 1536), (6, 64, 32), (12, 3, 33), (0, 8, 4), (5, 1537, 17)]
PACKED_SHAPES += [(2, 40, 20), (3, 16, 48), (16, 384, 384), (9, 20, 33), (14, 8, 16), (70, 388, 1264)]


@pytest.mark.parametrize("m, k, n", PACKED_SHAPES, ids=str)
def test_packed_int8_linear_twins_agree_bit_for_bit(m, k, n):
    from tinygrad_maas.kernels.quantized import PACKED_THREADS_FROM

    assert (70 * 388 * 1264 >= PACKED_THREADS_FROM) and (13 * 384 * 1536 < PACKED_THREADS_FROM)  # both drivers
    """The VNNI kernel (a packed weight, activations read as unsigned bytes and the shift taken back with
    the weight's row sums, the scales and bias applied as the twin applies them) gives the twin's float32
    values bit for bit, and those are the exact integer product, scaled."""
    rng = np.random.default_rng(2)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)  # -128 too: its unsigned byte is 0
    b = rng.integers(-127, 128, (n, k), dtype=np.int8)
    row_scale = rng.uniform(0.001, 0.1, m).astype(np.float32)
    weight_scale = rng.uniform(0.001, 0.1, n).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    for with_bias in (bias, None):
        fast = numba_quantized.int8_linear_packed(
            a, row_scale, numba_quantized.pack_int8_weight(b), weight_scale, with_bias
        )
        reference = numpy_quantized.int8_linear_packed(
            a, row_scale, numpy_quantized.pack_int8_weight(b), weight_scale, with_bias
        )
        assert fast.dtype == reference.dtype == np.float32 and fast.shape == (m, n)
        np.testing.assert_array_equal(fast, reference)
    exact = (a.astype(np.int64) @ b.astype(np.int64).T) * row_scale[:, None].astype(np.float64) * weight_scale
    np.testing.assert_allclose(reference, exact, rtol=1e-5, atol=1e-5)  # the last pass: no bias


def test_packed_int8_linear_of_extreme_values_and_a_clear_error_for_mismatched_shapes():
    a = np.full((2, 4096), -127, dtype=np.int8)
    b = np.full((3, 4096), -127, dtype=np.int8)
    packed = numba_quantized.pack_int8_weight(b)
    ones = np.ones(2, dtype=np.float32), np.ones(3, dtype=np.float32)
    assert np.all(numba_quantized.int8_linear_packed(a, ones[0], packed, ones[1]) == 127 * 127 * 4096)
    if isinstance(packed, numba_quantized.PackedInt8Weight):  # the fallback is int8_matmul_t's own check
        with pytest.raises(ValueError, match="shape"):
            numba_quantized.int8_linear_packed(a[:, :100], ones[0], packed, ones[1])


def test_quantize_rows_twins_agree_bit_for_bit_including_zero_and_non_finite_rows():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((40, 33)) * 3).astype(np.float32)
    x[1] = 0.0  # all zero: scale 1, codes 0
    x[2, 5] = np.inf  # not finite: scale nan, codes 0 (the layer's output row becomes nan)
    x[3, 0] = np.nan
    x[4] = np.float32(1e-30)  # tiny but normal
    x[5, :3] = [0.5, -0.5, 1.5]  # ties at half a step once scaled: round half to even in both
    q_numba, s_numba = numba_quantized.quantize_rows(x)
    q_numpy, s_numpy = numpy_quantized.quantize_rows(x)
    assert np.array_equal(q_numba, q_numpy) and np.array_equal(s_numba, s_numpy, equal_nan=True)
    assert s_numpy[1] == 1.0 and not q_numpy[1].any()
    assert np.isnan(s_numpy[2]) and np.isnan(s_numpy[3]) and not q_numpy[2].any()


def test_quantize_rows_maps_each_rows_largest_magnitude_to_127():
    x = np.array([[0.5, -2.0, 1.0], [3.0, 0.0, -0.03]], dtype=np.float32)
    q, scale = numpy_quantized.quantize_rows(x)
    assert q.tolist() == [[32, -127, 64], [127, 0, -1]]  # 0.5 / (2/127) = 31.75 -> 32; -0.03/(3/127) -> -1.27 -> -1
    assert np.allclose(scale, [2.0 / 127, 3.0 / 127])
    assert np.abs(q * scale[:, None] - x).max() <= scale.max() / 2 + 1e-7  # half a step at most


def test_without_vnni_the_packed_linear_falls_back_to_the_int16_kernel(monkeypatch):
    """On a CPU without AVX-512 VNNI the weight is not packed and the same values come from int8_matmul_t."""
    monkeypatch.setattr(numba_quantized, "HAS_VNNI", False)
    rng = np.random.default_rng(3)
    a = rng.integers(-127, 128, (7, 40), dtype=np.int8)
    b = rng.integers(-127, 128, (9, 40), dtype=np.int8)
    scales = rng.uniform(0.01, 0.1, 7).astype(np.float32), rng.uniform(0.01, 0.1, 9).astype(np.float32)
    packed = numba_quantized.pack_int8_weight(b)
    assert isinstance(packed, np.ndarray)
    np.testing.assert_array_equal(
        numba_quantized.int8_linear_packed(a, scales[0], packed, scales[1]),
        numpy_quantized.int8_linear_packed(a, scales[0], b, scales[1]),
    )


def test_vnni_is_not_used_when_numba_compiles_for_a_generic_cpu():
    """NUMBA_CPU_NAME=generic (a numba cache shared between machines) must not get the VNNI instruction."""
    import os
    import subprocess
    import sys

    probe = "from tinygrad_maas.kernels import registers; print(registers.HAS_VNNI)"
    environment = dict(os.environ, NUMBA_CPU_NAME="generic")
    result = subprocess.run([sys.executable, "-c", probe], env=environment, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_quantize_rows_with_skipped_columns_leaves_them_out_of_the_scale_and_codes_them_zero():
    """The outlier features a layer takes in float32 do not set a row's scale; an inf there is no concern
    of the int8 part (the float part carries it), while an inf in a quantized column still makes nan."""
    x = np.array([[0.5, 40.0, -1.0], [np.inf, -2.0, 0.25], [1.0, np.inf, 1.0]], dtype=np.float32)
    skip = np.array([True, False, False])
    for quantized in (numba_quantized, numpy_quantized):
        q, scale = quantized.quantize_rows(x, skip)
        assert q[:2].tolist() == [[0, 127, -3], [0, -127, 16]]  # -1 / (40/127) = -3.175; 0.25 / (2/127) = 15.875
        assert scale[:2].tolist() == [np.float32(40.0) / np.float32(127), np.float32(2.0) / np.float32(127)]
        assert np.isnan(scale[2]) and not q[2].any()


@pytest.mark.parametrize("shape", [(40, 33), (704, 384), (1, 1537), (0, 5), (1024, 1025)], ids=str)
def test_quantize_rows_and_columns_above_twins_agree_bit_for_bit_with_skipped_columns(shape):
    """Both threaded (1024 x 1025 is above the kernel's QUANTIZE_THREADS_FROM) and on one thread."""
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    if x.size:
        x[0, 0] = np.inf if x.shape[1] > 1 else 7.0
        x[-1, -1] = np.nan
        x[:, x.shape[1] // 2] *= 10
    skip = numpy_quantized.columns_above(x, 6.0)
    assert np.array_equal(numba_quantized.columns_above(x, 6.0), skip)
    for mask in (None, skip):
        q_numba, s_numba = numba_quantized.quantize_rows(x, mask)
        q_numpy, s_numpy = numpy_quantized.quantize_rows(x, mask)
        assert np.array_equal(q_numba, q_numpy) and np.array_equal(s_numba, s_numpy, equal_nan=True)


def test_columns_above_compares_magnitudes_in_float32_and_nan_exceeds_nothing():
    x = np.array([[6.0, -6.5, np.nan, 0.0], [5.0, 1.0, 1.0, -np.inf]], dtype=np.float32)
    for quantized in (numba_quantized, numpy_quantized):
        assert quantized.columns_above(x, 6.0).tolist() == [False, True, False, True]


@pytest.mark.parametrize(
    "m, k, n, t",
    [
        (7, 40, 9, 1),
        (13, 384, 1536, 3),
        (6, 64, 33, 2),
        (0, 8, 4, 1),
        (3, 64, 33, 1),
        (8, 40, 9, 2),
        (70, 388, 1264, 2),
        (400, 64, 1600, 7),  # the outlier pass threaded, and outputs past whole chunks of its sums
    ],
    ids=str,
)
def test_packed_int8_linear_adds_the_outlier_features_float_product_as_the_twin_does(m, k, n, t):
    """The features kept in float (values (m, t) at input columns `columns`) times the weight's columns
    dequantized (read from the packed weight) are added one feature at a time, in the twin's order, in a pass
    over the rows after the product: bit for bit, with and without VNNI."""
    from tinygrad_maas.kernels.quantized import OUTLIERS_THREADS_FROM

    assert 400 * 7 * 1600 >= OUTLIERS_THREADS_FROM > 70 * 2 * 1264  # both builds of the outlier pass
    rng = np.random.default_rng(5)
    a = rng.integers(-127, 128, (m, k), dtype=np.int8)
    b = rng.integers(-127, 128, (n, k), dtype=np.int8)
    row_scale = rng.uniform(0.001, 0.1, m).astype(np.float32)
    weight_scale = rng.uniform(0.001, 0.1, n).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    columns = np.sort(rng.choice(k, t, replace=False))
    outliers = ((rng.standard_normal((m, t)) * 20).astype(np.float32), columns)
    reference = numpy_quantized.int8_linear_packed(a, row_scale, b, weight_scale, bias, outliers)
    for packed in (numba_quantized.pack_int8_weight(b), b):  # packed for VNNI (where the CPU has it), int16
        fast = numba_quantized.int8_linear_packed(a, row_scale, packed, weight_scale, bias, outliers)
        np.testing.assert_array_equal(fast, reference)
    without = numpy_quantized.int8_linear_packed(a, row_scale, b, weight_scale, bias)
    float_weights = b[:, columns].astype(np.float64) * weight_scale[:, None]
    np.testing.assert_allclose(reference - without, outliers[0] @ float_weights.T, rtol=1e-4, atol=1e-4)


def test_packed_int8_linear_refuses_outliers_that_do_not_fit_the_product():
    a, b = np.zeros((3, 8), dtype=np.int8), np.zeros((4, 8), dtype=np.int8)
    packed = numba_quantized.pack_int8_weight(b)
    if not isinstance(packed, numba_quantized.PackedInt8Weight):
        pytest.skip("this CPU has no VNNI: the int16 fallback adds the outliers with NumPy's own shape checks")
    ones = np.ones(3, dtype=np.float32), np.ones(4, dtype=np.float32)
    with pytest.raises(
        ValueError, match=r"outlier values of shape \(3, 2\) and columns \[1, 8\] do not fit 3 rows of 8"
    ):
        numba_quantized.int8_linear_packed(a, ones[0], packed, ones[1], outliers=(np.ones((3, 2), np.float32), [1, 8]))
    with pytest.raises(ValueError, match=r"outlier values of shape \(2, 2\)"):
        numba_quantized.int8_linear_packed(a, ones[0], packed, ones[1], outliers=(np.ones((2, 2), np.float32), [1, 2]))
    with pytest.raises(ValueError, match=r"columns \[-1, 2\] do not fit"):  # a negative column would wrap
        numba_quantized.int8_linear_packed(a, ones[0], packed, ones[1], outliers=(np.ones((3, 2), np.float32), [-1, 2]))


@pytest.mark.parametrize("shape", [(13, 384), (704, 384), (3, 5), (0, 7), (1200, 1000)], ids=str)
def test_quantize_rows_with_outliers_is_columns_above_then_quantize_rows_bit_for_bit(shape):
    """One call finds the outlier features, gathers their values and quantizes the rest, as the three
    separate steps do (1200 x 1000 reaches the threaded build); an inf exceeds the threshold, so its column
    is an outlier and the inf stays a float value, out of every row's scale."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape).astype(np.float32)
    if x.size:
        x[:, -1] *= 40  # an outlier feature
        x[0, 0] = np.inf  # above any finite threshold: an outlier column, kept in float
    assert (x.size >= numba_quantized.QUANTIZE_THREADS_FROM) == (shape == (1200, 1000))
    for module in (numba_quantized, numpy_quantized):
        q, scale, values, columns = module.quantize_rows_with_outliers(x, 6.0)
        above = numpy_quantized.columns_above(x, 6.0)
        expected_q, expected_scale = numpy_quantized.quantize_rows(x, above if above.any() else None)
        np.testing.assert_array_equal(columns, np.flatnonzero(above))
        np.testing.assert_array_equal(values, x[:, columns])
        np.testing.assert_array_equal(q, expected_q)
        np.testing.assert_array_equal(scale, expected_scale)
        assert q.dtype == np.int8 and values.dtype == np.float32 and columns.dtype == np.int64
        if x.size:
            assert 0 in columns and np.isposinf(values[0, 0]) and np.isfinite(scale).all()
    q, scale, values, columns = numba_quantized.quantize_rows_with_outliers(x, np.inf)  # no threshold
    assert columns.size == 0 and values.shape == (shape[0], 0)


@pytest.mark.parametrize(
    "m, k, n, one_call",
    [(m, 384, 384, True) for m in range(14)]  # every leftover count after 0, 1 and 2 whole tasks
    + [(13, 384, 1536, True), (13, 1536, 384, True), (20, 38, 50, False), (800, 384, 1536, False)],
    ids=str,
)
def test_int8_linear_dynamic_is_quantizing_then_the_packed_product_bit_for_bit(m, k, n, one_call):
    """A layer's whole arithmetic (rows quantized with their outlier features, the int8 product, the
    outliers' float product): the twin's two steps. The kernels take a small product against a packed
    weight in one call (a sentence's shapes), a depth of no whole 4-byte words or a product for the
    threads in those two steps; the numbers are the same either way."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((m, k)).astype(np.float32)
    x[:, [3, k // 2]] *= 40  # two outlier features
    b = rng.integers(-127, 128, (n, k), dtype=np.int8)
    weight_scale = rng.uniform(0.001, 0.1, n).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    packed = numba_quantized.pack_int8_weight(b)
    takes_one_call = (
        isinstance(packed, numba_quantized.PackedInt8Weight)
        and k % 4 == 0
        and m * k < numba_quantized.QUANTIZE_THREADS_FROM
        and m * k * n < numba_quantized.PACKED_THREADS_FROM
    )
    assert takes_one_call == (one_call and isinstance(packed, numba_quantized.PackedInt8Weight))
    reference = numpy_quantized.int8_linear_dynamic(x, 6.0, b, weight_scale, bias)
    for threshold, bias_or_none in ((6.0, bias), (np.inf, None)):
        got = numba_quantized.int8_linear_dynamic(x, threshold, packed, weight_scale, bias_or_none)
        expected = numpy_quantized.int8_linear_dynamic(x, threshold, b, weight_scale, bias_or_none)
        assert got.shape == (m, n) and got.dtype == np.float32
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(numba_quantized.int8_linear_dynamic(x, 6.0, b, weight_scale, bias), reference)
