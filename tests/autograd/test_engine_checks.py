"""What the engine says to someone writing their first Function: a backward must return one gradient per
input, each with its input's shape and dtype. Each mistake gets an error naming the op, the input and both
shapes, instead of a wrong gradient several nodes later."""

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas.autograd import Function


class ScaleBy(Function):
    """y = a * s for a tensor a and a scalar tensor s. Its backward is replaced by each test's mistake."""

    @staticmethod
    def forward(ctx, a, s):
        ctx.save_for_backward(a, s)
        return a * s


def with_backward(backward):
    return type("ScaleBy", (ScaleBy,), {"backward": staticmethod(backward)})


def inputs():
    return tm.tensor([[1.0, 2.0, 3.0]], requires_grad=True), tm.tensor(2.0, requires_grad=True)


def test_a_backward_returning_too_few_gradients_is_named():
    op = with_backward(lambda ctx, grad: grad * ctx.saved_tensors[1])
    a, s = inputs()
    with pytest.raises(RuntimeError) as error:
        op.apply(a, s).sum().backward()
    assert str(error.value).startswith(
        "ScaleByBackward returned 1 gradient but its forward had 2 inputs: backward must return one gradient "
        "per input of forward, in order (None for an input that needs no gradient"
    )


def test_a_gradient_of_the_wrong_shape_names_the_op_the_input_and_both_shapes():
    def forgets_to_sum(ctx, grad):  # the gradient of the scalar s must be summed to shape ()
        a, s = ctx.saved_tensors
        return grad * s, grad * a

    a, s = inputs()
    with pytest.raises(RuntimeError) as error:
        with_backward(forgets_to_sum).apply(a, s).sum().backward()
    message = str(error.value)
    assert message.startswith(
        "ScaleByBackward returned a gradient of shape (1, 3) and dtype float32 for its input 1, which has "
        "shape () and dtype float32 (input 1 is a leaf tensor, tensor(2., requires_grad=True))"
    )


def test_a_gradient_of_the_wrong_dtype_is_refused():
    def in_float64(ctx, grad):
        a, s = ctx.saved_tensors
        return (grad * s).astype(np.float64), (grad * a).sum()

    a, s = inputs()
    with pytest.raises(
        RuntimeError, match="dtype float64 for its input 0, which has shape \\(1, 3\\) and dtype float32"
    ):
        with_backward(in_float64).apply(a, s).sum().backward()


def test_a_wrong_shape_into_an_intermediate_names_the_op_that_made_it():
    def wrong(ctx, grad):
        a, s = ctx.saved_tensors
        return (grad * s)[:, :2], (grad * a).sum()

    a, s = inputs()
    with pytest.raises(RuntimeError, match=r"for its input 0, which has shape \(1, 3\) .*input 0 was made by Exp\)"):
        with_backward(wrong).apply(a.exp(), s).sum().backward()


def test_a_backward_returning_a_list_instead_of_an_array_is_named():
    def as_list(ctx, grad):
        a, s = ctx.saved_tensors
        return (grad * s).tolist(), (grad * a).sum()

    a, s = inputs()
    with pytest.raises(RuntimeError, match="returned a gradient of a list for its input 0"):
        with_backward(as_list).apply(a, s).sum().backward()


def test_a_correct_backward_passes_the_checks():
    def right(ctx, grad):
        a, s = ctx.saved_tensors
        return grad * s, (grad * a).sum()

    a, s = inputs()
    with_backward(right).apply(a, s).sum().backward()
    assert a.grad.tolist() == [[2.0, 2.0, 2.0]] and s.grad.item() == 6.0


def test_every_op_has_its_derivation_in_its_own_docstring():
    """A learner reads an op's class and finds its rule there: some dL/dx, dy/dx or dz/da."""
    import re

    import tinygrad_maas.ops  # noqa: F401  (every op class defined)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ops = [
        c for c in subclasses(Function) if c.__module__.startswith("tinygrad_maas.") and not c.__name__.startswith("_")
    ]
    missing = [
        c.__name__
        for c in ops
        if c.__name__ != "AccumulateGrad" and not re.search(r"d[\w]*/d", c.__dict__.get("__doc__") or "")
    ]
    assert len(ops) > 40 and missing == []
