"""Direct convolution with a register-blocked inner loop: the twin of tinygrad_maas/reference/conv_direct.py.

    product[o, n, y, x] = sum over taps t = (c, i, j) of weight[o, c, i, j] * padded[n, c, y + i, x + j]

im2col copies every receptive field out (kh * kw copies of the input) and hands BLAS a product with few rows
(the output channels), which BLAS runs far below its peak. For a layer with few input channels this copy
costs more than the arithmetic. Here each task computes a strip of 16 outputs along x, for a block of
output channels, and keeps the strip's block x 16 sums in vector registers while it walks every tap: per
tap, one load of 16 input values (contiguous: x + j for the 16 x) and one fused multiply-add per output
channel with that channel's weight broadcast. Nothing is written until the strip's sums are complete.

How the sums stay in registers: `registers.stack_buffer` gives the kernel an array on its own stack (an
LLVM alloca), which LLVM knows nothing else can point to; with the block and the 16 lanes fixed when numba
compiles, the loops over them unroll and LLVM keeps the whole buffer in registers (8 zmm registers for
a block of 8 in float32 on AVX-512, checked in the machine code). The lanes loop is outside the channel
loop on purpose: that way LLVM vectorizes along the 16 x (contiguous loads) instead of along the channels.

A row wider than 16 is covered by strips starting at 0, 16, ... and a last strip ending at the row's end
(it overlaps the one before and writes the same values again). Rows narrower than 16 are not for this
kernel (ops/conv.py keeps them on im2col). Stride 1, no dilation, one group: the shapes ops/conv.py sends.
"""

import numpy as np
from numba import carray, njit, prange

from .registers import stack_buffer
from .threads import launch

LANES = 16  # outputs along x per strip: one AVX-512 register of float32
BLOCKS = (8, 6)  # output channels per register block: 8 in general, 6 where it wastes less (lenet's 6 channels)
# Multiply-adds below which the calling thread alone beats waking numba's threads (threads.launch).
THREADS_FROM = 1 << 20


def _make_kernel(block):
    """The kernel for register blocks of `block` output channels (a constant numba compiles in)."""
    size = block * LANES

    def direct_product(padded, weights, offsets, product):
        # weights (blocks, taps, block): weight[o, c, i, j] at [o // block, t, o % block], zero-padded;
        # offsets (taps,): where tap t = (c, i, j) starts in a flattened input image, c * H * W + i * W + j
        n, width = padded.shape[0], padded.shape[3]
        blocks, taps = weights.shape[0], weights.shape[1]
        channels, _, out_h, out_w = product.shape
        strips = (out_w + LANES - 1) // LANES
        images = padded.reshape(n, -1)
        for task in prange(n * blocks * out_h):
            b, rest = task // (blocks * out_h), task % (blocks * out_h)
            first, y = (rest // out_h) * block, rest % out_h
            weight_rows = weights[first // block]
            live = min(block, channels - first)
            sums = carray(stack_buffer(size, padded), size)
            for strip in range(strips):
                x0 = min(strip * LANES, out_w - LANES)
                row = images[b, y * width + x0 :]
                for k in range(size):
                    sums[k] = 0
                for t in range(taps):
                    values = row[offsets[t] :]
                    w = weight_rows[t]
                    for lane in range(LANES):
                        for o in range(block):
                            sums[o * LANES + lane] += w[o] * values[lane]
                for o in range(live):
                    into = product[first + o, b, y, x0:]
                    for lane in range(LANES):
                        into[lane] = sums[o * LANES + lane]

    direct_product.__qualname__ = direct_product.__name__ = f"_direct_product_{block}"
    # contract: a * b + c may be one fused multiply-add (one rounding instead of two), as BLAS does
    return njit(parallel=True, cache=True, error_model="numpy", fastmath={"contract"})(direct_product)


_KERNELS = {block: _make_kernel(block) for block in BLOCKS}


def _block_for(out_channels):
    """The block that leaves the fewest idle channels in the last register block (8 on a tie)."""
    return min(BLOCKS, key=lambda block: (-out_channels % block, -block))


def direct_product(padded, weight):
    """The convolution of a padded (N, C, H, W) input with (O, C, kh, kw) weights at stride 1, laid out
    (O, N, Ho, Wo) as ops/conv.py's im2col product; needs Wo >= 16."""
    n, c, height, width = padded.shape
    out_channels, _, kernel_h, kernel_w = weight.shape
    out_h, out_w = height - kernel_h + 1, width - kernel_w + 1
    if out_w < LANES:
        raise ValueError(f"direct_product needs outputs at least {LANES} wide, got {out_w}")
    block = _block_for(out_channels)
    blocks = -(-out_channels // block)
    taps = c * kernel_h * kernel_w
    weights = np.zeros((blocks * block, taps), dtype=padded.dtype)
    weights[:out_channels] = weight.reshape(out_channels, taps)
    weights = np.ascontiguousarray(weights.reshape(blocks, block, taps).transpose(0, 2, 1))
    channel, i, j = np.unravel_index(np.arange(taps), (c, kernel_h, kernel_w))
    offsets = (channel * height * width + i * width + j).astype(np.int64)
    product = np.empty((out_channels, n, out_h, out_w), dtype=padded.dtype)
    work = out_channels * n * out_h * out_w * taps
    launch(_KERNELS[block], work, THREADS_FROM, np.ascontiguousarray(padded), weights, offsets, product)
    return product
