"""The fused attention kernel agrees with its NumPy twin, and F.scaled_dot_product_attention's inference
path (one kernel) with its recorded, differentiable path (matmul, scale, mask, softmax, matmul)."""

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas.kernels import attention as numba_attention
from tinygrad_maas.nn import functional as F
from tinygrad_maas.reference import attention as numpy_attention


def _tolerance(dtype):
    return {"rtol": 2e-5, "atol": 2e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-13}


def _heads(rng, batch, heads, length, depth, dtype):
    """(B, H, L, E) as a model makes it: a (B, L, H, E) array seen transposed, so not contiguous."""
    return rng.standard_normal((batch, length, heads, depth)).astype(dtype).transpose(0, 2, 1, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "batch, heads, length, keys, depth, width",
    [
        (1, 12, 13, 13, 32, 32),  # a sentence of MiniLM: serial build; 13 rows fill no tile of 8
        (4, 12, 40, 40, 32, 32),  # a batch: above THREADS_FROM, the threaded build
        (2, 3, 5, 17, 7, 20),  # keys past one tile of 16, features past one, depths of no vector size
        (1, 1, 1, 1, 1, 1),
    ],
    ids=str,
)
def test_attention_twins_agree(batch, heads, length, keys, depth, width, dtype):
    rng = np.random.default_rng(0)
    q = _heads(rng, batch, heads, length, depth, dtype)
    k, v = _heads(rng, batch, heads, keys, depth, dtype), _heads(rng, batch, heads, keys, width, dtype)
    mask = np.zeros((batch, 1, 1, keys), dtype=dtype)
    mask[0, ..., keys // 2 :] = np.finfo(dtype).min  # Hugging Face's padding mask: the float minimum
    work = batch * heads * length * keys * (depth + width)
    assert (work >= numba_attention.THREADS_FROM) == (batch == 4)
    for m in (mask, None):
        got = numba_attention.attention(q, k, v, m, 0.3)
        expected = numpy_attention.attention(q, k, v, m, 0.3)
        assert got.dtype == dtype and got.shape == (batch, heads, length, width)
        np.testing.assert_allclose(got, expected, **_tolerance(dtype))


@pytest.mark.parametrize("mask_shape", [(9,), (5, 9), (1, 5, 9), (2, 1, 5, 9), (2, 3, 5, 9), (2, 3, 1, 1)], ids=str)
def test_attention_kernel_broadcasts_masks_of_every_shape(mask_shape):
    """The kernel reads a mask's axes of size 1 at index 0 (as np.broadcast_to would, without its cost)."""
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal(shape).astype(np.float32) for shape in ((2, 3, 5, 4), (2, 3, 9, 4), (2, 3, 9, 6)))
    mask = rng.standard_normal(mask_shape).astype(np.float64) * 3  # cast to q's dtype, as the recorded ops
    got = numba_attention.attention(q, k, v, mask, 0.5)
    np.testing.assert_allclose(got, numpy_attention.attention(q, k, v, mask, 0.5), **_tolerance(np.float32))


def test_attention_kernel_edges_follow_the_twin():
    """No keys: each output is an empty sum, 0. No queries: an empty output. A row whose every key is blocked
    with -inf: weights 0, so an output of 0 (PyTorch's attention, where softmax alone would give 0 / 0 =
    nan); a row holding inf: nan. The float minimum blocks a key without nan."""
    q, k, v = np.ones((1, 2, 3, 4), np.float32), np.ones((1, 2, 0, 4), np.float32), np.ones((1, 2, 0, 5), np.float32)
    assert np.array_equal(numba_attention.attention(q, k, v, None, 1.0), np.zeros((1, 2, 3, 5), np.float32))
    empty = numba_attention.attention(q[:, :, :0], q, q, None, 1.0)
    assert empty.shape == (1, 2, 0, 4)
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((1, 1, 3, 4)).astype(np.float32) for _ in range(3))
    q[0, 0, 2, 1] = np.inf
    mask = np.array([[-np.inf] * 3, [0, np.finfo(np.float32).min, 0], [0, 0, 0]], dtype=np.float32)
    with np.errstate(invalid="ignore"):  # the inf query's products
        got, expected = numba_attention.attention(q, k, v, mask, 1.0), numpy_attention.attention(q, k, v, mask, 1.0)
    assert np.array_equal(got[0, 0, 0], np.zeros(4, np.float32)) and np.isnan(got[0, 0, 2]).all()
    np.testing.assert_allclose(got, expected, **_tolerance(np.float32))
    scores = q[0, 0, 1] @ k[0, 0, [0, 2]].T  # the blocked key's weight is exactly 0
    weights = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    np.testing.assert_allclose(got[0, 0, 1], weights @ v[0, 0, [0, 2]], rtol=1e-5, atol=1e-6)


def test_a_query_that_may_attend_to_no_key_gets_zeros_and_zero_gradients_as_in_pytorch():
    """PyTorch 2.13's values for a bool mask that blocks every key of the first query: its output and its
    gradient are 0 (not nan), in the recorded ops and in the kernel alike."""
    q = tm.tensor([[[1.0, 0.5], [-1.0, 2.0]]], dtype=tm.float64, requires_grad=True)
    k = tm.tensor([[[0.5, 1.0], [2.0, -1.0], [0.0, 1.0]]], dtype=tm.float64, requires_grad=True)
    v = tm.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]], dtype=tm.float64, requires_grad=True)
    allowed = tm.tensor([[False, False, False], [True, False, True]])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    (out * tm.tensor([[[1.0, -2.0], [0.5, 3.0]]], dtype=tm.float64)).sum().backward()
    expected = [[[0.0, 0.0], [3.349916003358439, 4.349916003358439]]]
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-14)
    np.testing.assert_allclose(q.grad.numpy(), [[[0.0, 0.0], [-1.199558550434249, 0.0]]], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(
        k.grad.numpy(),
        [[[2.399117100868498, -4.798234201736996], [0.0, 0.0], [-2.399117100868497, 4.798234201736994]]],
        rtol=1e-13,
    )
    np.testing.assert_allclose(
        v.grad.numpy(),
        [[[0.20626049958019513, 1.2375629974811708], [0.0, 0.0], [0.2937395004198049, 1.7624370025188294]]],
        rtol=1e-13,
    )
    with tm.no_grad():
        fused = F.scaled_dot_product_attention(q.detach(), k.detach(), v.detach(), attn_mask=allowed)
    np.testing.assert_allclose(fused.numpy(), expected, rtol=1e-14)


def _recorded_and_fused(q, k, v, **options):
    """The recorded ops (inputs requiring gradients) and the inference path (the same values, no_grad)."""
    leaves = [tm.tensor(x, requires_grad=True) for x in (q, k, v)]
    recorded = F.scaled_dot_product_attention(*leaves, **options)
    assert recorded.grad_fn is not None
    with tm.no_grad():
        fused = F.scaled_dot_product_attention(*(tm.tensor(x) for x in (q, k, v)), **options)
    assert fused.grad_fn is None and fused.shape == recorded.shape and fused.dtype == recorded.dtype
    return recorded.detach().numpy(), fused.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("masking", ["none", "float", "bool", "causal"])
@pytest.mark.parametrize("ndim", [3, 4])
def test_attention_without_gradients_is_one_kernel_with_the_recorded_ops_values(ndim, masking, dtype):
    rng = np.random.default_rng(3)
    lead = (2, 3) if ndim == 4 else (2,)
    q, k, v = (rng.standard_normal(lead + shape).astype(dtype) for shape in ((6, 8), (6, 8), (6, 5)))
    options = {}
    if masking == "float":
        options["attn_mask"] = tm.tensor(rng.standard_normal((6, 6)).astype(dtype))
    elif masking == "bool":  # True: may attend; every row keeps one key
        allowed = rng.random(lead + (6, 6)) > 0.4
        allowed[..., 0] = True
        options["attn_mask"] = tm.tensor(allowed)
    elif masking == "causal":
        options["is_causal"] = True
    recorded, fused = _recorded_and_fused(q, k, v, scale=0.25 if masking == "float" else None, **options)
    np.testing.assert_allclose(fused, recorded, **_tolerance(dtype))


def test_attention_keeps_the_recorded_ops_where_the_kernel_does_not_apply():
    """Dropout, a listener (the profiler, tm.onnx's tracer) and inputs whose leading dims broadcast take the
    recorded ops; so does a mask that would broadcast the output to more dims."""
    rng = np.random.default_rng(4)
    q = tm.tensor(rng.standard_normal((2, 1, 4, 3)).astype(np.float32))
    k = tm.tensor(rng.standard_normal((2, 5, 6, 3)).astype(np.float32))  # heads 5 against the query's 1
    v = tm.tensor(rng.standard_normal((2, 5, 6, 2)).astype(np.float32))
    with tm.no_grad():
        out = F.scaled_dot_product_attention(q, k, v)
        assert out.shape == (2, 5, 4, 2)
        wide_mask = tm.tensor(np.zeros((3, 2, 5, 4, 6), np.float32))
        assert F.scaled_dot_product_attention(q, k, v, attn_mask=wide_mask).shape == (3, 2, 5, 4, 2)
        with tm.profile() as profile:
            F.scaled_dot_product_attention(k, k, v)
    assert "Softmax" in {name for name, *_ in profile.events}
