"""nn.Sequential runs Conv2d, ReLU, MaxPool2d(2) as one op (nn/fusion.py, ops/conv_fused.py), and Linear,
ReLU as another (ops/linear.py): same values, same gradients, and the modules' own behaviour wherever
fusing could change what a user sees."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn
from tests.gradients import check_gradients
from tinygrad_maas.ops.conv_fused import Conv2dReluMaxPool
from tinygrad_maas.ops.linear import LinearRelu


def _block(conv=None, pool=None, dtype=tm.float32):
    tm.manual_seed(0)
    conv = conv or nn.Conv2d(3, 4, 3, padding=1)
    model = nn.Sequential(conv, nn.ReLU(), pool or nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 2, 5))
    return model.to(dtype)


def _run(model, x, fused):
    """(output, dL/dx, parameter gradients) of one backward of a weighted sum of the outputs."""
    previous, nn.fusion.enabled = nn.fusion.enabled, fused
    try:
        for p in model.parameters():
            p.grad = None
        x = x.detach().requires_grad_()
        out = model(x)
        (out * tm.arange(float(out.shape[1])).to(out.dtype)).sum().backward()
        return out.detach().numpy(), x.grad.numpy(), [p.grad.numpy() for p in model.parameters()], out.grad_fn
    finally:
        nn.fusion.enabled = previous


def _input(shape=(2, 3, 7, 5), seed=0, dtype=np.float32):
    return tm.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def test_fused_block_gives_the_three_modules_values_and_gradients():
    """Output, input gradient and weight gradients are bit for bit those of the modules run one by one (an
    odd height and width: the last row and column fall in no window); the bias gradient is the same sum
    taken in another order."""
    model = _block()
    fused, unfused = _run(model, _input(), True), _run(model, _input(), False)
    np.testing.assert_array_equal(fused[0], unfused[0])
    np.testing.assert_array_equal(fused[1], unfused[1])
    conv_weight, conv_bias, *rest = zip(fused[2], unfused[2])
    np.testing.assert_array_equal(*conv_weight)
    np.testing.assert_allclose(*conv_bias, rtol=1e-6)
    for pair in rest:
        np.testing.assert_array_equal(*pair)


def test_fused_block_is_one_node_in_the_graph():
    model = _block()
    x = _input().requires_grad_()
    assert type(model[:3](x).grad_fn) is Conv2dReluMaxPool
    nn.fusion.enabled = False
    try:
        assert type(model[:3](x).grad_fn).__name__ == "MaxPool2d"
    finally:
        nn.fusion.enabled = True


def test_fused_op_gradcheck_and_gradgradcheck_float64():
    """The op's own backward against finite differences, and its create_graph path (a replay of the
    three ops) differentiated again; without a bias too."""
    rng = np.random.default_rng(3)
    x = tm.tensor(rng.standard_normal((2, 2, 6, 7)), requires_grad=True)
    w = tm.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    b = tm.tensor(rng.standard_normal(3), requires_grad=True)
    arguments = {"stride": (1, 1), "padding": ((1, 1), (0, 0)), "dilation": (1, 1), "groups": 1}
    assert check_gradients(lambda x, w, b: Conv2dReluMaxPool.apply(x, w, b, **arguments), (x, w, b))
    assert check_gradients(lambda x, w: Conv2dReluMaxPool.apply(x, w, None, **arguments), (x, w))


def test_fused_block_second_derivative_equals_the_modules():
    """d/dW of |dL/dx|^2 through the fused op equals the same through the three modules."""
    _assert_same_second_derivative(_block(dtype=tm.float64), (2, 3, 7, 5))


def _assert_same_second_derivative(model, shape):
    """d/dW of |dL/dx|^2 (W: the first module's weight) equal with fusion on and off."""
    results = []
    for fused in (True, False):
        nn.fusion.enabled = fused
        try:
            x = _input(shape, dtype=np.float64).requires_grad_()
            (grad_x,) = tm.autograd.grad(model(x).sum(), x, create_graph=True)
            (second,) = tm.autograd.grad((grad_x**2).sum(), model[0].weight)
            results.append(second.numpy())
        finally:
            nn.fusion.enabled = True
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-12)


def test_grad_mode_off_and_eval_still_fuse_and_agree():
    model = _block().eval()
    with tm.no_grad():
        fused = model(_input()).numpy()
        nn.fusion.enabled = False
        try:
            unfused = model(_input()).numpy()
        finally:
            nn.fusion.enabled = True
    np.testing.assert_array_equal(fused, unfused)


class _LoggingReLU(nn.ReLU):
    def forward(self, input):
        self.calls = getattr(self, "calls", 0) + 1
        return super().forward(input)


@pytest.mark.parametrize(
    "change",
    ["hook_on_relu", "relu_subclass", "pool_3x3", "pool_stride_1", "pool_ceil_mode", "pool_padding"],
)
def test_not_fused_where_fusing_would_change_what_the_user_sees(change):
    """A hook must see its module's own input and output, a subclass runs its own forward, and any other
    pool is not the 2 x 2 one the kernel computes: those run module by module."""
    pools = {
        "pool_3x3": nn.MaxPool2d(3),
        "pool_stride_1": nn.MaxPool2d(2, stride=1),
        "pool_ceil_mode": nn.MaxPool2d(2, ceil_mode=True),
        "pool_padding": nn.MaxPool2d(2, padding=1),
    }
    tm.manual_seed(0)
    relu = _LoggingReLU() if change == "relu_subclass" else nn.ReLU()
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), relu, pools.get(change, nn.MaxPool2d(2)))
    seen = []
    if change == "hook_on_relu":
        relu.register_forward_hook(lambda module, args, output: seen.append(output.shape))
    out = model(_input().requires_grad_())
    assert type(out.grad_fn).__name__ == "MaxPool2d"
    if change == "hook_on_relu":
        assert seen == [(2, 4, 7, 5)]
    if change == "relu_subclass":
        assert relu.calls == 1


def test_unbatched_input_and_wrong_dtype_behave_as_the_modules_do():
    model = _block()
    out = model[:3](_input((3, 6, 4)))
    assert out.shape == (4, 3, 2)
    with pytest.raises((TypeError, ValueError, RuntimeError), match="float64"):
        model(_input(dtype=np.float64))


def _perceptron(bias=True, dtype=tm.float32):
    tm.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5, bias=bias), nn.ReLU(), nn.Linear(5, 3)).to(dtype)


@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 6), (0, 6)])
@pytest.mark.parametrize("bias", [True, False])
def test_fused_linear_relu_gives_the_two_modules_values_and_gradients(shape, bias):
    """Bit for bit: the same product, the same sum then max(., 0), the same masked gradient; leading axes
    and an empty batch too."""
    model = _perceptron(bias)
    x = _input(shape)
    fused, unfused = _run(model, x, True), _run(model, x, False)
    for got, expected in zip(fused[:2], unfused[:2]):
        np.testing.assert_array_equal(got, expected)
    for got, expected in zip(fused[2], unfused[2]):
        np.testing.assert_array_equal(got, expected)
    assert type(model[:2](x.requires_grad_()).grad_fn) is LinearRelu


def test_fused_linear_relu_gradcheck_and_second_derivative_float64():
    rng = np.random.default_rng(5)
    x = tm.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = tm.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    b = tm.tensor(rng.standard_normal(5), requires_grad=True)
    assert check_gradients(LinearRelu.apply, (x, w, b))
    assert check_gradients(lambda x, w: LinearRelu.apply(x, w, None), (x, w))
    _assert_same_second_derivative(_perceptron(dtype=tm.float64), (4, 6))


def test_fused_linear_relu_keeps_relus_answers_at_special_values():
    """A nan pre-activation stays nan, +inf passes and -inf stops as ReLU's would, and an infinite upstream
    gradient over a blocked unit gives 0 (selected, not multiplied by a 0 mask), as the two modules do."""
    linear = nn.Linear(2, 4)
    with tm.no_grad():
        linear.weight.copy_(tm.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
        linear.bias.copy_(tm.tensor([np.inf, -np.inf, np.nan, -5.0]))
    model = nn.Sequential(linear, nn.ReLU())
    x = tm.tensor([[1.0, 2.0]], requires_grad=True)
    out = model(x)
    assert type(out.grad_fn) is LinearRelu
    np.testing.assert_array_equal(out.detach().numpy(), [[np.inf, 0.0, np.nan, 0.0]])
    out.backward(tm.tensor([[1.0, np.inf, 2.0, np.inf]]))
    np.testing.assert_array_equal(linear.bias.grad.numpy(), [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0]])


@pytest.mark.parametrize("change", ["hook_on_linear", "relu_subclass", "float16"])
def test_linear_relu_not_fused_where_fusing_would_change_what_the_user_sees(change):
    tm.manual_seed(0)
    relu = _LoggingReLU() if change == "relu_subclass" else nn.ReLU()
    model = nn.Sequential(nn.Linear(6, 5), relu)
    seen = []
    if change == "hook_on_linear":
        model[0].register_forward_hook(lambda module, args, output: seen.append(output.shape))
    x = _input((4, 6))
    if change == "float16":
        model, x = model.to(tm.float16), x.to(tm.float16)
    out = model(x.requires_grad_())
    assert type(out.grad_fn).__name__ == "Relu"
    assert seen == ([(4, 5)] if change == "hook_on_linear" else [])
    assert getattr(relu, "calls", 1) == 1


def test_linear_relu_wrong_input_is_named_by_the_linear_module():
    model = _perceptron()
    with pytest.raises(ValueError, match="last dimension 6"):
        model(_input((4, 7)))
    with pytest.raises((TypeError, ValueError, RuntimeError), match="float64"):
        model(_input((4, 6), dtype=np.float64))
