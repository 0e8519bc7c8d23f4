"""numba's threads only where they pay for waking them.

tinygrad_maas sets OMP_WAIT_POLICY=PASSIVE before numba's OpenMP pool starts (backend.py), so the worker
threads sleep between kernels instead of spinning on the cores OpenBLAS needs. The price is paid at every
parallel launch: waking a worker costs tens of microseconds, more than the whole work of a small kernel
(one image's max pool: 39 us threaded, 7 us on the calling thread alone). `launch` runs a parallel kernel on
the calling thread alone when its work is below the threshold measured for its family. numba keeps the thread count per
calling thread, so a server's request threads do not disturb each other.

Kernels whose every microsecond counts at small sizes (layer norm, the int8 product) have a compiled
serial twin instead: this way costs about 4 us more per call (setting the count, the parallel region's
own start), and saves writing each kernel twice.
"""

import numba


def launch(kernel, work, threads_from, *args):
    """kernel(*args) on numba's threads when `work` (elements the kernel reads or writes) reaches
    `threads_from`, else on the calling thread alone. Each kernel module keeps its measured threshold in a
    module constant (`python -m benchmarks.threads_crossover`, docs/kernels.md, "Threads")."""
    if work >= threads_from:
        return kernel(*args)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return kernel(*args)
    finally:
        numba.set_num_threads(threads)
