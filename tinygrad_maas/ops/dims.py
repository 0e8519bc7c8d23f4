"""Checking and normalising `dim` arguments the way PyTorch does (negative dims count from the end)."""


def normalize_dim(dim, ndim, op):
    """`dim` as an axis in range(ndim); a 0-d tensor accepts dim 0 and -1 as PyTorch does."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{op}(): dim must be an int, got {type(dim).__name__} {dim!r}")
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(
            f"{op}(): dim {dim} is out of range for a tensor with {ndim} dimension(s) "
            f"(expected a value in [{-size}, {size - 1}])"
        )
    return dim % size if ndim else None


def normalize_dims(dim, ndim, op):
    """`dim` (None, an int, or a tuple/list of ints) as a sorted tuple of axes; None means all axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple(normalize_dim(d, ndim, op) for d in dims)
    axes = tuple(sorted(a for a in axes if a is not None))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}(): dim {dim} names the same dimension twice")
    return axes
