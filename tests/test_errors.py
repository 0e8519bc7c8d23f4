"""Bad input gets a clear error naming the problem, never a NumPy traceback from deep inside."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F


def test_broadcast_mismatch_names_the_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(5, 7\) and \(5,\) cannot be broadcast together"):
        tm.ones(5, 7) + tm.ones(5)
    with pytest.raises(ValueError, match=r"mul: shapes \(2, 3\) and \(4, 3\)"):
        tm.ones(2, 3) * tm.ones(4, 3)


def test_matmul_mismatch_names_both_shapes_and_the_inner_sizes():
    with pytest.raises(
        ValueError,
        match=r"matmul: shapes \(3, 4\) and \(5, 2\) cannot be multiplied "
        r"\(4 columns on the left, 5 rows on the right\)",
    ):
        tm.ones(3, 4) @ tm.ones(5, 2)


def test_matmul_of_a_scalar_is_refused():
    with pytest.raises(ValueError, match="at least one dimension"):
        tm.matmul(tm.tensor(2.0), tm.ones(3))


def test_matmul_batch_dims_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"batch dimensions \(2,\) and \(3,\)"):
        tm.ones(2, 4, 5) @ tm.ones(3, 5, 6)


def test_reshape_to_a_wrong_element_count():
    with pytest.raises(
        RuntimeError,
        match=r"reshape\(\): shape \(4, 4\) is invalid for a tensor of shape "
        r"\(3, 5\) \(15 elements\)",
    ):
        tm.zeros(3, 5).reshape(4, 4)
    with pytest.raises(RuntimeError, match="only one dimension can be -1"):
        tm.zeros(4).reshape(-1, -1)


def test_dim_out_of_range():
    with pytest.raises(IndexError, match=r"sum\(\): dim 2 is out of range for a tensor with 2 dimension"):
        tm.zeros(2, 3).sum(2)
    with pytest.raises(IndexError, match=r"softmax\(\): dim -3"):
        tm.zeros(2, 3).softmax(-3)


def test_index_out_of_range_names_the_shape():
    with pytest.raises(IndexError, match=r"tensor of shape \(3,\).*index 5 is out of bounds"):
        tm.zeros(3)[5]
    with pytest.raises(IndexError, match=r"tensor of shape \(3,\)"):
        tm.zeros(3)[tm.tensor([0, 7])]


def test_float_index_is_refused():
    with pytest.raises(IndexError, match="got the float 1.0"):
        tm.zeros(3)[1.0]
    with pytest.raises(IndexError, match="must be integer or bool, got float32"):
        tm.zeros(3)[tm.tensor([1.0])]


def test_gather_with_an_out_of_range_index():
    with pytest.raises(IndexError, match=r"gather\(\): index 3 is out of bounds for dim 1 with size 3"):
        tm.zeros(2, 3).gather(1, tm.tensor([[0, 3], [1, 1]]))
    with pytest.raises(TypeError, match="index must be an integer tensor"):
        tm.zeros(2, 3).gather(1, tm.tensor([[0.0]]))


def test_masked_fill_needs_a_bool_mask_of_a_broadcastable_shape():
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        tm.zeros(3).masked_fill(tm.tensor([1, 0, 1]), 1.0)
    with pytest.raises(ValueError, match=r"mask of shape \(4,\) does not broadcast"):
        tm.zeros(3).masked_fill(tm.tensor([True] * 4), 1.0)


def test_cat_and_stack_shape_mismatches():
    with pytest.raises(ValueError, match=r"cat\(\): tensor 1 has shape \(2, 4\) but tensor 0 has shape \(2, 3\)"):
        tm.cat([tm.zeros(2, 3), tm.zeros(2, 4)])
    with pytest.raises(ValueError, match=r"stack\(\): tensor 1 has shape"):
        tm.stack([tm.zeros(2), tm.zeros(3)])
    with pytest.raises(TypeError, match="non-empty list"):
        tm.cat([])


def test_expand_to_an_incompatible_size():
    with pytest.raises(RuntimeError, match=r"expand\(\): the size 3 of dim 0"):
        tm.zeros(3, 1).expand(4, 2)


def test_pad_errors():
    with pytest.raises(ValueError, match="even length"):
        F.pad(tm.zeros(3), (1,))
    with pytest.raises(ValueError, match="reflect padding of 3 must be smaller than the size 3"):
        F.pad(tm.zeros(1, 3), (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="mode must be"):
        F.pad(tm.zeros(3), (1, 1), mode="mirror")


def test_unsupported_data_and_dtypes():
    with pytest.raises(TypeError, match="unsupported dtype complex128"):
        tm.tensor(np.array([1 + 2j]))
    with pytest.raises(TypeError, match="cannot make a tensor from str"):
        tm.tensor("abc")
    with pytest.raises(ValueError, match="regular nested list"):
        tm.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="not a dtype"):
        tm.zeros(2, dtype="bogus")


def test_item_and_bool_of_many_elements():
    with pytest.raises(ValueError, match=r"only a tensor with one element.*\(2,\)"):
        tm.zeros(2).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tm.zeros(2))


def test_numpy_of_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match=r"detach\(\).numpy\(\)"):
        tm.zeros(2, requires_grad=True).numpy()


def test_operands_of_unknown_types():
    with pytest.raises(TypeError, match="unsupported operand of type str"):
        tm.zeros(2) + "a"


def test_in_place_update_with_a_shape_that_does_not_fit():
    t = tm.zeros(3)
    with pytest.raises(ValueError, match=r"shape \(2,\) cannot update a tensor of shape \(3,\)"):
        t += tm.ones(2)


def test_in_place_on_a_graph_tensor_is_refused():
    y = tm.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="part of the autograd graph"):
        y += 1


def test_tensor_with_sizes_instead_of_data_says_what_to_call():
    with pytest.raises(TypeError, match=r"requires_grad must be True or False, got 3; .*tm.zeros\(2, 3\)"):
        tm.Tensor(2, 3)


def test_load_state_dict_of_a_list_or_a_module_names_what_it_expects():
    layer = tm.nn.Linear(2, 2)
    with pytest.raises(
        TypeError, match="expects a dict of dotted names to tensors, as state_dict\\(\\) returns, got list"
    ):
        layer.load_state_dict([1, 2])
    with pytest.raises(TypeError, match=r"got Linear \(pass module.state_dict\(\)\)"):
        layer.load_state_dict(tm.nn.Linear(2, 2))
