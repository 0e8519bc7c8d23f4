"""Where numba's threads start to pay: each parallel kernel family timed on numba's threads and on the
calling thread alone, at sizes around its crossover. The THREADS_FROM constants of kernels/*.py come from
this table (kernels/threads.py says why small kernels run on one thread).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.threads_crossover [--repeats 300]

Each cell is "threads / alone" in microseconds (medians); the work column is what the kernel's launch
counts (elements read or written).
"""

import argparse

import numba
import numpy as np

import tinygrad_maas as tm
from benchmarks.alternate import median_seconds


def _alone(call):
    def on_one_thread():
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            call()
        finally:
            numba.set_num_threads(threads)

    return on_one_thread


_FAMILIES = ("pool", "conv", "optim", "elementwise", "softmax", "embedding")


def _cases(kernels):
    """(kernel, work, call) for each family at a few sizes, through the kernels' own entry points."""
    rng = np.random.default_rng(0)
    for planes in (6, 192, 2048):
        x = rng.standard_normal((1, planes, 26, 26)).astype(np.float32)
        yield "max pool 2x2", x.size, lambda x=x: kernels["pool"].window_max(x, 2, 2, 2, 2, 1, 1, 13, 13)
    for images in (1, 8, 64):
        x = rng.standard_normal((images, 32, 13, 13)).astype(np.float32)
        yield "im2col 3x3", 288 * images * 121, lambda x=x: kernels["conv"].im2col(x, 3, 3, 1, 1, 1, 1, 11, 11)
    for n in (18432, 102400, 262144, 1 << 20):
        p, g, m, v = (np.abs(rng.standard_normal(n)).astype(np.float32) for _ in range(4))
        yield (
            "adam",
            n,
            lambda p=p, g=g, m=m, v=v: kernels["optim"].adam_step(
                p, g, m, v, None, 1e-3, 0.9, 0.999, 1e-8, 0.0, 3, False
            ),
        )
        yield "sgd", n, lambda p=p, g=g, m=m: kernels["optim"].sgd_step(p, g, m, 0.01, 0.9, 0.0, 0.0, False, False)
        yield "keep (relu backward)", n, lambda g=g: kernels["elementwise"].keep(g > 0, g)
        yield "erf", n, lambda g=g: kernels["elementwise"].erf(g)
    for rows, columns in ((128, 10), (64, 1000), (256, 1000), (1024, 1000)):
        logits = rng.standard_normal((rows, columns)).astype(np.float32)
        yield "log_softmax", logits.size, lambda logits=logits: kernels["softmax"].log_softmax(logits)
    for rows in (100, 3200, 32000):
        grad, tokens = rng.standard_normal((rows, 128)).astype(np.float32), rng.integers(0, 10000, rows)
        yield (
            "embedding backward",
            grad.size,
            lambda grad=grad, tokens=tokens: kernels["embedding"].embedding_backward(grad, tokens, 10000),
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args(argv)
    # Load the kernels first: numba's pool must start under tinygrad_maas's wait policy (backend.py).
    kernels = {family: tm.backend.kernels(family) for family in _FAMILIES}
    print(f"numba threads: {numba.get_num_threads()}; medians of {args.repeats} (us)")
    print("| kernel | work (elements) | threads | alone |")
    print("|---|---:|---:|---:|")
    # The entry points choose by their modules' *THREADS_FROM constants; 0 makes every launch threaded.
    thresholds = {
        (module, name): getattr(module, name)
        for module in kernels.values()
        for name in dir(module)
        if name.endswith("THREADS_FROM")
    }
    try:
        for module, name in thresholds:
            setattr(module, name, 0)
        for kernel, work, call in _cases(kernels):
            threaded = median_seconds(call, args.repeats) * 1e6
            alone = median_seconds(_alone(call), args.repeats) * 1e6
            print(f"| {kernel} | {work} | {threaded:.1f} | {alone:.1f} |")
    finally:
        for (module, name), value in thresholds.items():
            setattr(module, name, value)


if __name__ == "__main__":
    main()
