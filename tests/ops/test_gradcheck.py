"""Every differentiable op against float64 central finite differences (tm.autograd.gradcheck).

Shapes cover an odd matrix (5, 7), a scalar (), a zero-size tensor where PyTorch allows one, and the
broadcast pairs (5,7)+(5,1), (5,7)+(7,), (5,7)+(), (3,1,7)+(4,1).
"""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F
from tests.gradients import check_gradients

SHAPES = [(5, 7), (), (0, 3)]
BROADCAST_PAIRS = [
    ((5, 7), (5, 7)),
    ((5, 7), (5, 1)),
    ((5, 7), (7,)),
    ((5, 7), ()),
    ((3, 1, 7), (4, 1)),
    ((4, 1), (3, 1, 7)),
    ((0, 7), (7,)),
]


def make(shape, low=-2.0, high=2.0, seed=0):
    """A float64 leaf with values in [low, high], kept at least 0.05 away from 0 (the kinks of abs/relu)."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(low, high, size=shape)
    values = np.where(np.abs(values) < 0.05, 0.05 * np.sign(values) + (values == 0) * 0.05, values)
    return tm.tensor(values, requires_grad=True)


UNARY = {
    "neg": (lambda x: -x, None),
    "exp": (lambda x: x.exp(), None),
    "log": (lambda x: x.log(), (0.1, 3.0)),
    "sqrt": (lambda x: x.sqrt(), (0.1, 3.0)),
    "abs": (lambda x: x.abs(), None),
    "sin": (lambda x: x.sin(), None),
    "cos": (lambda x: x.cos(), None),
    "tanh": (lambda x: x.tanh(), None),
    "sigmoid": (lambda x: x.sigmoid(), None),
    "relu": (lambda x: x.relu(), None),
    "clamp": (lambda x: x.clamp(-0.5, 0.7), None),
    "clamp_min_only": (lambda x: x.clamp(min=0.3), None),
    "pow_scalar": (lambda x: x**3, None),
    "pow_fractional": (lambda x: x**1.5, (0.1, 3.0)),
    "pow_zero": (lambda x: x**0, None),
    "scalar_pow": (lambda x: 2.0**x, None),
    "rsub_scalar": (lambda x: 1.5 - x, None),
    "rdiv_scalar": (lambda x: 1.5 / x, (0.5, 3.0)),
    "square": (lambda x: x.square(), None),
    "log1p": (lambda x: x.log1p(), (-0.5, 2.0)),
    "expm1": (lambda x: x.expm1(), None),
    "clone": (lambda x: x.clone() * x, None),
    "float32_roundtrip": (lambda x: x.float().double() * 1.0, None),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", UNARY)
def test_unary_op(name, shape):
    fn, domain = UNARY[name]
    low, high = domain or (-2.0, 2.0)
    if name == "float32_roundtrip":  # the cast loses precision: check the gradient, not float64 accuracy
        x = make(shape, low, high)
        fn(x).sum().backward() if x.numel() else None
        assert x.grad is None or np.all(x.grad.array == 1.0)
        return
    assert check_gradients(fn, make(shape, low, high))


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "maximum": lambda a, b: tm.maximum(a, b),
    "minimum": lambda a, b: tm.minimum(a, b),
    "where": lambda a, b: tm.where(a > 0, a, b),
}


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_op_with_broadcasting(name, shapes):
    positive = name in ("pow", "div")
    a = make(shapes[0], 0.5, 2.0, seed=1) if positive else make(shapes[0], seed=1)
    b = make(shapes[1], 0.5, 2.0, seed=2) if positive else make(shapes[1], seed=2)
    assert check_gradients(BINARY[name], (a, b))


def test_binary_op_with_one_constant_input():
    constant = tm.tensor(np.linspace(0.5, 2, 7))
    assert check_gradients(lambda a: a * constant + constant / a, make((5, 7), 0.5, 2.0))


def test_maximum_splits_the_gradient_on_ties():
    a = tm.tensor([1.0, 2.0], dtype=tm.float64, requires_grad=True)
    b = tm.tensor([1.0, 3.0], dtype=tm.float64, requires_grad=True)
    tm.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0] and b.grad.tolist() == [0.5, 1.0]


REDUCTIONS = {
    "sum_all": lambda x: x.sum(),
    "sum_dim0": lambda x: x.sum(0),
    "sum_dim_neg1_keepdim": lambda x: x.sum(-1, keepdim=True),
    "sum_tuple_dims": lambda x: x.sum((0, 1)),
    "mean_all": lambda x: x.mean(),
    "mean_dim1": lambda x: x.mean(1),
    "var_all": lambda x: x.var(),
    "var_dim0_biased": lambda x: x.var(0, unbiased=False),
    "var_correction2_keepdim": lambda x: x.var(1, keepdim=True, correction=2),
    "std_dim1": lambda x: x.std(1),
    "prod_all": lambda x: x.prod(),
    "prod_dim1": lambda x: x.prod(1),
    "amax_dim1": lambda x: x.amax(1),
    "amin_tuple": lambda x: x.amin((0, 1)),
    "max_all": lambda x: x.max(),
    "min_all": lambda x: x.min(),
    "max_dim0_values": lambda x: x.max(0).values,
    "min_dim1_keepdim_values": lambda x: x.min(1, keepdim=True).values,
    "logsumexp_dim1": lambda x: x.logsumexp(1),
    "logsumexp_tuple_keepdim": lambda x: x.logsumexp((0, 1), keepdim=True),
    "softmax_dim1": lambda x: x.softmax(1),
    "softmax_dim0": lambda x: x.softmax(0),
    "log_softmax_dim1": lambda x: x.log_softmax(-1),
}


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_on_a_matrix(name):
    assert check_gradients(REDUCTIONS[name], make((5, 7)))


@pytest.mark.parametrize("name", ["sum_all", "mean_all", "prod_all", "max_all", "min_all"])
def test_reduction_of_a_scalar(name):
    assert check_gradients(REDUCTIONS[name], make(()))


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.sum(),
        lambda x: x.sum(0),
        lambda x: x.mean(1),
        lambda x: x.logsumexp(1),
        lambda x: x.softmax(1),
        lambda x: x.amax(1),
    ],
    ids=["sum", "sum0", "mean1", "logsumexp1", "softmax1", "amax1"],
)
def test_reduction_over_a_zero_size_tensor(fn):
    assert check_gradients(fn, make((0, 3)))


def test_prod_with_zeros_uses_the_product_of_the_others():
    x = tm.tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0]], dtype=tm.float64, requires_grad=True)
    assert check_gradients(lambda t: t.prod(1), x)
    assert check_gradients(lambda t: t.prod(), x)
    x.prod(1).sum().backward()
    assert x.grad.tolist() == [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]]


SHAPE_OPS = {
    "reshape": lambda x: x.reshape(7, 5),
    "view_minus_one": lambda x: x.view(-1),
    "transpose": lambda x: x.transpose(0, 1),
    "T": lambda x: x.T,
    "permute": lambda x: x.unsqueeze(0).permute(2, 0, 1),
    "squeeze_unsqueeze": lambda x: x.unsqueeze(1).squeeze(1),
    "flatten": lambda x: x.unsqueeze(0).flatten(1),
    "expand": lambda x: x[:, :1].expand(5, 3),
    "expand_new_dims": lambda x: x.expand(2, 5, 7),
    "repeat": lambda x: x.repeat(2, 3),
    "repeat_more_dims": lambda x: x.repeat(2, 1, 2),
    "flip": lambda x: x.flip(0),
    "flip_both": lambda x: x.flip((0, 1)),
    "chunk": lambda x: x.chunk(3, dim=1)[1],
}


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_op(name):
    assert check_gradients(SHAPE_OPS[name], make((5, 7)))


@pytest.mark.parametrize(
    "fn",
    [lambda x: x.reshape(3, 0), lambda x: x.T, lambda x: x.flip(1), lambda x: x.repeat(2, 2), lambda x: x.unsqueeze(0)],
    ids=["reshape", "T", "flip", "repeat", "unsqueeze"],
)
def test_shape_op_on_a_zero_size_tensor(fn):
    assert check_gradients(fn, make((0, 3)))


INDEXING = {
    "int": lambda x: x[2],
    "slice_with_step": lambda x: x[1:5:2, ::3],
    "negative_int_and_none": lambda x: x[-1, None],
    "ellipsis": lambda x: x[..., 3],
    "integer_array_with_repeats": lambda x: x[[0, 0, 3, 0]],
    "integer_tensor_pair": lambda x: x[tm.tensor([0, 4, 0]), tm.tensor([1, 1, 1])],
    "boolean_mask": lambda x: x[x > 0],
    "boolean_row_mask": lambda x: x[tm.tensor([True, False, True, False, True])],
    "gather_dim1_with_repeats": lambda x: x.gather(1, tm.tensor([[0, 0], [6, 1], [2, 2], [3, 4], [5, 5]])),
    "gather_dim0_smaller_index": lambda x: x.gather(0, tm.tensor([[4, 0, 1], [1, 1, 1]])),
    "masked_fill": lambda x: x.masked_fill(x < 0, 0.5),
    "masked_fill_broadcast_mask": lambda x: x.masked_fill(tm.tensor([True, False] * 3 + [True]), -1.0),
}


@pytest.mark.parametrize("name", INDEXING)
def test_indexing_op(name):
    assert check_gradients(INDEXING[name], make((5, 7)))


SCALAR_AND_EMPTY_CASES = {
    "scalar_index_none": ((), lambda x: x[None]),
    "scalar_index_ellipsis": ((), lambda x: x[...] * 2),
    "scalar_softmax": ((), lambda x: x.softmax(0)),
    "scalar_log_softmax": ((), lambda x: x.log_softmax(-1) + x),
    "scalar_logsumexp": ((), lambda x: x.logsumexp(0)),
    "scalar_var_biased": ((), lambda x: x.var(correction=0)),
    "scalar_stack": ((), lambda x: tm.stack([x, x * 2])),
    "scalar_expand": ((), lambda x: x.expand(3, 2)),
    "scalar_where": ((), lambda x: tm.where(x > 0, x, -x)),
    "empty_slice": ((0, 3), lambda x: x[:, 1:]),
    "empty_mask": ((0, 3), lambda x: x[x > 0]),
    "empty_gather": ((0, 3), lambda x: x.gather(1, tm.zeros(0, 2, dtype=tm.int64))),
    "empty_masked_fill": ((0, 3), lambda x: x.masked_fill(x > 0, 1.0)),
    "empty_pad": ((0, 3), lambda x: F.pad(x, (1, 1, 2, 0))),
    "empty_log_softmax": ((0, 3), lambda x: x.log_softmax(1)),
}


@pytest.mark.parametrize("name", SCALAR_AND_EMPTY_CASES)
def test_ops_on_scalars_and_zero_size_tensors(name):
    shape, fn = SCALAR_AND_EMPTY_CASES[name]
    assert check_gradients(fn, make(shape))


def test_repeated_indices_accumulate_their_gradients():
    x = tm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_cat_and_stack():
    a, b, c = make((5, 7), seed=1), make((2, 7), seed=2), make((5, 7), seed=3)
    assert check_gradients(lambda a, b: tm.cat([a, b], dim=0), (a, b))
    assert check_gradients(lambda a, c: tm.cat([a, c], dim=-1), (a, c))
    assert check_gradients(lambda a, c: tm.stack([a, c], dim=1), (a, c))
    assert check_gradients(lambda a, c: tm.stack([a, c]), (a, c))


def test_cat_with_a_zero_size_part():
    assert check_gradients(lambda a, b: tm.cat([a, b]), (make((0, 7), seed=1), make((5, 7), seed=2)))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad(mode):
    assert check_gradients(lambda x: F.pad(x, (2, 1, 1, 3), mode=mode), make((5, 7)))


def test_pad_with_negative_widths_crops():
    assert check_gradients(lambda x: F.pad(x, (-1, 2, 0, -2), value=1.5), make((5, 7)))


MATMUL_SHAPES = [
    ((5, 7), (7, 3)),
    ((7,), (7,)),
    ((7,), (7, 3)),
    ((5, 7), (7,)),
    ((2, 5, 7), (7, 3)),
    ((5, 7), (4, 7, 3)),
    ((3, 1, 5, 7), (2, 7, 3)),
    ((4,), (2, 4, 3)),
    ((0, 7), (7, 3)),
    ((5, 0), (0, 3)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    assert check_gradients(lambda a, b: a @ b, (make(shapes[0], seed=1), make(shapes[1], seed=2)))


def test_a_small_network_end_to_end():
    x = make((4, 3), seed=1)
    w1, b1 = make((3, 5), seed=2), make((5,), seed=3)
    w2 = make((5, 2), seed=4)
    target = tm.tensor([0, 1, 1, 0])

    def loss(x, w1, b1, w2):
        logits = (x @ w1 + b1).tanh() @ w2
        return -logits.log_softmax(1).gather(1, target.unsqueeze(1)).mean()

    assert check_gradients(loss, (x, w1, b1, w2))


def test_prod_over_an_empty_dim_has_an_empty_gradient():
    """The product of nothing is 1 and depends on no element: PyTorch's gradient is empty (this crashed)."""
    x = tm.zeros(0, 3, dtype=tm.float64, requires_grad=True)
    x.prod(0).sum().backward()
    assert x.grad.shape == (0, 3)
    assert check_gradients(lambda t: t.prod(0), x)
