"""tinygrad_maas: a from-scratch deep learning framework with PyTorch's API, on NumPy.

    import tinygrad_maas as tm
    x = tm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4., 6.])
"""

from . import dtypes as _dtypes, memory as _memory
from .tensor import MinMaxResult, Tensor, cat, matmul, stack, where  # first: the rest imports Tensor
from . import autograd, backend, data, nn, ops, optim  # noqa: E402
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (arange, eye, from_numpy, full, full_like, linspace, ones, ones_like, rand, rand_like,
                       randint, randn, randn_like, tensor, zeros, zeros_like)
from .backend import get_num_threads, set_num_threads
from .random import manual_seed
from .serialization import load, save

__version__ = "0.1.0"

_memory.tune_allocator()  # reuse freed memory instead of mapping fresh pages every step (see memory.py)

float16, float32, float64 = _dtypes.float16, _dtypes.float32, _dtypes.float64
uint8, int8, int16, int32, int64 = _dtypes.uint8, _dtypes.int8, _dtypes.int16, _dtypes.int32, _dtypes.int64
globals().update(_dtypes.ALIASES)  # tm.float, tm.double, tm.long, tm.int, tm.bool, tm.half, tm.short


def _module_twin(name):
    """tm.exp(x, ...) is x.exp(...), as torch.exp is torch.Tensor.exp."""
    method = getattr(Tensor, name)

    def twin(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"tm.{name}(): the first argument must be a tensor, got {type(input).__name__}")
        return method(input, *args, **kwargs)

    twin.__name__ = twin.__qualname__ = name
    twin.__doc__ = method.__doc__
    return twin


_TWINS = """exp log sqrt rsqrt abs sin cos tanh sigmoid relu clamp clip square reciprocal sign neg
    sum mean var std prod max min amax amin argmax argmin logsumexp softmax log_softmax
    reshape transpose permute squeeze unsqueeze flatten unflatten repeat flip chunk split
    masked_fill gather add sub mul div pow maximum minimum
    eq ne lt le gt ge logical_not isnan isfinite allclose equal any all detach numel""".split()
globals().update({name: _module_twin(name) for name in _TWINS})
