"""Reading op arguments the way PyTorch reads them, in one place.

    dim(-1, 3, "softmax")                  -> 2        a dim; negative dims count from the end
    dims((0, -1), 3, "sum")                -> (0, 2)   None, one dim or several, sorted
    sizes((2, 3)), sizes(((2, 3),))        -> (2, 3)   f(2, 3) and f((2, 3)) alike
    reshape_target((-1, 4), 12, (3, 4))    -> (3, 4)   one -1 inferred from the element count
    spatial(3, 2, "stride", "conv2d", 1)   -> (3, 3)   one int or one per spatial axis (kernel sizes,
                                                        strides, paddings, dilations)
    correction(None, None)                 -> 1        the divisor N - correction of var/std

Every mistake raises an error that names the op, the argument and the value it got. The ops' own checks
(shapes that must agree, sizes a kernel must fit in) sit beside each op's Function in its module, in the
function that checks a call before applying it (conv2d_arguments, pool2d_arguments, matmul, cat, ...).
"""

import math

import numpy as np


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def dim(dim, ndim, op):
    """`dim` as an axis in range(ndim); a 0-d tensor accepts dim 0 and -1 as PyTorch does (None)."""
    if type(dim) is int and 0 <= dim < ndim:  # the common case, checked by the comparison alone
        return dim
    if not _is_int(dim):
        raise TypeError(f"{op}(): dim must be an int, got {type(dim).__name__} {dim!r}")
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(
            f"{op}(): dim {dim} is out of range for a tensor with {ndim} dimension(s) "
            f"(expected a value in [{-size}, {size - 1}])"
        )
    return int(dim) % size if ndim else None


def dims(dim_or_dims, ndim, op):
    """None (every axis), one dim, or a tuple/list of dims as a sorted tuple of distinct axes. An empty
    tuple or list also means every axis, as in PyTorch (x.sum(dim=()) is the sum of everything)."""
    if dim_or_dims is None or (isinstance(dim_or_dims, (tuple, list)) and not dim_or_dims):
        return tuple(range(ndim))
    given = dim_or_dims if isinstance(dim_or_dims, (tuple, list)) else (dim_or_dims,)
    axes = tuple(sorted(a for a in (dim(d, ndim, op) for d in given) if a is not None))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}(): dim {dim_or_dims} names the same dimension twice")
    return axes


def sizes(args):
    """Sizes given as f(2, 3) or f((2, 3)), as PyTorch accepts both; one-element tensors count as ints."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    if all(type(n) is int for n in args):  # the common case, without the per-size checks below (~2 us a view)
        return tuple(args)
    out = []
    for n in args:
        if hasattr(n, "item") and hasattr(n, "grad_fn"):  # a Tensor (checked by duck type: no import cycle)
            n = n.item()
        if not _is_int(n):
            raise TypeError(f"sizes must be integers, got {n!r} in {args}")
        out.append(int(n))
    return tuple(out)


def reshape_target(shape, size, current):
    """The target shape of a reshape of `size` elements, with one -1 inferred from the element count."""
    unknown = [i for i, n in enumerate(shape) if n == -1]
    known = math.prod(n for n in shape if n != -1)
    problem = None
    if len(unknown) > 1 or any(n < -1 for n in shape):
        problem = "only one dimension can be -1 and sizes must be >= -1"
    elif unknown and (known == 0 or size % known):
        problem = "the -1 dimension cannot be inferred"
    elif not unknown and known != size:
        problem = f"it holds {known} elements, not {size}"
    if problem:
        raise RuntimeError(
            f"reshape(): shape {shape} is invalid for a tensor of shape {current} ({size} elements): {problem}"
        )
    if unknown:
        shape = shape[: unknown[0]] + (size // known,) + shape[unknown[0] + 1 :]
    return shape


def spatial(value, count, name, op, minimum=0):
    """One int for every spatial axis, or a tuple/list of `count` ints, each at least `minimum`."""
    values = (value,) * count if _is_int(value) else tuple(value) if isinstance(value, (tuple, list)) else None
    if values is None or len(values) != count or not all(_is_int(v) and v >= minimum for v in values):
        need = "positive" if minimum == 1 else "non-negative" if minimum == 0 else f">= {minimum}"
        raise ValueError(f"{op}(): {name} must be {need}: an int, or {count} int(s) in a tuple, got {value!r}")
    return tuple(int(v) for v in values)


def correction(unbiased, correction):
    """var/std's divisor is N - correction: 1 by default (Bessel's), 0 with unbiased=False."""
    if correction is not None and unbiased is not None:
        raise ValueError("give either unbiased or correction, not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1
