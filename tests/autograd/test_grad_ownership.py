"""A leaf's .grad owns its array. AccumulateGrad takes a gradient as it is only when nothing but the engine
holds it (as PyTorch does), and copies it otherwise: these tests pin both sides of that line."""

import numpy as np

import tinygrad_maas as tm
from tinygrad_maas.autograd.function import Function

made = {}
kept = []


class _Doubling(Function):
    """y = 2x; each subclass's backward hands its gradient over in its own way."""

    @staticmethod
    def forward(ctx, x):
        return x * 2


class FreshGradient(_Doubling):
    """A new array, and the test told which one."""

    @staticmethod
    def backward(ctx, grad):
        out = grad * 2
        made["id"] = id(out)
        return out


class KeptGradient(_Doubling):
    """A new array that the backward also keeps (as a cache would)."""

    @staticmethod
    def backward(ctx, grad):
        out = grad * 2
        kept.append(out)
        return out


class SliceGradient(_Doubling):
    """A view of a larger array."""

    @staticmethod
    def backward(ctx, grad):
        larger = np.concatenate([grad * 2, grad * 0])
        return larger[: grad.shape[0]]


def test_a_gradient_only_the_engine_holds_becomes_grad_without_a_copy():
    x = tm.randn(3, requires_grad=True)
    FreshGradient.apply(x).sum().backward()
    assert id(x.grad.array) == made["id"]
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_one_array_sent_to_two_leaves_gives_each_its_own():
    """a + b hands the same gradient array to both leaves: the first is copied, so the two never share."""
    a, b = tm.randn(3, requires_grad=True), tm.randn(3, requires_grad=True)
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad.array, b.grad.array)
    a.grad.array += 1
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0, 1.0])


def test_a_gradient_someone_else_keeps_is_copied():
    kept.clear()
    x = tm.randn(3, requires_grad=True)
    KeptGradient.apply(x).sum().backward()
    assert not np.shares_memory(x.grad.array, kept[0])
    kept[0][:] = 99  # the holder writes into its array: .grad is not touched
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_a_view_of_a_larger_array_is_copied():
    x = tm.randn(3, requires_grad=True)
    SliceGradient.apply(x).sum().backward()
    assert x.grad.array.base is None
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_a_gradient_a_leaf_hook_keeps_is_copied():
    seen = []
    x = tm.randn(3, requires_grad=True)
    x.register_hook(lambda grad: seen.append(grad))
    FreshGradient.apply(x).sum().backward()
    assert not np.shares_memory(x.grad.array, seen[0].array if isinstance(seen[0], tm.Tensor) else seen[0])


def test_taken_gradients_accumulate_in_place_over_backwards():
    """A second backward adds into the array .grad took, and a reference taken in between sees the sum:
    the same float32 gradient twice, so exactly twice the first (a comparison with a float64 product would
    depend on the draw: a column of x summing near 0 loses digits to cancellation)."""
    tm.manual_seed(0)
    w = tm.randn(4, 3, requires_grad=True)
    x = tm.randn(5, 3)
    tm.nn.functional.linear(x, w).sum().backward()
    first = w.grad
    once = first.numpy().copy()
    np.testing.assert_allclose(once, np.ones((5, 4)).T @ x.numpy(), rtol=1e-5, atol=1e-6)  # dL/dW = G^T X
    tm.nn.functional.linear(x, w).sum().backward()
    assert first is w.grad
    np.testing.assert_array_equal(first.numpy(), 2 * once)
