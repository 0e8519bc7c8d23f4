"""numba's threads only where they pay for waking them.

tinygrad_maas sets OMP_WAIT_POLICY=PASSIVE before numba's OpenMP pool starts (backend.py), so the worker
threads sleep between kernels instead of spinning on the cores OpenBLAS needs. The price is paid at every
parallel launch: waking a worker costs tens of microseconds, more than the whole work of a small kernel
(one image's max pool: 39 us threaded, 7 us on the calling thread alone). `launch` runs a parallel kernel on
the calling thread alone when its work is below the threshold measured for its family. numba keeps the thread count per
calling thread, so a server's request threads do not disturb each other.

Kernels whose every microsecond counts at small sizes (layer norm, the int8 products) are compiled twice
instead, threaded and serial (`compiled_twice`): `launch` costs about 4 us more per call (setting the count,
the parallel region's own start).
"""

import types

import numba
from numba import njit
from numba.np.ufunc import parallel

_count = None  # (get, set) of the calling thread's thread count: see _thread_count


def launch(kernel, work, threads_from, *args):
    """kernel(*args) on numba's threads when `work` (elements the kernel reads or writes) reaches
    `threads_from`, else on the calling thread alone. Each kernel module keeps its measured threshold in a
    module constant (`python -m benchmarks.threads_crossover`, docs/kernels.md, "Threads")."""
    if work >= threads_from:
        return kernel(*args)
    get, set_ = _count or _thread_count()
    threads = get()
    set_(1)
    try:
        return kernel(*args)
    finally:
        set_(threads)


def _thread_count(source=parallel):
    """numba's own getter and setter of the calling thread's count, without the lock and the pool-start
    check its public functions take on every call (0.5 us for a set and a reset instead of 2.3: small
    kernels launch several times per layer). The public functions where a numba version has no such names."""
    global _count
    source._launch_threads()  # the public functions start the pool this way too
    raw = getattr(source, "_get_num_threads", None), getattr(source, "_set_num_threads", None)
    _count = raw if all(map(callable, raw)) else (numba.get_num_threads, numba.set_num_threads)
    return _count


def compiled_twice(driver, name, **options):
    """(threaded, serial): `driver` (a loop over prange) compiled for numba's threads and for the calling
    thread alone (prange then runs as range), as two functions named `name` and name + "_serial": numba's
    cache keys a compilation by the function's name, so one function compiled both ways would overwrite
    its own cached code. `options` go to njit (cache=True always)."""
    compiled = []
    for parallel_, qualname in ((True, name), (False, name + "_serial")):
        copy = types.FunctionType(
            driver.__code__, driver.__globals__, qualname, driver.__defaults__, driver.__closure__
        )
        copy.__qualname__ = qualname
        compiled.append(njit(parallel=parallel_, cache=True, **options)(copy))
    return tuple(compiled)
