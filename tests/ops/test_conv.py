"""conv2d and conv1d: gradients, PyTorch's values and argument handling, clear errors."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F
from tests.gradients import check_gradients


def make(shape, seed):
    return tm.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


CONV2D_CASES = {
    "plain_3x3": ((2, 3, 6, 5), (4, 3, 3, 3), {}),
    "stride_padding_pairs": ((1, 2, 7, 6), (3, 2, 3, 2), {"stride": (2, 1), "padding": (1, 2)}),
    "dilation": ((1, 2, 8, 8), (2, 2, 3, 3), {"dilation": 2, "padding": 1}),
    "groups": ((2, 4, 5, 5), (6, 2, 3, 3), {"groups": 2}),
    "depthwise": ((1, 3, 5, 4), (3, 1, 2, 2), {"groups": 3, "stride": 2}),
    "same_even_kernel": ((1, 1, 5, 6), (2, 1, 2, 4), {"padding": "same"}),
    "valid": ((1, 2, 4, 4), (1, 2, 4, 4), {"padding": "valid"}),
    "one_by_one": ((2, 3, 3, 3), (5, 3, 1, 1), {}),
}


@pytest.mark.parametrize("name", CONV2D_CASES)
def test_conv2d_gradcheck(name):
    input_shape, weight_shape, options = CONV2D_CASES[name]
    x, w, b = make(input_shape, 1), make(weight_shape, 2), make((weight_shape[0],), 3)
    assert check_gradients(lambda x, w, b: F.conv2d(x, w, b, **options), (x, w, b))


def test_conv2d_without_bias_and_unbatched_input():
    x, w = make((2, 5, 4), 1), make((3, 2, 2, 2), 2)
    assert check_gradients(lambda x, w: F.conv2d(x, w), (x, w))
    assert F.conv2d(x, w).shape == (3, 4, 3)


@pytest.mark.parametrize(
    "options",
    [{}, {"stride": 2, "padding": 1}, {"dilation": 2, "groups": 2}, {"padding": "same"}],
    ids=["plain", "stride_pad", "dilation_groups", "same"],
)
def test_conv1d_gradcheck(options):
    x, w, b = make((2, 4, 9), 1), make((6, 4 // options.get("groups", 1), 3), 2), make((6,), 3)
    assert check_gradients(lambda x, w, b: F.conv1d(x, w, b, **options), (x, w, b))


def test_conv2d_values_match_pytorch():
    x = tm.arange(16.0).reshape(1, 1, 4, 4)
    w = tm.ones(1, 1, 2, 2)
    assert F.conv2d(x, w).tolist() == [[[[10.0, 14.0, 18.0], [26.0, 30.0, 34.0], [42.0, 46.0, 50.0]]]]
    assert F.conv2d(x, w, stride=2, padding=1).tolist() == [[[[0.0, 3.0, 3.0], [12.0, 30.0, 18.0], [12.0, 27.0, 15.0]]]]
    # 'same' with an even kernel pads the extra row and column at the bottom and right, as PyTorch
    assert F.conv2d(x, w, padding="same").tolist() == [
        [[[10.0, 14.0, 18.0, 10.0], [26.0, 30.0, 34.0, 18.0], [42.0, 46.0, 50.0, 26.0], [25.0, 27.0, 29.0, 15.0]]]
    ]


def test_conv1d_values_match_pytorch():
    x = tm.arange(5.0).reshape(1, 1, 5)
    assert F.conv1d(x, tm.tensor([[[1.0, 0.0, -1.0]]]), dilation=2).tolist() == [[[-4.0]]]


def test_conv2d_agrees_with_a_direct_loop():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 2, 6, 7)), rng.standard_normal((3, 2, 3, 2))
    out = F.conv2d(tm.tensor(x), tm.tensor(w), stride=(2, 1), dilation=(1, 2)).array
    expected = np.zeros(out.shape)
    for n in range(2):
        for o in range(3):
            for y in range(out.shape[2]):
                for z in range(out.shape[3]):
                    patch = x[n, :, 2 * y : 2 * y + 3, z : z + 3 : 2]
                    expected[n, o, y, z] = np.sum(patch * w[o])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_conv2d_keeps_float32():
    out = F.conv2d(tm.ones(1, 1, 3, 3), tm.ones(1, 1, 2, 2), tm.zeros(1))
    assert out.dtype == tm.float32


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.conv2d(tm.ones(1, 3, 5, 5), tm.ones(2, 2, 3, 3)), "input has 3 channels but weight"),
        (lambda: F.conv2d(tm.ones(1, 2, 2, 2), tm.ones(1, 2, 3, 3)), "kernel reaches 3 elements"),
        (lambda: F.conv2d(tm.ones(1, 4, 5, 5), tm.ones(3, 2, 3, 3), groups=2), "not divisible by groups"),
        (lambda: F.conv2d(tm.ones(1, 1, 5, 5), tm.ones(1, 1, 3, 3), stride=2, padding="same"), "needs stride 1"),
        (lambda: F.conv2d(tm.ones(1, 1, 5, 5), tm.ones(1, 1, 3, 3), tm.ones(2)), r"bias must have shape \(1,\)"),
        (lambda: F.conv2d(tm.ones(5, 5), tm.ones(1, 1, 3, 3)), "expected a 4-D input"),
        (lambda: F.conv2d(tm.ones(1, 1, 5, 5), tm.ones(1, 1, 3, 3), stride=0), "must be positive"),
        (lambda: F.conv2d(tm.ones(1, 1, 5, 5), tm.ones(1, 1, 3, 3), padding="full"), "padding must be"),
    ],
)
def test_conv2d_errors_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_conv2d_refuses_mixed_dtypes():
    with pytest.raises(TypeError, match="share one floating dtype.*float32, float64"):
        F.conv2d(tm.ones(1, 1, 3, 3), tm.ones(1, 1, 2, 2, dtype=tm.float64))


def test_few_channel_layers_take_the_direct_kernel_where_it_measured_faster():
    """backend.direct_convolution: lenet's first layer (3 channels, 5 x 5, 28 wide outputs) and second (6
    channels, 10 wide) run direct; cnn's first layer (9 taps), narrow outputs with few taps per channel,
    strides, groups and the NumPy backend stay on im2col."""
    from tinygrad_maas import backend

    def direct(input_shape, weight_shape, stride=(1, 1), groups=1):
        x, w = np.zeros(input_shape, np.float32), np.zeros(weight_shape, np.float32)
        return backend.direct_convolution(x, w, stride, (1, 1), groups)

    expected = backend.current() == "numba"
    assert direct((64, 3, 32, 32), (6, 3, 5, 5)) is expected
    assert not direct((64, 1, 28, 28), (32, 1, 3, 3))  # 9 taps
    assert direct((64, 6, 14, 14), (16, 6, 5, 5)) is expected  # lenet's second: 10 wide, 150 taps for 16
    assert not direct((64, 8, 12, 12), (16, 8, 3, 3))  # 10 wide, 72 taps: fewer than 9 per channel
    assert not direct((64, 1, 14, 14), (6, 1, 5, 5))  # 10 wide, 25 taps
    assert not direct((64, 3, 32, 32), (6, 3, 5, 5), stride=(2, 2))
    assert not direct((64, 4, 32, 32), (6, 2, 5, 5), groups=2)
    assert not direct((64, 3, 32, 32), (32, 3, 5, 5))  # BLAS runs 32 rows well enough
    assert not direct((64, 3, 30, 30), (16, 3, 3, 3))  # 27 taps for 16 channels
    assert direct((64, 8, 30, 30), (16, 8, 3, 3)) is expected  # 72 taps


def test_direct_path_gradcheck_float64():
    """A shape the direct kernels take (one channel, 5 x 5, outputs 16 wide): forward and dL/dW by the
    direct kernels (no column matrix), dL/dx by col2im."""
    x, w, b = make((2, 1, 20, 20), 1), make((3, 1, 5, 5), 2), make((3,), 3)
    assert check_gradients(lambda x, w, b: F.conv2d(x, w, b), (x, w, b))


def test_narrow_direct_path_gradcheck_float64():
    """Outputs narrower than a strip (4 wide), 150 taps for 3 channels: the product by the flattened-rows
    kernel, dL/dW from columns made in backward, dL/dx by col2im."""
    from tinygrad_maas import backend

    x, w, b = make((2, 6, 8, 8), 1), make((3, 6, 5, 5), 2), make((3,), 3)
    assert backend.direct_convolution(x.detach().numpy(), w.detach().numpy(), (1, 1), (1, 1), 1) is (
        backend.current() == "numba"
    )
    assert check_gradients(lambda x, w, b: F.conv2d(x, w, b), (x, w, b))


def test_direct_path_equals_the_im2col_path():
    """lenet's first and second layers on both backends (numba: the direct kernels; NumPy: im2col + BLAS)."""
    for shapes in (((4, 3, 32, 32), (6, 3, 5, 5), (6,)), ((4, 6, 14, 14), (16, 6, 5, 5), (16,))):
        _both_backends_agree(shapes)


def _both_backends_agree(shapes):
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    results = {}
    for name in ("numba", "numpy"):
        previous = tm.backend.current()
        tm.backend.use(name)
        try:
            x, w, b = (tm.tensor(a, requires_grad=True) for a in arrays)
            out = F.conv2d(x, w, b, padding=1)
            (out * out).sum().backward()
            results[name] = [out.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()]
        finally:
            tm.backend.use(previous)
    for fast, reference in zip(*results.values()):
        np.testing.assert_allclose(fast, reference, rtol=2e-4, atol=2e-4)


def test_remembered_arguments_still_reject_what_a_first_check_rejects():
    """conv2d_arguments remembers argument sets it accepted (a layer repeats them every batch): stride 1
    accepted and remembered does not make stride True, (1, True) or padding 1.0 acceptable."""
    x, w = make((1, 2, 6, 6), 1), make((3, 2, 3, 3), 2)
    assert F.conv2d(x, w, stride=1).shape == F.conv2d(x, w, stride=(1, 1)).shape == (1, 3, 4, 4)
    for bad in ({"stride": True}, {"stride": (1, True)}, {"padding": 1.0}):
        with pytest.raises(ValueError, match="stride|padding"):
            F.conv2d(x, w, **bad)
    # arguments that cannot be remembered (unhashable) still get the check's message, not a TypeError
    for bad in ([[1]], np.array([1, 1]), {1: 2}):
        with pytest.raises(ValueError, match="stride must be positive: an int, or 2 int"):
            F.conv2d(x, w, stride=bad)
