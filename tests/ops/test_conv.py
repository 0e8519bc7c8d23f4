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
