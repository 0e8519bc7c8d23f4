"""Kernel dispatch: the one place that decides whether an op runs a numba kernel or its NumPy twin.

    tm.backend.use("numpy")      # the readable reference path, everywhere
    tm.backend.use("numba")      # the fast path (the default)
    TINYGRAD_MAAS_BACKEND=numpy python train.py

Every decision of which implementation runs is here:
- `kernels(family)`: the module of an op family ("conv", ...) on the current backend;
  `tinygrad_maas.kernels.conv` and `tinygrad_maas.reference.conv` define the same functions with the same
  signatures;
- `optimizer_kernels(*arrays)`: the fused optimizer loops, or their twins for arrays the loops are not
  compiled for;
- `matmul_transposed(a, bt)`: the numba GEMM or BLAS, by shape.
- `direct_convolution(...)`: a convolution's product by the direct kernel or by im2col + BLAS, by shape.
The numba modules are imported on first use, so `import tinygrad_maas` never imports numba or compiles
anything.
"""

import importlib
import os

import numpy as np

BACKENDS = ("numba", "numpy")
_ENVIRONMENT_VARIABLE = "TINYGRAD_MAAS_BACKEND"


def _from_environment():
    name = os.environ.get(_ENVIRONMENT_VARIABLE, "numba").strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"{_ENVIRONMENT_VARIABLE}={name!r} is not a backend; use one of {BACKENDS}")
    return name


_current = _from_environment()
_loaded = {}


def use(name):
    """Switch every op of the framework to the "numba" kernels or the "numpy" reference twins."""
    global _current
    if name not in BACKENDS:
        raise ValueError(f"backend.use(): unknown backend {name!r}; use one of {BACKENDS}")
    _current = name


def current():
    """The backend in use: "numba" or "numpy"."""
    return _current


def kernels(family):
    """The module of kernel functions for `family` ("conv", ...) on the current backend."""
    key = (_current, family)
    module = _loaded.get(key)
    if module is None:
        if _current == "numba":
            _prepare_numba_threads()
        package = "tinygrad_maas.kernels" if _current == "numba" else "tinygrad_maas.reference"
        try:
            module = importlib.import_module(f"{package}.{family}")
        except ImportError as error:
            if _current == "numba" and "numba" in str(error):
                raise ImportError(
                    "the numba backend needs numba (pip install numba), or switch to the "
                    "reference path with tm.backend.use('numpy')"
                ) from error
            raise
        _loaded[key] = module
    return module


def optimizer_kernels(*arrays):
    """The module whose adam_step / sgd_step updates these parameter-sized arrays in place: the fused numba
    loops (kernels/optim.py) on the numba backend when every array is C-contiguous float32 or float64, the
    NumPy twin (reference/optim.py) otherwise: a parameter made out of a strided view, or float16 (the
    loops are compiled for neither)."""
    if _current == "numba" and all(a.flags.c_contiguous and a.dtype in (np.float32, np.float64) for a in arrays):
        return kernels("optim")
    return importlib.import_module("tinygrad_maas.reference.optim")


def matmul_transposed(a, bt):
    """a @ bt.T for 2-D a (M, K) and bt (N, K), both C-contiguous: a convolution's weight gradient (the
    output gradient's rows against the im2col rows). There the numba kernel measured faster than BLAS when C
    is small, the shared axis K long, and the bytes the kernel streams stay moderate (`_kernel_wins`,
    `python -m benchmarks.compare_matmul --transposed`, docs/kernels.md); elsewhere BLAS.

    Every other matrix product of the framework is np.matmul (OpenBLAS), called directly by the ops: BLAS
    measured faster than the kernel on square matrices of every size, and even a Python function choosing
    between the two cost more than it could win on small products (docs/kernels.md, "Matmul")."""
    if (
        _current == "numba"
        and a.dtype == bt.dtype
        and a.dtype in (np.float32, np.float64)
        and _kernel_wins(a.shape[0], bt.shape[0], a.shape[1], a.dtype.itemsize)
    ):
        return kernels("matmul").matmul_transposed(a, bt)
    return np.matmul(a, bt.T)


def direct_convolution(padded, weight, stride, dilation, groups):
    """Whether a convolution's product runs as kernels/conv_direct.py's register-blocked direct kernel
    instead of im2col + BLAS: on the numba backend, float32 or float64, stride 1, no dilation, one group,
    at most 16 output channels and up to 200 taps (C * kh * kw), and at least 25 taps and 3 per output
    channel where the outputs are at least 16 wide (one strip of vector lanes), 50 and 9 per output channel
    where they are narrower (the kernel then runs strips along flattened rows and computes the positions
    between rows for nothing: 10 of every 14 lanes count in lenet's second layer). There it measured at
    most 0.67x (wide) and 0.73x (narrow) of im2col + BLAS (`python -m benchmarks.conv_direct_grid [--size
    10]`, docs/kernels.md, "Direct convolution"): BLAS runs a product with so few rows far below its peak.
    More output channels, or fewer taps, and BLAS's product is efficient enough; larger layers were not
    measured."""
    out_channels, channels, kernel_h, kernel_w = weight.shape
    taps = channels * kernel_h * kernel_w
    wide = padded.shape[3] - kernel_w + 1 >= 16
    least_taps = max(25, 3 * out_channels) if wide else max(50, 9 * out_channels)
    return (
        _current == "numba"
        and padded.dtype == weight.dtype
        and padded.dtype in (np.float32, np.float64)
        and stride == (1, 1)
        and dilation == (1, 1)
        and groups == 1
        and out_channels <= 16
        and least_taps <= taps <= 200
    )


def _kernel_wins(m, n, depth, itemsize):
    """Where kernels/matmul.py measured faster than BLAS for a @ bt.T (docs/kernels.md): enough work to pay
    for starting threads, a C of few 6 x 4 tiles (BLAS wins large outputs), and at most 64 MiB of Bt
    streamed (once per row of tiles and per row left below them) and 16 MiB of A."""
    streamed = (m // 6 + m % 6) * n * depth * itemsize
    return m * n * depth >= 1 << 20 and m * n <= 32768 and streamed <= 64 << 20 and m * depth * itemsize <= 16 << 20


def _prepare_numba_threads():
    """Keep numba's OpenMP threads from spinning after a kernel returns.

    A parallel kernel is usually followed by a NumPy matmul on OpenBLAS's own threads. By default OpenMP
    threads busy-wait for more work for a while, taking the cores the matmul needs (measured on the cnn
    workload's second conv layer: docs/kernels.md, "Threads"). It must be set before numba starts its thread
    pool (first parallel launch); a value the user set wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def set_num_threads(count):
    """Threads for numba's parallel kernels (at most NUMBA_NUM_THREADS, which numba reads at start-up).

    NumPy's BLAS keeps its own threads: set OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS) before starting
    Python. Kernels and BLAS calls alternate rather than overlap, so both may use every core.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"set_num_threads(): count must be a positive integer, got {count!r}")
    _prepare_numba_threads()  # numba starts its pool here if no kernel has run yet
    import numba

    limit = numba.config.NUMBA_NUM_THREADS
    if count > limit:
        raise ValueError(
            f"set_num_threads(): {count} threads asked for, but numba was started with "
            f"NUMBA_NUM_THREADS={limit}; set that environment variable before starting Python"
        )
    numba.set_num_threads(count)


def get_num_threads():
    """Threads numba's parallel kernels use now."""
    _prepare_numba_threads()  # numba starts its pool here if no kernel has run yet
    import numba

    return numba.get_num_threads()
