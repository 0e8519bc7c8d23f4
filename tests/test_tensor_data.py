"""`.data` as PyTorch programs use it: a tensor sharing memory, outside the graph.

Published programs update weights by hand (`p.data.add_(p.grad, alpha=-lr)`), copy into them
(`p.data.copy_(x)`) and swap them (`p.data = other`). The NumPy array is `.array` (or `.numpy()`).
"""

import numpy as np
import pytest

import tinygrad_maas as tm


def test_data_is_a_tensor_sharing_memory_outside_the_graph():
    w = tm.tensor([1.0, 2.0], requires_grad=True)
    data = w.data
    assert isinstance(data, tm.Tensor) and not data.requires_grad and data.is_leaf
    assert np.shares_memory(data.array, w.array)


def test_manual_sgd_step_on_data_with_alpha():
    # the word-level language model example: for p in model.parameters(): p.data.add_(p.grad, alpha=-lr)
    w = tm.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()  # grad = 2w = [2, 4]
    w.data.add_(w.grad, alpha=-0.5)
    assert w.tolist() == [0.0, 0.0] and w.requires_grad


def test_copy_into_data_keeps_the_parameter():
    w = tm.nn.Parameter(tm.zeros(3))
    w.data.copy_(tm.tensor([1.0, 2.0, 3.0]))
    assert w.tolist() == [1.0, 2.0, 3.0] and isinstance(w, tm.nn.Parameter)


def test_assigning_data_replaces_the_values_and_may_change_the_shape():
    w = tm.tensor([1.0, 2.0], requires_grad=True)
    w.data = tm.tensor([[5.0], [6.0], [7.0]])
    assert w.shape == (3, 1) and w.requires_grad and w.tolist() == [[5.0], [6.0], [7.0]]


def test_in_place_methods_take_alpha_as_pytorch():
    x = tm.tensor([1.0, 1.0])
    x.add_(tm.tensor([2.0, 4.0]), alpha=0.5).sub_(tm.tensor([1.0, 1.0]), alpha=3)
    assert x.tolist() == [-1.0, 0.0]  # torch: 1 + 0.5*[2, 4] - 3*1
    assert tm.tensor([1.0]).add(tm.tensor([2.0]), alpha=3).tolist() == [7.0]
    assert tm.tensor([1.0]).sub(tm.tensor([2.0]), alpha=3).tolist() == [-5.0]


def test_add_with_alpha_is_differentiable():
    a = tm.tensor([1.0], requires_grad=True)
    b = tm.tensor([1.0], requires_grad=True)
    a.add(b, alpha=-2.0).sum().backward()
    assert a.grad.tolist() == [1.0] and b.grad.tolist() == [-2.0]


def test_changing_data_of_a_saved_tensor_is_caught_at_backward():
    # PyTorch would silently compute with the changed values here; we refuse (never a silent wrong answer)
    w = tm.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    w.data.mul_(10)
    with pytest.raises(RuntimeError, match="in-place"):
        loss.backward()
