"""Tensor methods and functions PyTorch programs use, each pinned with PyTorch's values (torch 2.13),
and every differentiable one checked in float64 (gradcheck and gradgradcheck)."""

import math

import numpy as np
import pytest

import tinygrad_maas as tm
from tests.gradients import check_gradients


def leaf(values):
    return tm.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def random_leaf(*shape, seed=0):
    return leaf(np.random.default_rng(seed).uniform(-2, 2, size=shape))


# ------------------------------------------------------------------ division and remainder
def test_floor_division_floors_toward_minus_infinity():
    assert (tm.tensor([5, -5]) // 2).tolist() == [2, -3]
    assert (tm.tensor([3.5, -2.5, 7.0]) // 2).tolist() == [1.0, -2.0, 3.0]
    assert (7 // tm.tensor([2, -2])).tolist() == [3, -4]
    assert tm.tensor([7.0]).div(2, rounding_mode="trunc").tolist() == [3.0]
    assert tm.tensor([-7]).div(2, rounding_mode="trunc").tolist() == [-3]


def test_floor_division_has_no_gradient_as_in_pytorch():
    x = tm.tensor([3.5], requires_grad=True)
    assert not (x // 2).requires_grad


def test_integer_division_by_zero_raises():
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        tm.tensor([1, 2]) // 0
    with pytest.raises(ZeroDivisionError, match="modulo by zero"):
        tm.tensor([1, 2]) % tm.tensor([1, 0])


def test_remainder_takes_the_sign_of_the_divisor():
    assert (tm.tensor([5, -5]) % 3).tolist() == [2, 1]
    assert (tm.tensor([5.0, -5.0]) % -3).tolist() == [-1.0, -2.0]


def test_remainder_gradients_pinned_and_checked():
    x = tm.tensor([3.5, -2.5, 7.0], requires_grad=True)
    y = tm.tensor([2.0, 2.0, -3.0], requires_grad=True)
    (x % y).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0] and y.grad.tolist() == [-1.0, 2.0, 3.0]  # torch: -floor(x/y)
    assert check_gradients(lambda a, b: a % b, (leaf([3.3, -2.6, 7.1]), leaf([2.0, 2.1, -3.0])))


# ------------------------------------------------------------------ formatting and types
def test_format_of_a_one_element_tensor_formats_its_number():
    assert format(tm.tensor(1.234), "+.2f") == "+1.23"
    assert f"{tm.tensor([0.5]):.3f}" == "0.500"
    assert format(tm.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    with pytest.raises(TypeError, match=r"one element.*shape \(2,\)"):
        format(tm.tensor([1.0, 2.0]), ".1f")


def test_type_names_and_casts():
    assert tm.tensor([1.0]).type() == "tm.FloatTensor" and tm.tensor([1]).type() == "tm.LongTensor"
    assert tm.tensor([1, 2]).type(tm.float64).dtype == tm.float64
    assert tm.tensor([1, 2]).type("torch.FloatTensor").dtype == tm.float32


def test_new_tensors_take_this_tensors_dtype():
    assert tm.tensor([1.0, 2.0]).new_tensor([1, 2]).dtype == tm.float32
    assert tm.tensor([1, 2]).new_zeros(2).dtype == tm.int64
    assert tm.tensor([1.0], dtype=tm.float64).new_full((2,), 3).tolist() == [3.0, 3.0]
    ones = tm.tensor([1.0]).new_ones(2, 3, dtype=tm.int64)
    assert ones.shape == (2, 3) and ones.dtype == tm.int64
    assert tm.tensor([1.0]).new_zeros((2,), requires_grad=True).requires_grad


# ------------------------------------------------------------------ products
def test_mm_and_bmm_need_their_dims():
    a, b = tm.ones(2, 3), tm.ones(3, 4)
    assert a.mm(b).shape == (2, 4) and tm.mm(a, b).tolist()[0][0] == 3.0
    assert tm.bmm(tm.ones(5, 2, 3), tm.ones(5, 3, 4)).shape == (5, 2, 4)
    with pytest.raises(ValueError, match=r"mm\(\): expects 2-D tensors, got \(5, 2, 3\)"):
        tm.mm(tm.ones(5, 2, 3), b)
    with pytest.raises(ValueError, match=r"bmm\(\): expects 3-D"):
        tm.bmm(a, b)


EINSUM = {
    "batched_matmul": ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    "attention_scores": ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    "outer": ("i,j->ij", [(3,), (4,)]),
    "transpose": ("ij->ji", [(3, 4)]),
    "sum_all": ("ij->", [(3, 4)]),
    "row_sum_implicit_free": ("ij->i", [(3, 4)]),
    "implicit_matmul": ("ij,jk", [(3, 4), (4, 2)]),
    "ellipsis": ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    "three_operands": ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    "letter_summed_in_one_operand": ("ij,j->j", [(3, 4), (4,)]),
    "broadcast_size_one": ("bij,bjk->bik", [(1, 3, 4), (2, 4, 5)]),
}


@pytest.mark.parametrize("name", EINSUM)
def test_einsum_equals_numpy_and_its_gradients_check(name):
    equation, shapes = EINSUM[name]
    operands = [random_leaf(*shape, seed=i) for i, shape in enumerate(shapes)]
    arrays = [
        np.broadcast_to(o.array, (2, *o.shape[1:])) if name.startswith("broadcast") and o.shape[0] == 1 else o.array
        for o in operands
    ]
    np.testing.assert_allclose(tm.einsum(equation, *operands).array, np.einsum(equation, *arrays))
    assert check_gradients(lambda *xs: tm.einsum(equation, *xs), tuple(operands))


def test_einsum_takes_a_list_and_names_its_mistakes():
    a = tm.ones(2, 3)
    assert tm.einsum("ij->j", [a]).tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="operand 0 has 2 dims but its subscripts 'ijk' name 3"):
        tm.einsum("ijk->i", a)
    with pytest.raises(ValueError, match="subscript 'j' has size 4 in one operand and 3"):
        tm.einsum("ij,jk->ik", a, tm.ones(4, 2))
    with pytest.raises(NotImplementedError, match="repeated within one operand"):
        tm.einsum("ii->i", tm.ones(2, 2))


# ------------------------------------------------------------------ norms
def test_norm_values_and_gradients_pinned():
    x = tm.tensor([[3.0, -4.0], [0.0, 0.0]], requires_grad=True)
    n = x.norm(dim=1)
    n.sum().backward()
    assert n.tolist() == [5.0, 0.0]
    np.testing.assert_allclose(x.grad.array, [[0.6, -0.8], [0.0, 0.0]])  # 0 at the zero row, as torch
    assert tm.tensor([1.0, 0.0, 2.0]).norm(p=0).item() == 2.0
    assert abs(tm.tensor([1.0, 2.0]).norm(p=3).item() - 2.0800838) < 1e-6
    z = tm.tensor([3.0, -4.0], requires_grad=True)
    z.norm(p=math.inf).backward()
    assert z.grad.tolist() == [0.0, -1.0]


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, math.inf])
def test_a_zero_element_passes_no_gradient_whatever_p(p):
    z = tm.zeros(3, requires_grad=True)
    z.norm(p=p).backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.0]  # torch, also at the zero vector
    y = tm.tensor([0.0, 1.0], requires_grad=True)
    y.norm(p=p).backward()
    assert y.grad.tolist() == [0.0, 1.0]


@pytest.mark.parametrize("p", ["fro", 1, 3, 0.5, math.inf])
def test_norm_gradients_check(p):
    assert check_gradients(lambda x: x.norm(p=p, dim=1, keepdim=True), random_leaf(3, 4))


def test_norm_of_an_integer_tensor_is_refused_as_in_pytorch():
    with pytest.raises(TypeError, match="floating point"):
        tm.tensor([1, 2]).norm()


# ------------------------------------------------------------------ running sums, ordering
def test_cumsum_values_dtypes_and_gradient():
    assert tm.tensor([1, 2, 3]).cumsum(0).tolist() == [1, 3, 6]
    assert tm.cumsum(tm.tensor([True, True]), 0).dtype == tm.int64
    x = tm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x.cumsum(0) * tm.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [111.0, 110.0, 100.0]
    assert check_gradients(lambda x: x.cumsum(dim=1) ** 2, random_leaf(3, 4))


def test_sort_is_stable_and_puts_nan_last_ascending_first_descending():
    values = tm.tensor([2.0, math.nan, 1.0, 2.0])
    ascending, descending = tm.sort(values, stable=True), values.sort(descending=True, stable=True)
    assert ascending.indices.tolist() == [2, 0, 3, 1] and descending.indices.tolist() == [1, 0, 3, 2]
    assert tm.argsort(tm.tensor([3, 1, 2])).tolist() == [1, 2, 0]


def test_topk_returns_the_largest_first():
    values, indices = tm.topk(tm.tensor([1.0, 3.0, 3.0, 2.0]), 2)
    assert values.tolist() == [3.0, 3.0] and indices.tolist() == [1, 2]
    assert tm.tensor([[5, 1, 4]]).topk(2, largest=False).values.tolist() == [[1, 4]]
    with pytest.raises(ValueError, match=r"k must be an int in \[0, 3\]"):
        tm.tensor([1.0, 2.0, 3.0]).topk(4)


def test_sorted_values_carry_the_gradient_back_through_the_indices():
    x = tm.tensor([3.0, 1.0, 2.0], requires_grad=True)
    (x.sort().values * tm.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]
    assert check_gradients(lambda x: x.sort(dim=0, descending=True).values, random_leaf(4, 3))
    assert check_gradients(lambda x: x.topk(2, dim=1).values, random_leaf(4, 3))


def test_unique_with_inverse_and_counts():
    values, inverse, counts = tm.unique(tm.tensor([3, 1, 3, 2]), return_inverse=True, return_counts=True)
    assert values.tolist() == [1, 2, 3] and inverse.tolist() == [2, 0, 2, 1] and counts.tolist() == [1, 1, 2]


# ------------------------------------------------------------------ selecting and scattering
def test_index_select_and_narrow():
    x = tm.tensor([[1, 2, 3], [4, 5, 6]])
    assert x.index_select(1, tm.tensor([2, 0])).tolist() == [[3, 1], [6, 4]]
    assert tm.narrow(x, 1, 1, 2).tolist() == [[2, 3], [5, 6]]
    assert x.narrow(0, -1, 1).tolist() == [[4, 5, 6]]
    with pytest.raises(IndexError, match="narrow"):
        x.narrow(1, 2, 2)
    with pytest.raises(TypeError, match="index_select"):
        x.index_select(0, tm.tensor([0.0]))
    assert check_gradients(lambda x: x.index_select(0, tm.tensor([1, 1, 0])), random_leaf(3, 2))


def test_scatter_and_scatter_add_pinned():
    index = tm.tensor([[0, 1, 2, 0]])
    src = tm.arange(1, 11, dtype=tm.float32).reshape(2, 5)
    assert tm.zeros(3, 5).scatter(0, index, src).tolist() == [
        [1, 0, 0, 4, 0],
        [0, 2, 0, 0, 0],
        [0, 0, 3, 0, 0],
    ]  # torch's documented example
    assert tm.zeros(4).scatter_add(0, tm.tensor([0, 1, 0]), tm.tensor([1.0, 2.0, 3.0])).tolist() == [4, 2, 0, 0]
    assert tm.zeros(3).scatter(0, tm.tensor([2]), value=7.0).tolist() == [0, 0, 7]


def test_scatter_gradients_pinned_and_checked():
    x = tm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    src = tm.tensor([5.0, 6.0], requires_grad=True)
    (x.scatter(0, tm.tensor([2, 0]), src) * tm.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [0.0, 10.0, 0.0] and src.grad.tolist() == [100.0, 1.0]
    index = tm.tensor([[0, 1], [2, 0]])
    assert check_gradients(lambda x, s: x.scatter(1, index, s), (random_leaf(2, 3), random_leaf(2, 3, seed=1)))
    assert check_gradients(lambda x, s: x.scatter_add(0, index, s), (random_leaf(3, 2), random_leaf(2, 2, seed=1)))


def test_scatter_names_its_mistakes():
    with pytest.raises(IndexError, match="index 5 is out of bounds for dim 0 with size 3"):
        tm.zeros(3).scatter(0, tm.tensor([5]), tm.ones(1))
    with pytest.raises(TypeError, match="src has dtype int64 but the tensor has float32"):
        tm.zeros(3).scatter(0, tm.tensor([0]), tm.tensor([1]))


def test_in_place_scatter_masked_fill_and_clamp_outside_the_graph():
    x = tm.zeros(3)
    x.scatter_(0, tm.tensor([1]), tm.tensor([2.0])).scatter_add_(0, tm.tensor([1, 2]), tm.tensor([1.0, 1.0]))
    assert x.tolist() == [0.0, 3.0, 1.0]
    x.masked_fill_(x > 2, -1.0).clamp_(min=0.0)
    assert x.tolist() == [0.0, 0.0, 1.0]


# ------------------------------------------------------------------ module-level functions
def test_bincount_counts_and_weights():
    assert tm.bincount(tm.tensor([0, 2, 2])).tolist() == [1, 0, 2]
    weighted = tm.bincount(tm.tensor([0, 2]), weights=tm.tensor([0.5, 1.0]), minlength=4)
    assert weighted.tolist() == [0.5, 0.0, 1.0, 0.0] and weighted.dtype == tm.float32
    with pytest.raises(ValueError, match="non-negative"):
        tm.bincount(tm.tensor([-1]))


def test_randint_with_size_keyword_and_randperm_from_a_generator():
    assert tm.randint(5, size=(3,)).shape == (3,) and tm.randint(5, (2,)).dtype == tm.int64
    g = tm.Generator().manual_seed(3)
    first = tm.randperm(6, generator=g).tolist()
    assert sorted(first) == list(range(6))
    assert tm.randperm(6, generator=tm.Generator().manual_seed(3)).tolist() == first
    assert g.initial_seed() == 3 and tm.manual_seed(1).initial_seed() == 1


def test_as_tensor_shares_memory_and_is_tensor():
    array = np.zeros(2, dtype=np.float32)
    shared = tm.as_tensor(array)
    array[0] = 5.0
    assert shared.tolist() == [5.0, 0.0] and tm.is_tensor(shared) and not tm.is_tensor(array)
    assert tm.as_tensor([1, 2], dtype=tm.float32).dtype == tm.float32


def test_inference_mode_as_context_and_decorator():
    x = tm.ones(2, requires_grad=True)
    with tm.inference_mode():
        assert not (x * 2).requires_grad

    @tm.inference_mode
    def bare(v):
        return v * 2

    @tm.inference_mode()
    def called(v):
        return v * 2

    assert not bare(x).requires_grad and not called(x).requires_grad
    with tm.inference_mode(False):
        assert (x * 2).requires_grad
