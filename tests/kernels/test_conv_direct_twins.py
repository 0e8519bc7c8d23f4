"""The register-blocked direct convolution (kernels/conv_direct.py) agrees with its NumPy twin
(reference/conv_direct.py) and with the im2col product it replaces."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F
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
# outputs narrower than a strip (the flattened-rows kernel): lenet's second layer (10 wide), rows shorter
# than a strip's reach into the next ones, a single output, a last strip ending in the image's tail
NARROW_CASES = [
    ((4, 6, 14, 14), (16, 5, 5)),
    ((2, 3, 7, 9), (5, 3, 3)),
    ((1, 1, 5, 5), (6, 5, 5)),
    ((3, 2, 20, 12), (12, 3, 3)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("input_shape, kernel", CASES + NARROW_CASES)
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


def test_a_narrow_weight_gradient_over_an_input_with_inf_is_left_to_the_columns():
    """The narrow kernel multiplies inputs by the 0 gradient of positions between rows (0 x inf = nan): over
    an input holding inf or nan it returns None, and ops/conv.py takes the columns, which stay exact."""
    from tinygrad_maas import backend

    padded = np.ones((1, 6, 20, 17), np.float32)  # 54 taps for 6 channels, 15 wide: the narrow direct path
    grad = np.ones((6, 1, 18, 15), np.float32)
    assert numba_direct.direct_weight_grad(padded, grad, 3, 3) is not None
    padded[0, 0, 0, 16] = np.inf  # the last column: only tap (0, 0, 2) of the window at (0, 14) meets it
    assert numba_direct.direct_weight_grad(padded, grad, 3, 3) is None
    weight = tm.ones(6, 6, 3, 3, requires_grad=True)
    assert backend.direct_convolution(padded, weight.detach().numpy(), (1, 1), (1, 1), 1) is (
        backend.current() == "numba"
    )
    F.conv2d(tm.tensor(padded), weight).sum().backward()
    infinite = ~np.isfinite(weight.grad.numpy())
    expected = np.zeros(infinite.shape, dtype=bool)
    expected[:, 0, 0, 2] = True
    np.testing.assert_array_equal(infinite, expected)
    assert np.isposinf(weight.grad.numpy()[:, 0, 0, 2]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("input_shape, kernel", CASES + NARROW_CASES)
def test_direct_weight_grad_twins_agree_and_equal_the_im2col_gradient(input_shape, kernel, dtype):
    """dL/dW = g @ cols^T without the columns: widths of one strip, of a strip and an overlapping one (17,
    28: the overlap's lanes must count once), narrower than a strip (flattened rows, zeros between them),
    channel blocks full and part empty, taps not a multiple of the tap block."""
    rng = np.random.default_rng(1)
    padded = rng.standard_normal(input_shape).astype(dtype)
    out_channels, kernel_h, kernel_w = kernel
    n, c, height, width = input_shape
    out_h, out_w = height - kernel_h + 1, width - kernel_w + 1
    grad = rng.standard_normal((out_channels, n, out_h, out_w)).astype(dtype)
    fast = numba_direct.direct_weight_grad(padded, grad, kernel_h, kernel_w)
    reference = numpy_direct.direct_weight_grad(padded, grad, kernel_h, kernel_w)
    assert fast.shape == reference.shape == (out_channels, c, kernel_h, kernel_w) and fast.dtype == dtype
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fast, reference, rtol=tolerance, atol=tolerance * 10)
    cols = numpy_conv.im2col(padded, kernel_h, kernel_w, 1, 1, 1, 1, out_h, out_w)
    by_im2col = (grad.reshape(out_channels, -1) @ cols.T).reshape(reference.shape)
    np.testing.assert_allclose(reference, by_im2col, rtol=tolerance, atol=tolerance * 10)


def test_direct_weight_grad_takes_more_images_than_chunks_and_fewer_on_one_thread_or_all():
    rng = np.random.default_rng(2)
    lenet_first_layer = ((5, 3, 32, 32), (6, 5, 5))  # 5 images: enough work for numba's threads
    assert 6 * 5 * 28 * 28 * 75 >= numba_direct.THREADS_FROM
    for input_shape, (out_channels, kernel_h, kernel_w) in [
        ((1, 2, 12, 20), (6, 3, 3)),
        ((3, 2, 12, 20), (6, 3, 3)),
        ((numba_direct.IMAGE_CHUNKS * 2 + 1, 2, 12, 20), (8, 3, 3)),
        lenet_first_layer,
    ]:
        n, _, height, width = input_shape
        padded = rng.standard_normal(input_shape).astype(np.float32)
        grad = rng.standard_normal((out_channels, n, height - kernel_h + 1, width - kernel_w + 1)).astype(np.float32)
        np.testing.assert_allclose(
            numba_direct.direct_weight_grad(padded, grad, kernel_h, kernel_w),
            numpy_direct.direct_weight_grad(padded, grad, kernel_h, kernel_w),
            rtol=1e-5,
            atol=1e-4,
        )


def test_direct_weight_grad_counts_an_infinite_input_as_inf_not_nan():
    """An inf input under the overlapping strip's repeated lanes: every tap that meets it sums to +inf with
    positive gradients; lanes counted twice (or zeroed by multiplying, 0 * inf) would give nan or miss it."""
    padded = np.ones((1, 1, 5, 20), dtype=np.float32)
    padded[0, 0, 2, 4] = np.inf  # x + j = 4: read by lanes the last strip (x0 = 2) repeats
    grad = np.ones((2, 1, 3, 18), dtype=np.float32)
    grad_weight = numba_direct.direct_weight_grad(padded, grad, 3, 3)
    assert np.isposinf(grad_weight).all()
    padded[0, 0, 2, 4] = 1.0
    assert (numba_direct.direct_weight_grad(padded, grad, 3, 3) == 54.0).all()  # 3 x 18 ones per tap


def test_a_narrow_products_inf_reaches_only_the_outputs_whose_windows_hold_it():
    """In the flattened-rows kernel a strip's lanes past a row's end read the next row: those positions are
    computed and never written, so an inf there reaches no output it does not belong to."""
    padded = np.ones((1, 1, 6, 8), dtype=np.float32)
    padded[0, 0, 2, 7] = np.inf  # the last column: only windows ending at x = 5 (3 x 3 kernel) hold it
    product = numba_direct.direct_product(padded, np.ones((2, 1, 3, 3), dtype=np.float32))
    infinite = ~np.isfinite(product[0, 0])
    expected = np.zeros((4, 6), dtype=bool)
    expected[0:3, 5] = True
    np.testing.assert_array_equal(infinite, expected)
