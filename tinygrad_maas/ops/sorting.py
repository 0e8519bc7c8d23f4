"""Ordering elements: sort, argsort, topk, unique.

Sorting is a permutation chosen by the values, so its gradient needs no op of its own: the sorted values
are `x` gathered at the sorting indices (ops/indexing.Gather), and the gradient flows back through the same
indices, as in PyTorch. unique has no gradient (PyTorch's neither).

NaN sorts as larger than every number (last ascending, first descending), as in PyTorch. A stable sort
keeps equal elements in their original order in both directions.
"""

from collections import namedtuple

import numpy as np

from ..tensor import make_tensor
from .arguments import dim as _dim
from .indexing import Gather

SortResult = namedtuple("SortResult", ["values", "indices"])  # what sort and topk return


def argsort_array(array, axis, descending):
    """Stable sorting indices along `axis`; descending keeps equal elements in their original order."""
    if not descending:
        return np.argsort(array, axis=axis, kind="stable")
    n = array.shape[axis]
    # Sort the reversed array ascending (ties then come in reversed order), read it backwards (ties back
    # in original order, NaN first) and map the positions back to the unreversed array.
    reversed_order = np.argsort(np.flip(array, axis), axis=axis, kind="stable")
    return (n - 1) - np.flip(reversed_order, axis)


def _ordered(tensor, dim, op):
    axis = _dim(dim, tensor.ndim, op)
    if tensor.array.dtype == np.bool_:
        return axis, tensor.array.astype(np.uint8)
    return axis, tensor.array


def _take(tensor, axis, indices):
    """The tensor's values at `indices` along `axis`, in the graph (a 0-d tensor is itself)."""
    if axis is None:
        return tensor
    return Gather.apply(tensor, dim=axis, index=indices)


def sort(tensor, dim=-1, descending=False, stable=False):
    """(values, indices): the elements along `dim` in order. Always stable here (stable= is accepted)."""
    axis, array = _ordered(tensor, dim, "sort")
    if axis is None:
        return SortResult(tensor, make_tensor(np.zeros((), dtype=np.int64), None))
    indices = argsort_array(array, axis, descending)
    return SortResult(_take(tensor, axis, indices), make_tensor(indices, None))


def argsort(tensor, dim=-1, descending=False, stable=False):
    return sort(tensor, dim, descending, stable).indices


def topk(tensor, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (or smallest) elements along `dim`, largest first."""
    axis, array = _ordered(tensor, dim, "topk")
    size = 1 if axis is None else tensor.shape[axis]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= size:
        raise ValueError(f"topk(): k must be an int in [0, {size}] for dim {dim} of shape {tensor.shape}, got {k!r}")
    if axis is None:
        return SortResult(tensor, make_tensor(np.zeros((), dtype=np.int64), None))
    indices = np.take(argsort_array(array, axis, descending=largest), np.arange(k), axis=axis)
    return SortResult(_take(tensor, axis, indices), make_tensor(indices, None))


def unique(tensor, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements, sorted (PyTorch sorts them whatever `sorted` says on the CPU), and optionally
    the index of each element's value among them and how often each occurs. `dim` picks distinct slices."""
    axis = None if dim is None else _dim(dim, tensor.ndim, "unique")
    values, inverse, counts = np.unique(tensor.array, return_inverse=True, return_counts=True, axis=axis)
    results = [make_tensor(values, None)]
    if return_inverse:
        shape = tensor.shape if axis is None else (tensor.shape[axis],)
        results.append(make_tensor(inverse.reshape(shape).astype(np.int64), None))
    if return_counts:
        results.append(make_tensor(counts.astype(np.int64), None))
    return results[0] if len(results) == 1 else tuple(results)
