"""Every differentiable op, one Function each, grouped by family. Start reading at binary.py."""

from . import (  # noqa: F401
    arguments,
    binary,
    broadcast,
    conv,
    cumulative,
    einsum,
    embedding,
    indexing,
    join,
    matmul,
    pool,
    recurrent,
    reduce,
    shape,
    softmax,
    sorting,
    unary,
)
