"""Where the direct convolution kernel beats im2col + BLAS: the forward product of a batch of 64 images
with 28 x 28 outputs (or --size: 10 is lenet's second layer, narrower than a strip of 16), by input
channels, kernel size and output channels, float32, numba backend.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.conv_direct_grid [--rounds 15] [--size 28]

Both contenders are ours and run in one process, alternating round by round (no second OpenMP pool): the
direct kernel (kernels/conv_direct.py) and im2col + np.matmul, the path ops/conv.py takes otherwise. The
medians and the median of the per-round ratios are printed; backend.direct_convolution's rule comes from
this table (docs/kernels.md, "Direct convolution").
"""

import argparse
import statistics
import time

import numpy as np

from tinygrad_maas import backend


def _seconds(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--size", type=int, default=28, help="output height and width")
    args = parser.parse_args(argv)
    size = args.size
    backend.use("numba")
    direct, conv = backend.kernels("conv_direct"), backend.kernels("conv")
    rng = np.random.default_rng(0)
    print(
        f"forward product, batch 64, {size} x {size} outputs, float32; medians of {args.rounds} alternating rounds (ms)"
    )
    print("| C | k | O | direct | im2col + BLAS | direct / im2col (median of per-round ratios) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for channels in (1, 3, 6, 8) if size < 16 else (1, 3, 8):
        for kernel in (3, 5):
            for out_channels in (6, 8, 16, 32):
                x = rng.standard_normal((64, channels, size - 1 + kernel, size - 1 + kernel)).astype(np.float32)
                w = rng.standard_normal((out_channels, channels, kernel, kernel)).astype(np.float32)
                geometry = (kernel, kernel, 1, 1, 1, 1, size, size)
                contenders = (
                    lambda: direct.direct_product(x, w),
                    lambda: w.reshape(out_channels, -1) @ conv.im2col(x, *geometry),
                )
                for call in contenders:  # compile and warm up
                    call()
                rounds = [[_seconds(call) for call in contenders] for _ in range(args.rounds)]
                ours, theirs = (statistics.median(r[i] for r in rounds) * 1e3 for i in (0, 1))
                ratio = statistics.median(r[0] / r[1] for r in rounds)
                print(f"| {channels} | {kernel} | {out_channels} | {ours:.3f} | {theirs:.3f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
