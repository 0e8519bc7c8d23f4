"""The backward engine, one behaviour per test."""

import gc
import weakref

import numpy as np
import pytest

import tinygrad_maas as tm


def test_a_value_used_twice_gets_the_sum_of_both_gradients():
    a = tm.tensor(1.0, requires_grad=True)
    b = a + a  # db/da = 2
    c = b + b  # dc/db = 2
    c.backward()
    assert a.grad.item() == 4.0


def test_diamond_graph_sums_both_paths():
    x = tm.tensor(3.0, requires_grad=True)
    y = x * x + x.exp()  # dy/dx = 2x + e^x
    y.backward()
    assert x.grad.item() == pytest.approx(6 + np.exp(3), rel=1e-6)


def test_gradients_accumulate_across_backward_calls_like_pytorch():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [3 + 2, 3 + 4]


def test_zeroing_grad_between_steps_restarts_accumulation():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    x.grad.zero_()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_a_chain_of_100000_ops_backpropagates_without_recursion_error():
    x = tm.tensor(1.0, dtype=tm.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    del y
    gc.collect()


def test_saved_arrays_are_released_after_backward():
    x = tm.randn(1000, requires_grad=True)
    hidden = x.tanh()  # Tanh saves its output for backward
    loss = (hidden * 2).sum()
    saved = weakref.ref(hidden.grad_fn.saved_tensors[0])
    del hidden
    assert saved() is not None  # only the graph holds it now
    loss.backward()
    assert saved() is None  # and backward released it


def test_retain_graph_keeps_saved_arrays_for_a_second_backward():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_backward_twice_through_a_freed_graph_raises():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = tm.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\(2, 3\)"):
        (x * 2).backward()


def test_backward_with_an_explicit_gradient_computes_a_vector_jacobian_product():
    x = tm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(gradient=tm.tensor([1.0, 0.5, 0.0]))
    assert x.grad.tolist() == [2.0, 2.0, 0.0]


def test_gradient_of_the_wrong_shape_is_refused():
    x = tm.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"gradient has shape \(2,\) but the output has shape \(3,\)"):
        (x * 2).backward(gradient=tm.ones(2))


def test_backward_on_a_tensor_outside_any_graph_says_why():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tm.ones(3).sum().backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients.*int64"):
        tm.tensor([1, 2, 3], requires_grad=True)


def test_grads_flow_only_into_tensors_that_require_them():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    constant = tm.tensor([3.0, 4.0])
    (x * constant).sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]
    assert constant.grad is None


def test_non_leaf_tensors_do_not_keep_grad_unless_asked():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2
    kept = x * 3
    kept.retain_grad()
    (hidden + kept).sum().backward()
    assert hidden.grad is None
    assert kept.grad.tolist() == [1.0, 1.0]
    kept.grad.zero_()  # the retained gradient is the tensor's own, writable array
    assert kept.grad.tolist() == [0.0, 0.0]


def test_detach_returns_a_tensor_outside_the_graph_sharing_memory():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.grad_fn is None
    z = x * 2
    assert np.shares_memory(z.detach().array, z.array)


def test_hook_on_a_leaf_sees_the_total_gradient_and_can_replace_it():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda grad: seen.append(grad.tolist()) or grad * 10)
    (x * 2 + x).sum().backward()
    assert seen == [[3.0, 3.0]]
    assert x.grad.tolist() == [30.0, 30.0]


def test_post_accumulate_hook_sees_the_leaf_once_its_grad_holds_the_sum():
    """What DistributedDataParallel listens to: the .grad after accumulation, across backward calls."""
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_post_accumulate_grad_hook(lambda leaf: seen.append(leaf.grad.tolist()))
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert seen == [[3.0, 3.0], [5.0, 7.0]]
    handle.remove()
    x.sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="only be registered on leaf tensors"):
        (x * 2).register_post_accumulate_grad_hook(print)


def test_hook_on_an_intermediate_tensor_changes_what_flows_below_it():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2
    handle = hidden.register_hook(lambda grad: grad * 0)
    hidden.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_functional_grad_returns_gradients_without_touching_dot_grad():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    y = tm.tensor([3.0], requires_grad=True)
    out = (x * x).sum() * y
    gx, gy = tm.autograd.grad(out, [x, y])
    assert gx.tolist() == [6.0, 12.0]
    assert gy.tolist() == [5.0]
    assert x.grad is None and y.grad is None


def test_functional_grad_with_respect_to_an_intermediate_tensor():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 3
    (g,) = tm.autograd.grad((hidden * hidden).sum(), hidden)
    assert g.tolist() == [6.0, 12.0]


def test_functional_grad_reports_unused_inputs_unless_allowed():
    x = tm.tensor([1.0], requires_grad=True)
    unused = tm.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="input 1 was not used"):
        tm.autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = tm.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0] and gu is None


def test_describe_graph_lists_nodes_in_backward_order():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    lines = tm.autograd.describe_graph(loss).splitlines()
    assert [line.split()[1] for line in lines] == ["SumBackward", "MulBackward", "AccumulateGrad"]
    assert lines[1] == "1 MulBackward      (2,) float32      <- 2, 2    saved 2 arrays"  # both inputs: x, node 2
    assert lines[2].endswith("into tensor([1., 2.], requires_grad=True)")
