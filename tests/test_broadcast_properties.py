"""Property tests (hypothesis): broadcasting shapes and the unbroadcast helper, for any shapes."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_maas as tm
from tinygrad_maas.ops.broadcast import unbroadcast

settings.register_profile("ci", max_examples=60, deadline=None)
settings.load_profile("ci")

shape_pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=4)


@given(shape_pairs)
def test_a_binary_op_has_numpys_broadcast_shape_and_gradients_of_its_inputs_shapes(shapes):
    shape_a, shape_b = shapes.input_shapes
    a = tm.ones(shape_a, dtype=tm.float64, requires_grad=True)
    b = tm.ones(shape_b, dtype=tm.float64, requires_grad=True)
    out = a * b + a
    assert out.shape == shapes.result_shape
    out.sum().backward()
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    # Each element of a is used (output size / a size) times, twice (a*b and +a) with b = 1.
    size = int(np.prod(shapes.result_shape))
    if a.numel():
        assert np.all(a.grad.array == 2 * size // a.numel())
    if b.numel():
        assert np.all(b.grad.array == size // b.numel())


@given(shape_pairs, st.integers(0, 2**32 - 1))
def test_unbroadcast_equals_summing_each_input_element_over_its_copies(shapes, seed):
    shape, _ = shapes.input_shapes
    result_shape = shapes.result_shape
    grad = np.random.default_rng(seed).standard_normal(result_shape)
    reduced = unbroadcast(grad, shape)
    assert reduced.shape == shape
    # Brute force: element i of the input receives the sum of grad over every output position whose
    # broadcast source is i. np.broadcast_to of an index array tells the source of each position.
    source = np.broadcast_to(np.arange(int(np.prod(shape))).reshape(shape), result_shape)
    expected = np.bincount(source.reshape(-1), weights=grad.reshape(-1), minlength=int(np.prod(shape)))
    np.testing.assert_allclose(reduced.reshape(-1), expected, rtol=1e-12, atol=1e-12)


@given(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4))
def test_shapes_that_do_not_broadcast_raise_a_clear_error(shape):
    assume(any(n != 1 for n in shape))
    bad = tuple(n + 2 for n in shape)  # differs from every size that is not 1, and is never 1 itself
    with pytest.raises(ValueError) as error:
        tm.zeros(shape) + tm.zeros(bad)
    assert f"shapes {shape} and {bad} cannot be broadcast" in str(error.value)
