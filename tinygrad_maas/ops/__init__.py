"""Every differentiable op, one Function each, grouped by family. Start reading at binary.py."""

from . import (binary, broadcast, conv, dims, embedding, indexing, join, matmul, pool, reduce, shape,  # noqa: F401
               recurrent, softmax, unary)
