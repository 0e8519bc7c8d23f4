"""GELU, scaled dot-product attention, MultiheadAttention and TransformerEncoderLayer."""

import math

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn
import tinygrad_maas.nn.functional as F
from tests.gradients import check_gradients

RNG = np.random.default_rng(0)


def make(*shape):
    return tm.tensor(RNG.standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradient_and_values(approximate):
    assert check_gradients(lambda x: F.gelu(x, approximate), make(3, 4))
    value = F.gelu(tm.tensor([1.0], dtype=tm.float64), approximate).item()
    exact = 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    assert value == pytest.approx(exact if approximate == "none" else 0.8411919906, rel=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_gelu_in_inference_is_one_pass_with_the_recorded_ops_values_bit_for_bit(dtype):
    """Under no_grad F.gelu runs one kernel (kernels/elementwise.py: gelu) instead of five recorded ops; it
    does their arithmetic in their order, so the values do not depend on whether a graph is recorded.
    PyTorch's formula gives the same edges: gelu(inf) = inf, gelu(-inf) = -inf * 0 = nan, gelu(-0) = -0."""
    from tinygrad_maas.kernels import elementwise as numba_elementwise
    from tinygrad_maas.reference import elementwise as numpy_elementwise

    x = (RNG.standard_normal(300_000) * 3).astype(dtype)  # above the threads' threshold
    x[:6] = [np.inf, -np.inf, np.nan, -0.0, 1e30, -5.0]
    with tm.no_grad():
        fused = F.gelu(tm.tensor(x)).numpy()
    with np.errstate(invalid="ignore", over="ignore"):
        recorded = F.gelu(tm.tensor(x, requires_grad=True)).detach().numpy()
        assert np.array_equal(fused, recorded, equal_nan=True)
        assert np.array_equal(numba_elementwise.gelu(x[:50]), numpy_elementwise.gelu(x[:50]), equal_nan=True)
        assert np.array_equal(numba_elementwise.gelu(x), numpy_elementwise.gelu(x), equal_nan=True)
    assert fused[0] == np.inf and np.isnan(fused[1]) and np.isnan(fused[2])
    assert fused[3] == 0 and np.signbit(fused[3]) and fused[4] == dtype(1e30)
    if dtype == np.float64:  # float32's 1 + erf(x) cancels to a few units of 6e-8 there
        assert fused[5] == pytest.approx(-5.0 * 0.5 * math.erfc(5.0 / math.sqrt(2)), rel=1e-12)  # -1.4333e-06


def test_erf_kernel_agrees_with_its_twin():
    from tinygrad_maas.kernels import elementwise as numba_elementwise
    from tinygrad_maas.reference import elementwise as numpy_elementwise

    for dtype in (np.float32, np.float64):
        x = RNG.standard_normal((7, 5)).astype(dtype) * 3
        np.testing.assert_allclose(numba_elementwise.erf(x), numpy_elementwise.erf(x), rtol=1e-6)
    edges = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 3.9, 3.91, -1e-40], dtype=np.float32)
    assert np.array_equal(numba_elementwise.erf(edges), numpy_elementwise.erf(edges), equal_nan=True)


def test_float32_erf_is_a_rational_function_within_four_tenths_of_a_millionth_of_math_erf():
    from tinygrad_maas.kernels import elementwise as numba_elementwise
    from tinygrad_maas.reference import elementwise as numpy_elementwise

    x = np.linspace(-6, 6, 240001, dtype=np.float32)
    exact = np.array([math.erf(float(v)) for v in x])
    for erf in (numba_elementwise.erf, numpy_elementwise.erf):
        assert np.abs(erf(x) - exact).max() < 4e-7
    assert numpy_elementwise.erf(np.array([np.inf, -np.inf, 100.0], dtype=np.float32)).tolist() == [1, -1, 1]
    assert np.isnan(numpy_elementwise.erf(np.array([np.nan], dtype=np.float32))[0])
    float64 = np.array([0.5, -2.0])
    assert numpy_elementwise.erf(float64).tolist() == [math.erf(0.5), math.erf(-2.0)]  # math.erf itself


def test_scaled_dot_product_attention_gradient_and_causal_mask():
    q, k, v = make(2, 4, 3), make(2, 5, 3), make(2, 5, 2)
    assert check_gradients(F.scaled_dot_product_attention, (q, k, v))
    x = make(1, 4, 3)
    assert check_gradients(lambda x: F.scaled_dot_product_attention(x, x, x, is_causal=True), x)
    out = F.scaled_dot_product_attention(x, x, x, is_causal=True)
    np.testing.assert_allclose(out.array[0, 0], x.array[0, 0])  # the first position sees only itself


def _identity_attention(embed):
    attention = nn.MultiheadAttention(embed, 1).double()
    with tm.no_grad():
        attention.in_proj_weight.array[...] = np.vstack([np.eye(embed)] * 3)
        attention.out_proj.weight.array[...] = np.eye(embed)
    return attention


def test_multihead_attention_values_with_identity_projections():
    attention = _identity_attention(2)
    x = tm.tensor([[[1.0, 0.0]], [[0.0, 1.0]]], dtype=tm.float64)  # (L=2, N=1, E=2)
    output, weights = attention(x, x, x)
    scores = np.array([[1.0, 0.0], [0.0, 1.0]]) / math.sqrt(2)
    expected = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    np.testing.assert_allclose(weights.array[0], expected)
    np.testing.assert_allclose(output.array[:, 0], expected @ np.eye(2))


def test_multihead_attention_gradients_with_masks():
    tm.manual_seed(0)
    attention = nn.MultiheadAttention(4, 2).double()
    q, kv = make(3, 2, 4), make(5, 2, 4)
    padding = tm.tensor([[False] * 4 + [True], [False] * 5])
    causal = tm.tensor(np.triu(np.ones((3, 5), dtype=bool), k=3))

    def run(q, kv, *params):
        return attention(q, kv, kv, key_padding_mask=padding, attn_mask=causal)[0]

    assert check_gradients(run, (q, kv, *attention.parameters()))


def test_padded_keys_get_zero_weight_and_weights_average_over_heads():
    tm.manual_seed(0)
    attention = nn.MultiheadAttention(4, 2, batch_first=True)
    x = tm.randn(2, 3, 4)
    _, weights = attention(x, x, x, key_padding_mask=tm.tensor([[False, False, True], [False] * 3]))
    assert weights.shape == (2, 3, 3)
    assert np.all(weights.array[0, :, 2] == 0)
    _, per_head = attention(x, x, x, average_attn_weights=False)
    assert per_head.shape == (2, 2, 3, 3)
    assert attention(x, x, x, need_weights=False)[1] is None


def test_multihead_attention_parameters_are_pytorchs():
    names = {n: p.shape for n, p in nn.MultiheadAttention(8, 2).named_parameters()}
    assert names == {"in_proj_weight": (24, 8), "in_proj_bias": (24,), "out_proj.weight": (8, 8), "out_proj.bias": (8,)}
    assert nn.MultiheadAttention(8, 2).in_proj_bias.tolist() == [0.0] * 24
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(6, 4)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layer_gradient(norm_first):
    tm.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, norm_first=norm_first).double()
    x = make(3, 2, 4)
    assert check_gradients(lambda x, *ps: layer(x, is_causal=True), (x, *layer.parameters()))


def test_transformer_encoder_layer_shapes_and_state_dict_keys():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    assert layer(tm.randn(3, 5, 8)).shape == (3, 5, 8)
    assert list(layer.state_dict()) == [
        "self_attn.in_proj_weight",
        "self_attn.in_proj_bias",
        "self_attn.out_proj.weight",
        "self_attn.out_proj.bias",
        "linear1.weight",
        "linear1.bias",
        "linear2.weight",
        "linear2.bias",
        "norm1.weight",
        "norm1.bias",
        "norm2.weight",
        "norm2.bias",
    ]


def test_keep_kernel_selects_like_its_twin_even_under_infinite_and_nan_gradients():
    from tinygrad_maas.kernels import elementwise as numba_elementwise
    from tinygrad_maas.reference import elementwise as numpy_elementwise

    for dtype in (np.float32, np.float64):
        grad = RNG.standard_normal((5, 7, 3)).astype(dtype)
        grad.flat[:4] = [np.inf, -np.inf, np.nan, -0.0]
        mask = RNG.standard_normal(grad.shape) > 0
        mask.flat[:3] = False  # blocked infinities and nan become exactly 0, as PyTorch's relu backward
        kept = numba_elementwise.keep(mask, grad)
        assert np.array_equal(kept, numpy_elementwise.keep(mask, grad), equal_nan=True)
        assert kept.flat[:3].tolist() == [0, 0, 0] and kept.dtype == dtype
    empty = np.zeros((0, 3), dtype=np.float32)
    assert numba_elementwise.keep(empty > 0, empty).shape == (0, 3)
