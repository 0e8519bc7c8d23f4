"""Every differentiable op, one Function each, grouped by family. Start reading at binary.py."""

from . import binary, broadcast, conv, dims, indexing, join, matmul, pool, reduce, shape, softmax, unary  # noqa: F401
