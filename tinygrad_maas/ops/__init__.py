"""Every differentiable op, one Function each, grouped by family. Start reading at binary.py."""

from . import (arguments, binary, broadcast, conv, embedding, indexing, join, matmul, pool, reduce, shape,  # noqa: F401
               recurrent, softmax, unary)
