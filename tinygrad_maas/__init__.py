"""tinygrad_maas: a from-scratch deep learning framework with PyTorch's API, on NumPy.

In short:

    import tinygrad_maas as tm
    x = tm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4., 6.])
"""

import importlib.util as _importlib_util
import os as _os
import sys as _sys


def _let_idle_blas_threads_sleep():
    """Ask OpenBLAS (NumPy's BLAS) to put its idle threads to sleep soon after a matmul returns.

    OpenBLAS reads OPENBLAS_THREAD_TIMEOUT once, when NumPy loads it: an idle thread spins for 2**value CPU
    cycles before it sleeps (2**28 by default: tens of milliseconds). A numba kernel started in that time
    shares a core with the spinning thread; numba's own threads already sleep (backend.py,
    OMP_WAIT_POLICY). 2**19 cycles, 150 - 200 microseconds, still keeps the thread awake between
    back-to-back matmuls and from one small forward pass to the next (measured: docs/kernels.md,
    "Threads"). Set only when this package is imported before NumPy (afterwards it changes nothing) and
    when the user has not set it.
    """
    if "numpy" not in _sys.modules:
        _os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "19")


_let_idle_blas_threads_sleep()

import numpy as _np  # after the BLAS setting above, which OpenBLAS reads as NumPy loads it


def _map_source_checkout_kernels():
    """Make the top-level kernels/ folder importable as tinygrad_maas.kernels in a source checkout.

    An install maps kernels/ into the package (pyproject.toml, package-dir), but Python run from the
    repository's root imports the checkout's tinygrad_maas/ first, and there kernels/ sits beside it.
    Registering the folder under its package name keeps `python -m tinygrad_maas ...` working there too.
    Nothing is compiled or imported from it here (numba loads on first kernel use).
    """
    if _importlib_util.find_spec(__name__ + ".kernels") is not None:
        return
    folder = _os.path.join(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))), "kernels")
    init = _os.path.join(folder, "__init__.py")
    if _os.path.exists(init):
        spec = _importlib_util.spec_from_file_location(__name__ + ".kernels", init, submodule_search_locations=[folder])
        module = _importlib_util.module_from_spec(spec)
        _sys.modules[spec.name] = module
        spec.loader.exec_module(module)


_map_source_checkout_kernels()

from . import dtypes as _dtypes
from . import memory as _memory
from .tensor import MinMaxResult, Tensor, cat, matmul, stack, where  # first: the rest imports Tensor

# isort: split
from . import autograd, backend, data, nn, ops, optim, plotting, utils
from . import profiler as _profiler
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.grad_mode import inference_mode
from .backend import get_num_threads, set_num_threads
from .creation import (
    arange,
    as_tensor,
    eye,
    from_numpy,
    full,
    full_like,
    is_tensor,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .device import accelerator, backends, cuda, device
from .ops.einsum import einsum
from .profiler import profile
from .random import Generator, initial_seed, manual_seed, seed
from .serialization import load, save

__version__ = "0.1.0"

if _profiler.debug_level():  # TINYGRAD_MAAS_DEBUG=1: profile the whole program (profiler.py)
    _profiler._profile_the_program(_profiler.debug_level())

_memory.tune_allocator()  # reuse freed memory instead of mapping fresh pages every step (see memory.py)

float16, float32, float64 = _dtypes.float16, _dtypes.float32, _dtypes.float64
uint8, int8, int16, int32, int64 = _dtypes.uint8, _dtypes.int8, _dtypes.int16, _dtypes.int32, _dtypes.int64
globals().update(_dtypes.ALIASES)  # tm.float, tm.double, tm.long, tm.int, tm.bool, tm.half, tm.short
qint8 = int8  # PyTorch's torch.qint8, the dtype of quantized weights (tm.quantization)


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


_TWINS = """exp log log1p expm1 floor ceil round clone sqrt rsqrt abs sin cos tanh sigmoid relu clamp clip
    square reciprocal sign neg floor_divide remainder
    sum mean var std prod max min amax amin argmax argmin logsumexp softmax log_softmax
    reshape transpose permute squeeze unsqueeze flatten unflatten repeat flip chunk split
    masked_fill gather index_select narrow scatter scatter_add add sub mul div pow maximum minimum
    mm bmm norm cumsum sort argsort topk unique
    eq ne lt le gt ge logical_not isnan isfinite allclose equal any all detach numel""".split()
globals().update({name: _module_twin(name) for name in _TWINS})


def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ... occurs in a 1-D tensor of non-negative integers (int64), or the sum of
    `weights` at each value (float). No gradient, as in PyTorch."""
    values = input.array if isinstance(input, Tensor) else None
    if values is None or values.ndim != 1 or values.dtype.kind not in "iu":
        raise TypeError(f"bincount(): input must be a 1-D integer tensor, got {getattr(input, 'shape', input)!r}")
    if values.size and values.min() < 0:
        raise ValueError(f"bincount(): input must be non-negative, got {values.min()}")
    if weights is not None:
        weights = weights.array if isinstance(weights, Tensor) else _np.asarray(weights)
        if weights.shape != values.shape:
            raise ValueError(f"bincount(): weights of shape {weights.shape} must match the input's {values.shape}")
    counts = _np.bincount(values, weights=weights, minlength=minlength)
    dtype = int64 if weights is None else (weights.dtype if weights.dtype.kind == "f" else float64)
    return tensor(counts, dtype=dtype)


def __getattr__(name):
    """tm.onnx, tm.jit, tm.distributed, tm.quantization and tm.models load on first use (PEP 562): most
    programs never export, quantize or run on several processes, and import stays fast."""
    if name in ("onnx", "jit", "distributed", "quantization", "models"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
