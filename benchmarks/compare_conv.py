"""Side-by-side conv2d forward + backward on the `cnn` workload's two layers: tinygrad_maas (numba and
numpy backends) vs PyTorch when installed.

    python -m benchmarks.compare_conv [--rounds 15]
    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.compare_conv      (see below)

The contenders alternate in one process. Two OpenMP thread pools in one process (numba's and PyTorch's)
disturb each other: with the default wait policy, PyTorch's threads keep spinning after its ops and
slow whatever runs next; with OMP_WAIT_POLICY=PASSIVE for the whole process, PyTorch itself is slower
than alone. docs/benchmarks.md reports both, and PyTorch measured alone.
"""

import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F
from benchmarks import conv_workloads as work
from benchmarks.alternate import backend_arguments, backend_row


def main(argv=None):
    args, chosen, torch = backend_arguments(__doc__, argv)
    print(f"conv2d forward + backward, float32, medians of {args.rounds} alternating rounds (ms)")
    print("| layer | tinygrad_maas numba | tinygrad_maas numpy | pytorch | numba / pytorch |")
    print("|---|---:|---:|---:|---:|")
    for layer in work.CNN_LAYERS:
        x, w, b = work.arrays(layer)
        ours = [tm.tensor(a, requires_grad=True) for a in (x, w, b)]
        contenders = {
            "numba": lambda: (tm.backend.use("numba"), work.step(F, *ours)),
            "numpy": lambda: (tm.backend.use("numpy"), work.step(F, *ours)),
        }
        if torch is not None:
            theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
            contenders["torch"] = lambda: work.step(torch.nn.functional, *theirs)
        backend_row(layer, contenders, chosen, args.rounds)
    tm.backend.use("numba")


if __name__ == "__main__":
    main()
