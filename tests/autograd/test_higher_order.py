"""Gradients of gradients: create_graph=True, tm.autograd.functional, and the uses they exist for.

Each op's own second-order check is in tests/ops (check_gradients runs gradgradcheck); these lessons are
about the engine and what people build with it: Hessian-vector products, gradient penalties, a MAML step.
"""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F
from tinygrad_maas.autograd import functional as AF
from tinygrad_maas.autograd import gradcheck, gradgradcheck


def double(values):
    return tm.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_second_and_third_derivatives_of_a_cube():
    x = double([2.0, -1.0])
    (first,) = tm.autograd.grad((x**3).sum(), x, create_graph=True)  # 3x^2
    (second,) = tm.autograd.grad(first.sum(), x, create_graph=True)  # 6x
    (third,) = tm.autograd.grad(second.sum(), x)  # 6
    assert first.tolist() == [12.0, 3.0]
    assert second.tolist() == [12.0, -6.0]
    assert third.tolist() == [6.0, 6.0]


def test_backward_with_create_graph_leaves_a_grad_that_has_a_graph():
    x = double([1.5])
    (x.sin() * x).sum().backward(create_graph=True)  # d/dx = sin x + x cos x
    assert x.grad.grad_fn is not None
    assert np.allclose(x.grad.tolist(), [np.sin(1.5) + 1.5 * np.cos(1.5)])
    (second,) = tm.autograd.grad(x.grad.sum(), x)  # 2 cos x - x sin x
    assert np.allclose(second.tolist(), [2 * np.cos(1.5) - 1.5 * np.sin(1.5)])


def test_first_order_gradients_have_no_graph():
    x = double([1.0, 2.0])
    (x * x).sum().backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad


def small_mlp_loss(w1, w2, x):
    return (F.linear(x, w1).tanh() @ w2).pow(2).sum()


def test_hvp_of_a_small_mlp_equals_the_finite_difference_of_gradients():
    rng = np.random.default_rng(0)
    w1, w2 = rng.standard_normal((4, 3)), rng.standard_normal((4,))
    x = tm.tensor(rng.standard_normal((5, 3)))
    v1, v2 = rng.standard_normal((4, 3)), rng.standard_normal((4,))

    def loss(a, b):
        return small_mlp_loss(a, b, x)

    _, (hv1, hv2) = AF.hvp(loss, (tm.tensor(w1), tm.tensor(w2)), (tm.tensor(v1), tm.tensor(v2)))

    def gradient_at(a, b):
        return AF.vjp(loss, (tm.tensor(a), tm.tensor(b)))[1]

    eps = 1e-6
    plus, minus = gradient_at(w1 + eps * v1, w2 + eps * v2), gradient_at(w1 - eps * v1, w2 - eps * v2)
    for product, p, m in zip((hv1, hv2), plus, minus):
        assert np.allclose(product.array, (p.array - m.array) / (2 * eps), rtol=1e-6, atol=1e-7)


def test_hessian_of_a_quadratic_form_is_the_symmetric_part_of_its_matrix():
    a = np.array([[2.0, 1.0], [3.0, 4.0]])
    hessian = AF.hessian(lambda x: x @ tm.tensor(a) @ x, tm.tensor([0.3, -0.7]))
    assert hessian.tolist() == (a + a.T).tolist()


def test_jacobian_jvp_and_vjp_agree():
    x = tm.tensor([0.5, -1.0, 2.0])
    v = tm.tensor([1.0, 2.0, -1.0])

    def f(t):
        return t.exp() * t.sum()

    jacobian = AF.jacobian(f, x).array
    assert np.allclose(AF.jvp(f, x, v)[1].array, jacobian @ v.array)
    assert np.allclose(AF.vjp(f, x, v)[1].array, v.array @ jacobian)
    expected = np.diag(np.exp(x.array)) * x.array.sum() + np.exp(x.array)[:, None]
    assert np.allclose(jacobian, expected)


def test_functional_does_not_touch_the_callers_tensors():
    x = double([1.0, 2.0])
    AF.hessian(lambda t: (t**3).sum(), x)
    assert x.grad is None and x.grad_fn is None


def test_functional_strict_names_the_unused_input():
    with pytest.raises(RuntimeError, match="does not depend on input 1"):
        AF.jacobian(lambda a, b: a * 2, (tm.tensor([1.0]), tm.tensor([2.0])), strict=True)
    zeros = AF.jacobian(lambda a, b: a * 2, (tm.tensor([1.0]), tm.tensor([2.0])))[1]
    assert zeros.tolist() == [[0.0]]


def test_vjp_needs_v_for_an_output_with_several_elements():
    with pytest.raises(RuntimeError, match="v must be given"):
        AF.vjp(lambda t: t * 2, tm.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match=r"v\[0\] has shape \(3,\) but must have shape \(2,\)"):
        AF.vjp(lambda t: t * 2, tm.tensor([1.0, 2.0]), tm.tensor([1.0, 2.0, 3.0]))


def test_gradient_penalty_training_step_matches_pytorch():
    """WGAN-GP's penalty, (||d out / d x|| - 1)^2: the loss depends on a gradient, so training needs its
    gradient. The literals are PyTorch 2.13's values for the same float64 numbers."""
    x = double(np.linspace(-1, 1, 6).reshape(2, 3))
    w1 = double(np.linspace(-0.5, 0.6, 12).reshape(4, 3))
    b1 = double([0.1, -0.2, 0.05, 0.0])
    w2 = double([[0.3, -0.4, 0.5, 0.2]])
    out = (F.linear(x, w1, b1).tanh() @ w2.T).sum(1)
    (grad_x,) = tm.autograd.grad(out.sum(), x, create_graph=True)
    penalty = ((grad_x.pow(2).sum(1).sqrt() - 1) ** 2).mean()
    loss = out.mean() + 10 * penalty
    loss.backward()
    assert np.isclose(loss.item(), 6.900269341000554, rtol=1e-12)
    assert np.isclose(penalty.item(), 0.6755649330583517, rtol=1e-12)
    assert np.allclose(
        b1.grad.tolist(), [0.28706770559799133, -0.5284419493178855, 1.005146407022898, 0.07892102191849759]
    )
    assert np.allclose(
        w2.grad.tolist(), [[6.41857695607937, 1.8136900485901508, -5.158538815607829, -6.855488785183575]]
    )
    assert np.allclose(
        w1.grad.tolist(),
        [
            [0.225030066473902, -0.35301612274374206, -0.9310623119613868],
            [2.211733760579245, 3.2966102924334675, 4.381486824287691],
            [-1.8138153828317156, -2.863636625819318, -3.9134578688069226],
            [0.5855442201632417, 0.2944808207902123, 0.003417421417182709],
        ],
    )
    assert np.allclose(
        x.grad.tolist(),
        [
            [0.10433986672533768, -0.13820191090611228, -0.38074368853756235],
            [-0.010102280191067292, 0.3167088159625327, 0.6435199121161329],
        ],
    )


def test_a_maml_inner_step_is_differentiated_through():
    """MAML: adapt w by one gradient step on task A, evaluate on task B, and differentiate the result with
    respect to the starting w, through the inner step: d/dw L_B(w - a dL_A/dw)."""
    rng = np.random.default_rng(3)
    xa, xb = tm.tensor(rng.standard_normal((4, 2))), tm.tensor(rng.standard_normal((4, 2)))
    ya, yb = tm.tensor(rng.standard_normal(4)), tm.tensor(rng.standard_normal(4))

    def outer_loss(w):
        (inner_grad,) = tm.autograd.grad(((xa @ w).tanh() - ya).pow(2).mean(), w, create_graph=True)
        adapted = w - 0.1 * inner_grad
        return ((xb @ adapted).tanh() - yb).pow(2).mean()

    assert gradcheck(outer_loss, double([0.4, -0.3]))  # finite differences see through the inner step too


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    """A backward that drops to arrays (here: the local derivative taken as a constant) is right to first
    order and wrong to second: gradcheck passes, gradgradcheck fails."""

    class SquareWithConstantSlope(tm.autograd.Function):
        saved_roles = (None,)

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(2 * x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (slope,) = ctx.saved_tensors
            return grad * slope

    x = double([0.5, -1.5])
    assert gradcheck(SquareWithConstantSlope.apply, x)
    with pytest.raises(tm.autograd.GradcheckError):
        gradgradcheck(SquareWithConstantSlope.apply, x)


def test_an_op_that_does_not_declare_its_saved_arrays_says_so_under_create_graph():
    class Cube(tm.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x**2

    x = double([2.0])
    Cube.apply(x).sum().backward()
    assert x.grad.tolist() == [12.0]
    with pytest.raises(NotImplementedError, match="Cube does not support create_graph=True: .*saved_roles"):
        tm.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)


def test_a_cast_passes_second_derivatives_through():
    """float64 -> float32 -> float64 loses precision, so no finite differences: d^2(x^2)/dx^2 = 2 exactly."""
    x = double([1.5, -0.5])
    (first,) = tm.autograd.grad((x.float().double() ** 2).sum(), x, create_graph=True)
    (second,) = tm.autograd.grad(first.sum(), x)
    assert first.dtype == tm.float64 and np.allclose(first.tolist(), [3.0, -1.0])
    assert second.tolist() == [2.0, 2.0]
