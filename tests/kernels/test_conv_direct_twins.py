"""The register-blocked direct convolution (kernels/conv_direct.py) agrees with its NumPy twin
(reference/conv_direct.py) and with the im2col product it replaces."""

import numpy as np
import pytest

from tinygrad_maas.kernels import conv_direct as numba_direct
from tinygrad_maas.reference import conv as numpy_conv
from tinygrad_maas.reference import conv_direct as numpy_direct

# (N, C, H, W) padded input, (O, kh, kw): widths at one strip (16), between strips (17, 28), channel counts
# that fill blocks of 8 or 6 exactly and ones that leave the last block part empty (5, 12, 17)
CASES = [
    ((2, 3, 20, 20), (6, 5, 5)),
    ((1, 1, 18, 19), (8, 3, 3)),
    ((3, 2, 9, 32), (12, 5, 5)),
    ((2, 4, 6, 30), (17, 3, 3)),
    ((1, 3, 32, 32), (5, 5, 5)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("input_shape, kernel", CASES)
def test_direct_product_twins_agree_and_equal_the_im2col_product(input_shape, kernel, dtype):
    rng = np.random.default_rng(0)
    padded = rng.standard_normal(input_shape).astype(dtype)
    out_channels, kernel_h, kernel_w = kernel
    weight = rng.standard_normal((out_channels, input_shape[1], kernel_h, kernel_w)).astype(dtype)
    n, _, height, width = input_shape
    out_h, out_w = height - kernel_h + 1, width - kernel_w + 1
    fast, reference = numba_direct.direct_product(padded, weight), numpy_direct.direct_product(padded, weight)
    assert fast.shape == reference.shape == (out_channels, n, out_h, out_w) and fast.dtype == dtype
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fast, reference, rtol=tolerance, atol=tolerance)
    cols = numpy_conv.im2col(padded, kernel_h, kernel_w, 1, 1, 1, 1, out_h, out_w)
    by_im2col = (weight.reshape(out_channels, -1) @ cols).reshape(out_channels, n, out_h, out_w)
    np.testing.assert_allclose(reference, by_im2col, rtol=tolerance, atol=tolerance)


def test_direct_product_keeps_inf_and_nan_where_they_land():
    """An inf input reaches exactly the outputs whose windows hold it; every other output stays finite."""
    padded = np.ones((1, 1, 5, 20), dtype=np.float32)
    padded[0, 0, 2, 10] = np.inf
    weight = np.ones((2, 1, 3, 3), dtype=np.float32)
    product = numba_direct.direct_product(padded, weight)
    infinite = ~np.isfinite(product[0, 0])
    expected = np.zeros((3, 18), dtype=bool)
    expected[0:3, 8:11] = True
    np.testing.assert_array_equal(infinite, expected)
    assert np.isposinf(product[1, 0, 1, 9])


def test_block_choice_leaves_fewest_idle_channels():
    assert [numba_direct._block_for(o) for o in (6, 8, 12, 16, 17, 32)] == [6, 8, 6, 8, 6, 8]


def test_narrow_outputs_are_refused():
    with pytest.raises(ValueError, match="at least 16 wide"):
        numba_direct.direct_product(np.zeros((1, 1, 20, 17), np.float32), np.zeros((2, 1, 3, 3), np.float32))
