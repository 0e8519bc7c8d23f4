"""A roofline of the four reference workloads: for every layer, the arithmetic and the memory traffic of its
forward and backward pass, the time it takes, and how close that comes to what this machine can do.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.roofline [--workload cnn] [--repeats 20]

The machine's two ceilings are measured in the same run: the float32 GEMM peak (NumPy's sgemm on 2048 x
2048 matrices, GFLOP/s) and the memory bandwidth (copying a 256 MB float32 array, read + write, GB/s).
Each layer runs alone on its input shape from the workload's batch (float32, warm, median of --repeats):
forward, then forward and backward with a gradient of ones. The backward's time is their difference, so it
includes storing the gradient of the layer's input (a leaf here) and the engine's bookkeeping.

FLOPs count a multiply-add as 2 (a convolution: 2 N O Ho Wo C kh kw per product; its backward has two such
products, dW and dx, or one for a first layer whose input needs no gradient). Bytes are the least any
implementation must move: inputs, weights and outputs read or written once (an im2col matrix, layout copies
and separate bias or activation passes come on top). A layer whose arithmetic intensity (FLOPs per byte)
times the bandwidth reaches the GEMM peak is compute-bound, and "achieved" is its share of the peak;
otherwise it is memory-bound, and "achieved" is its share of the bandwidth. Views (Flatten) move nothing.
"""

import argparse

import tinygrad_maas as tm  # first, before NumPy: as its docs ask (OpenBLAS's idle timeout)

# isort: split
import numpy as np

from benchmarks.alternate import median_seconds
from benchmarks.reference_workloads import NAMES, Framework, _batch, _model


def machine_ceilings(repeats=5):
    """(sgemm GFLOP/s, memory GB/s), measured now."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((2048, 2048)).astype(np.float32) for _ in range(2))
    gemm = 2 * 2048**3 / median_seconds(lambda: a @ b, repeats) / 1e9
    source = np.ones(64 * 2**20, dtype=np.float32)
    target = np.empty_like(source)
    bandwidth = 2 * source.nbytes / median_seconds(lambda: np.copyto(target, source), repeats) / 1e9
    return gemm, bandwidth


def _leaf_inputs(model, x):
    """[(module, input shape)] of every leaf module, in the order the forward pass calls them."""
    seen = []
    hooks = [
        module.register_forward_hook(lambda m, inputs, out: seen.append((m, tuple(inputs[0].shape))))
        for module in model.modules()
        if not list(module.children())
    ]
    with tm.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    return seen


def _counts(module, shape, output_shape, first):
    """(forward FLOPs, backward FLOPs, forward bytes, backward bytes) of a layer (float32: 4 bytes)."""
    n_in, n_out = int(np.prod(shape)), int(np.prod(output_shape))
    weights = sum(int(np.prod(p.shape)) for p in module.parameters())
    kind = type(module).__name__
    if kind in ("Conv2d", "Linear"):  # one product forward; dW and (unless first) dx backward
        depth = shape[1] * module.kernel_size[0] * module.kernel_size[1] if kind == "Conv2d" else shape[-1]
        product = 2 * n_out * depth
        return (
            product,
            product * (1 if first else 2),
            4 * (n_in + weights + n_out),
            4 * (n_out + n_in + 2 * weights + (0 if first else n_in)),
        )
    if kind == "GRU":
        steps, batch = (shape[1], shape[0]) if module.batch_first else (shape[0], shape[1])
        hidden, features = module.hidden_size, module.input_size
        product = 2 * steps * batch * 3 * hidden * (features + hidden)
        return product, 2 * product, 4 * (n_in + weights + n_out), 4 * (n_out + 2 * n_in + 2 * weights)
    if kind == "MaxPool2d":
        window = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        return n_out * window * window, n_out, 4 * (n_in + n_out), 4 * (n_out + n_in)
    if kind in ("Flatten", "Unflatten", "Identity"):  # views: nothing needs to move
        return 0, 0, 0, 0
    if kind == "Embedding":
        return 0, 0, 8 * n_in + 4 * n_out, 4 * n_out + 8 * n_in
    return n_out, n_out, 4 * (n_in + n_out), 4 * (2 * n_out + n_in)  # elementwise: ReLU, Flatten


def _time_layer(module, shape, dtype, repeats, first):
    """(forward seconds, backward seconds, output shape). The first layer's input needs no gradient, as in
    a training step (its backward computes dW alone, as _counts counts it); every other layer's does."""
    rng = np.random.default_rng(1)
    if dtype.kind in "iu":
        x = tm.tensor(rng.integers(0, 100, shape))
    else:
        x = tm.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=not first)
    output = module(x)
    output = output[0] if isinstance(output, tuple) else output
    ones = tm.ones(*output.shape)

    def forward():
        out = module(x)
        return out[0] if isinstance(out, tuple) else out

    def forward_backward():
        module.zero_grad()
        x.grad = None
        forward().backward(ones)

    forward_seconds = median_seconds(forward, repeats)
    both = median_seconds(forward_backward, repeats)
    return forward_seconds, max(both - forward_seconds, 1e-9), tuple(output.shape)


def roofline(name, gemm, bandwidth, repeats):
    tm.manual_seed(0)
    model = _model(Framework(tm), name)
    inputs, _ = _batch(name, np.random.default_rng(0))
    x = tm.tensor(inputs)
    rows = []
    for index, (module, shape) in enumerate(_leaf_inputs(model, x)):
        dtype = inputs.dtype if index == 0 else np.dtype(np.float32)
        first = index == 0 or dtype.kind in "iu"
        forward_s, backward_s, output_shape = _time_layer(module, shape, dtype, repeats, first)
        counts = _counts(module, shape, output_shape, first=first)
        for direction, seconds, flops, moved in (
            ("forward", forward_s, counts[0], counts[2]),
            ("backward", backward_s, counts[1], counts[3]),
        ):
            intensity = flops / moved if moved else 0.0
            compute_bound = intensity * bandwidth >= gemm
            if not moved:
                achieved = "n/a"  # a view: no ceiling applies
            elif compute_bound:
                achieved = f"{flops / seconds / 1e9 / gemm:.0%}"
            else:
                achieved = f"{moved / seconds / 1e9 / bandwidth:.0%}"
            rows.append(
                (
                    f"{index}:{type(module).__name__}",
                    direction,
                    seconds * 1e3,
                    flops / 1e6,
                    moved / 1e6,
                    intensity,
                    flops / seconds / 1e9,
                    moved / seconds / 1e9,
                    "view" if not moved else "compute" if compute_bound else "memory",
                    achieved,
                )
            )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=NAMES, action="append", help="default: all four")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    gemm, bandwidth = machine_ceilings()
    print(
        f"machine: sgemm {gemm:.0f} GFLOP/s, memory {bandwidth:.1f} GB/s (copy, read + write); "
        f"ridge at {gemm / bandwidth:.1f} FLOP/byte"
    )
    for name in args.workload or NAMES:
        print(f"\n{name}")
        print("| layer | pass | ms | MFLOP | MB moved | FLOP/byte | GFLOP/s | GB/s | bound | achieved |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
        total = 0.0
        for row in roofline(name, gemm, bandwidth, args.repeats):
            total += row[2]
            print("| {} | {} | {:.3f} | {:.1f} | {:.2f} | {:.1f} | {:.1f} | {:.1f} | {} | {} |".format(*row))
        print(f"layers' sum: {total:.2f} ms per step (the optimizer and loss are not in it)")


if __name__ == "__main__":
    main()
