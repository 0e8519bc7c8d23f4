"""In-place updates of tensors: only outside the autograd graph (under no_grad, or on tensors that do not
require grad), as in a hand-written SGD step `with tm.no_grad(): p -= lr * p.grad`. Every write marks the
array as written (autograd/versions.py), so a graph that saved it notices at backward."""

import numpy as np

from .autograd import grad_mode, versions
from .conversion import plain


def check_allowed(tensor, op):
    if tensor.requires_grad and grad_mode.is_grad_enabled():
        if tensor.grad_fn is None:
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad is being changed in place while gradients are "
                "recorded; do the update inside `with tm.no_grad():` (as in `p -= lr * p.grad`)"
            )
        raise RuntimeError(
            f"{op}: in-place changes to a tensor that is part of the autograd graph are not supported; "
            "compute a new tensor instead (x = x + y)"
        )


def update(tensor, ufunc, other, op):
    """tensor = ufunc(tensor, other), in place, keeping the tensor's dtype (NumPy's same_kind casting)."""
    check_allowed(tensor, op)
    value = plain(other)
    try:
        ufunc(tensor.array, value, out=tensor.array, casting="same_kind")
    except TypeError:
        raise TypeError(
            f"{op}: the result of {np.result_type(tensor.array, value)} cannot be stored in this "
            f"{tensor.dtype} tensor in place"
        ) from None
    except ValueError as error:
        raise ValueError(
            f"{op}: a value of shape {np.shape(value)} cannot update a tensor of shape "
            f"{tensor.shape} in place ({error})"
        ) from None
    versions.mark_written(tensor.array)
    return tensor


def fill(tensor, value):
    check_allowed(tensor, "fill_")
    tensor.array[...] = plain(value)
    versions.mark_written(tensor.array)
    return tensor


def copy(tensor, source):
    """Copy `source`'s values (broadcast to the tensor's shape, cast to its dtype) into the tensor."""
    check_allowed(tensor, "copy_")
    value = plain(source)
    try:
        np.copyto(tensor.array, value, casting="unsafe")
    except ValueError as error:
        raise ValueError(
            f"copy_(): a source of shape {np.shape(value)} cannot be copied into a tensor of "
            f"shape {tensor.shape} ({error})"
        ) from None
    versions.mark_written(tensor.array)
    return tensor


def assign(tensor, key, value):
    """tensor[key] = value."""
    from .ops.indexing import index_key

    check_allowed(tensor, "item assignment")
    key = index_key(key)
    try:
        tensor.array[key] = plain(value)
    except IndexError as error:
        raise IndexError(f"index out of range for a tensor of shape {tensor.shape}: {error}") from None
    except ValueError as error:
        raise ValueError(
            f"cannot assign a value of shape {np.shape(plain(value))} to a selection of a "
            f"tensor of shape {tensor.shape}: {error}"
        ) from None
    versions.mark_written(tensor.array)
