"""PyTorch's semantics pinned with literal values (each checked against torch 2.13 when written)."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F

M = [[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]]


def test_max_with_dim_returns_values_and_first_indices():
    values, indices = tm.tensor(M).max(dim=1)
    assert values.tolist() == [5.0, 7.0]
    assert indices.tolist() == [1, 0]
    assert indices.dtype == tm.int64
    result = tm.tensor(M).min(0, keepdim=True)
    assert result.values.tolist() == [[1.0, 0.0, 2.0]] and result.indices.tolist() == [[0, 1, 0]]


def test_max_with_dim_sends_the_gradient_to_the_returned_index_only():
    x = tm.tensor(M, requires_grad=True)
    x.max(dim=1).values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


def test_max_without_dim_and_amax_share_the_gradient_among_ties():
    x = tm.tensor(M, requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 0.0], [0.5, 0.0, 0.5]]
    y = tm.tensor(M, requires_grad=True)
    y.amax(dim=1).sum().backward()
    assert y.grad.tolist() == [[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]


def test_max_of_two_tensors_is_elementwise():
    assert tm.tensor([1.0, 4.0]).max(tm.tensor([3.0, 2.0])).tolist() == [3.0, 4.0]


def test_argmax_argmin():
    x = tm.tensor(M)
    assert x.argmax().item() == 3
    assert x.argmax(dim=1).tolist() == [1, 0]
    assert x.argmin(dim=0, keepdim=True).tolist() == [[0, 1, 0]]


def test_var_and_std_default_to_the_unbiased_estimate():
    x = tm.tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == pytest.approx(1.6666666, rel=1e-6)
    assert x.var(unbiased=False).item() == pytest.approx(1.25)
    assert x.var(correction=0).item() == pytest.approx(1.25)
    assert x.std().item() == pytest.approx(1.2909944, rel=1e-6)


def test_sum_keepdim_negative_and_tuple_dims():
    x = tm.arange(24).reshape(2, 3, 4)
    assert x.sum(-1).shape == (2, 3)
    assert x.sum((0, 2), keepdim=True).shape == (1, 3, 1)
    assert x.sum((0, 2)).tolist() == [60, 92, 124]
    assert x.sum().dtype == tm.int64


def test_sum_of_bools_counts():
    assert tm.tensor([True, False, True]).sum().item() == 2


def test_mean_of_an_integer_tensor_is_refused_like_pytorch():
    with pytest.raises(TypeError, match="mean\\(\\): needs a floating point tensor"):
        tm.tensor([1, 2, 3]).mean()


def test_prod_logsumexp_softmax_values():
    x = tm.tensor([[1.0, 2.0, 3.0]])
    assert x.prod().item() == 6.0
    assert x.logsumexp(1).item() == pytest.approx(3.4076059, rel=1e-6)
    assert x.softmax(1).tolist()[0] == pytest.approx([0.09003057, 0.24472847, 0.66524096], rel=1e-6)
    assert x.log_softmax(1).tolist()[0] == pytest.approx([-2.4076059, -1.4076059, -0.4076059], rel=1e-6)


def test_softmax_of_huge_logits_does_not_overflow():
    assert tm.tensor([1000.0, 1000.0]).softmax(0).tolist() == [0.5, 0.5]
    assert tm.tensor([-1000.0, 0.0]).logsumexp(0).item() == 0.0


def test_squeeze_leaves_dims_that_are_not_size_one():
    x = tm.zeros(2, 1, 3, 1)
    assert x.squeeze().shape == (2, 3)
    assert x.squeeze(0).shape == (2, 1, 3, 1)
    assert x.squeeze(-1).shape == (2, 1, 3)
    assert x.unsqueeze(-1).shape == (2, 1, 3, 1, 1)


def test_expand_with_minus_one_keeps_a_size():
    x = tm.tensor([[1.0], [2.0]])
    assert x.expand(-1, 3).tolist() == [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    assert x.expand(2, 2, 3).shape == (2, 2, 3)


def test_repeat_tiles_like_torch():
    x = tm.tensor([1, 2])
    assert x.repeat(2).tolist() == [1, 2, 1, 2]
    assert x.repeat(2, 2).tolist() == [[1, 2, 1, 2], [1, 2, 1, 2]]


def test_flip_transpose_permute_flatten():
    x = tm.arange(6).reshape(2, 3)
    assert x.flip(1).tolist() == [[2, 1, 0], [5, 4, 3]]
    assert x.T.tolist() == [[0, 3], [1, 4], [2, 5]]
    assert tm.zeros(2, 3, 4).permute(2, 0, 1).shape == (4, 2, 3)
    assert tm.zeros(2, 3, 4).flatten(1).shape == (2, 12)
    assert tm.zeros(2, 3, 4).transpose(0, 2).shape == (4, 3, 2)


def test_gather_along_dim_1():
    x = tm.tensor([[1, 2], [3, 4]])
    assert x.gather(1, tm.tensor([[0, 0], [1, 0]])).tolist() == [[1, 1], [4, 3]]


def test_masked_fill_and_where():
    x = tm.tensor([1.0, -2.0, 3.0])
    assert x.masked_fill(x < 0, 0.0).tolist() == [1.0, 0.0, 3.0]
    assert tm.where(x > 0, x, tm.zeros(3)).tolist() == [1.0, 0.0, 3.0]
    assert tm.where(x > 0, 1.0, 0.0).tolist() == [1.0, 0.0, 1.0]


def test_cat_and_stack_shapes_and_values():
    a, b = tm.tensor([[1, 2]]), tm.tensor([[3, 4]])
    assert tm.cat([a, b]).tolist() == [[1, 2], [3, 4]]
    assert tm.cat([a, b], dim=1).tolist() == [[1, 2, 3, 4]]
    assert tm.stack([a, b], dim=1).shape == (1, 2, 2)
    assert tm.stack([a, b], dim=-1).tolist() == [[[1, 3], [2, 4]]]


def test_pad_modes_match_torch():
    x = tm.tensor([[1.0, 2.0, 3.0]])
    assert F.pad(x, (2, 1)).tolist() == [[0.0, 0.0, 1.0, 2.0, 3.0, 0.0]]
    assert F.pad(x, (1, 1), value=9.0).tolist() == [[9.0, 1.0, 2.0, 3.0, 9.0]]
    assert F.pad(x, (2, 2), mode="reflect").tolist() == [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]
    assert F.pad(x, (2, 1), mode="replicate").tolist() == [[1.0, 1.0, 1.0, 2.0, 3.0, 3.0]]
    assert F.pad(x, (2, 1), mode="circular").tolist() == [[2.0, 3.0, 1.0, 2.0, 3.0, 1.0]]
    assert F.pad(x, (-1, 0)).tolist() == [[2.0, 3.0]]
    assert F.pad(tm.zeros(2, 3), (1, 1, 2, 0)).shape == (4, 5)


def test_indexing_forms():
    x = tm.arange(12).reshape(3, 4)
    assert x[1].tolist() == [4, 5, 6, 7]
    assert x[-1, ::2].tolist() == [8, 10]
    assert x[None, 0].shape == (1, 4)
    assert x[..., 1].tolist() == [1, 5, 9]
    assert x[[0, 2]].tolist() == [[0, 1, 2, 3], [8, 9, 10, 11]]
    assert x[tm.tensor([0, 2]), tm.tensor([1, 3])].tolist() == [1, 11]
    assert x[x > 9].tolist() == [10, 11]


def test_matmul_vector_and_batched_shapes():
    assert (tm.ones(3) @ tm.ones(3)).shape == ()
    assert (tm.ones(2, 3) @ tm.ones(3)).shape == (2,)
    assert (tm.ones(3) @ tm.ones(3, 4)).shape == (4,)
    assert (tm.ones(5, 2, 3) @ tm.ones(3, 4)).shape == (5, 2, 4)
    assert (tm.ones(2, 1, 2, 3) @ tm.ones(5, 3, 4)).shape == (2, 5, 2, 4)
    assert (tm.tensor([[1.0, 2.0]]) @ tm.tensor([[3.0], [4.0]])).item() == 11.0


def test_comparisons_give_bool_tensors_without_grad():
    x = tm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = x >= 2
    assert mask.dtype == tm.bool and mask.tolist() == [False, True, True]
    assert not mask.requires_grad
    assert (x == tm.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert (~mask).tolist() == [True, False, False]
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]


@pytest.mark.parametrize(
    "expression, dtype",
    [
        (lambda: tm.tensor([1, 2]) + tm.tensor([1.0, 2.0]), tm.float32),  # int64 + float32 (NumPy: float64)
        (lambda: tm.tensor([1, 2]) * 2.5, tm.float32),  # int tensor, Python float
        (lambda: tm.tensor([1, 2]) / tm.tensor([2, 2]), tm.float32),  # true division of ints
        (lambda: tm.tensor([1, 2]) + 1, tm.int64),
        (lambda: tm.tensor([1.0, 2.0]) + tm.tensor(1.0, dtype=tm.float64), tm.float32),  # 0-d ranks lower
        (lambda: tm.tensor([1.0], dtype=tm.float64) + tm.tensor([1.0]), tm.float64),
        (lambda: tm.tensor([1.0], dtype=tm.float64) * 2.0, tm.float64),
        (lambda: tm.tensor([True]) + 1, tm.int64),
        (lambda: tm.tensor([1, 2], dtype=tm.int32) + tm.tensor([1, 2]), tm.int64),
    ],
)
def test_type_promotion_follows_pytorch(expression, dtype):
    assert expression().dtype == dtype


def test_integer_division_values():
    assert (tm.tensor([1, 3]) / 2).tolist() == [0.5, 1.5]


def test_gradient_flows_through_a_dtype_promotion():
    x = tm.tensor([1.0, 2.0], requires_grad=True)  # float32
    y = tm.tensor([3.0, 4.0], dtype=tm.float64)
    out = x * y  # float64
    out.sum().backward()
    assert out.dtype == tm.float64 and x.grad.dtype == tm.float32
    assert x.grad.tolist() == [3.0, 4.0]


def test_module_level_twins():
    x = tm.tensor([[1.0, -2.0]])
    assert tm.relu(x).tolist() == [[1.0, 0.0]]
    assert tm.max(x).item() == 1.0
    assert tm.max(x, 1).indices.tolist() == [0]
    assert tm.sum(x, dim=1).tolist() == [-1.0]
    assert tm.exp(tm.zeros(1)).tolist() == [1.0]
    assert tm.matmul(tm.ones(2, 3), tm.ones(3)).tolist() == [3.0, 3.0]
    assert tm.softmax(x, dim=1).sum().item() == pytest.approx(1.0)
    assert tm.transpose(x, 0, 1).shape == (2, 1)


def test_relu_and_abs_have_zero_gradient_at_zero():
    x = tm.tensor([0.0, 0.0], requires_grad=True)
    (x.relu() + x.abs()).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_clamp_gradient_includes_the_bounds():
    x = tm.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    x.clamp(0.0, 1.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_pow_gradient_at_zero_base():
    x = tm.tensor([0.0, 2.0], requires_grad=True)
    (x**2).sum().backward()
    assert x.grad.tolist() == [0.0, 4.0]
    e = tm.tensor([2.0, 2.0], requires_grad=True)
    (tm.tensor([0.0, 2.0]) ** e).sum().backward()
    assert e.grad.tolist() == pytest.approx([0.0, 4 * np.log(2)])
