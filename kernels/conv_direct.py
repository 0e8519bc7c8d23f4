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
(it overlaps the one before and writes the same values again). Outputs narrower than 16 run through the
same kernels with each image seen as one long row (`_as_flat_rows`). Stride 1, no dilation, one group: the
shapes ops/conv.py sends.

The weight gradient is the same sum with the roles turned around:

    dL/dW[o, c, i, j] = sum over n, y, x of g[o, n, y, x] * padded[n, c, y + i, x + j]

A task holds, for a block of output channels and a block of taps, block x taps x 16 lanes of partial sums in
registers (6 x 4 or 8 x 3: 24 zmm registers) and walks its images' rows strip by strip: per strip, one load
of 16 gradients per channel and one of 16 inputs per tap, then a multiply-add per (channel, tap). The lanes
are summed once, at the end. A row of 28 is a strip at 0 and one at 12 overlapping it by 4: the overlapping
strips run as a second pass into fresh sums whose first 4 lanes are left out of the final sum (masking those
lanes inside the loop cost 5x; multiplying them by 0 would turn an infinite input into nan). The images are
split in 4 chunks, each task summing one chunk; the chunks' sums are added after the kernel.
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


TAP_BLOCKS = {6: 4, 8: 3}  # taps per task for each channel block: 24 vector registers of sums either way
IMAGE_CHUNKS = 4  # a task sums one chunk of the batch's images (measured: 2, 8 and 16 were slower at 64 images)


def _make_weight_grad_kernel(block):
    """The weight-gradient kernel for blocks of `block` output channels and TAP_BLOCKS[block] taps."""
    taps_per_task = TAP_BLOCKS[block]
    size, grad_size = block * taps_per_task * LANES, block * LANES

    def direct_weight_grad(padded, grad, offsets, chunk, partial):
        # offsets (tap_blocks * taps_per_task,): as direct_product's, padded with 0 (valid, its sums unused);
        # partial (chunks, tap_blocks, channel_blocks, taps_per_task, block): each task's lane-summed sums
        n, width = padded.shape[0], padded.shape[3]
        channels, _, out_h, out_w = grad.shape
        chunks, tap_blocks, channel_blocks = partial.shape[:3]
        full = out_w // LANES  # strips that end inside the row; if out_w % 16, one more ends at its end
        overlap = full * LANES - (out_w - LANES)  # that last strip's lanes the full strips already covered
        images = padded.reshape(n, -1)
        for task in prange(chunks * tap_blocks * channel_blocks):
            chunk_index, rest = task // (tap_blocks * channel_blocks), task % (tap_blocks * channel_blocks)
            tap_block, first = rest // channel_blocks, (rest % channel_blocks) * block
            sums = carray(stack_buffer(size, padded), size)
            gradients = carray(stack_buffer(grad_size, padded), grad_size)
            out = partial[chunk_index, tap_block, rest % channel_blocks]
            for last_strip in range(2):  # pass 0: the full strips; pass 1: the overlapping last strip
                if last_strip and overlap == LANES:
                    break
                for k in range(size):
                    sums[k] = 0
                for b in range(chunk_index * chunk, min((chunk_index + 1) * chunk, n)):
                    for y in range(out_h):
                        for strip in range(1 if last_strip else full):
                            x0 = out_w - LANES if last_strip else strip * LANES
                            for o in range(block):  # channels past the last are read again, sums unused
                                row_of_grad = grad[min(first + o, channels - 1), b, y, x0:]
                                for lane in range(LANES):
                                    gradients[o * LANES + lane] = row_of_grad[lane]
                            row = images[b, y * width + x0 :]
                            for t in range(taps_per_task):
                                values = row[offsets[tap_block * taps_per_task + t] :]
                                for lane in range(LANES):
                                    for o in range(block):
                                        sums[(t * block + o) * LANES + lane] += (
                                            gradients[o * LANES + lane] * values[lane]
                                        )
                for t in range(taps_per_task):
                    for o in range(block):
                        total = out[t, o] if last_strip else 0.0
                        for lane in range(overlap if last_strip else 0, LANES):
                            total += sums[(t * block + o) * LANES + lane]
                        out[t, o] = total

    direct_weight_grad.__qualname__ = direct_weight_grad.__name__ = f"_direct_weight_grad_{block}"
    return njit(parallel=True, cache=True, error_model="numpy", fastmath={"contract"})(direct_weight_grad)


_WEIGHT_GRAD_KERNELS = {block: _make_weight_grad_kernel(block) for block in BLOCKS}


def _block_for(out_channels):
    """The block that leaves the fewest idle channels in the last register block (8 on a tie)."""
    return min(BLOCKS, key=lambda block: (-out_channels % block, -block))


def _tap_offsets(shape, kernel_h, kernel_w, count):
    """Where tap t = (c, i, j) starts in a flattened image of `shape` (N, C, H, W): c H W + i W + j, for the
    C kh kw taps, then 0 up to `count` (padding taps: a valid place to read, their sums unused)."""
    _, c, height, width = shape
    channel, i, j = np.unravel_index(np.arange(c * kernel_h * kernel_w), (c, kernel_h, kernel_w))
    offsets = np.zeros(count, dtype=np.int64)
    offsets[: channel.size] = channel * height * width + i * width + j
    return offsets


def _as_flat_rows(padded, out_h):
    """A padded batch (N, C, H, W) whose outputs are narrower than a strip, as (N, 1, 1, L): each image one
    long row. Output (y, x) reads input y W + x + offset(c, i, j) of its image, so over the flat index
    q = y W + x the kernels' strips run along the image's rows at their full width W (the W - Wo positions
    between two output rows are computed for nothing). Zeros after the image give the last strip, which
    ends past the last output, something to read: (N, 1, 1, L) and the strips' span S (a multiple of 16)."""
    n, c, height, width = padded.shape
    span = -(-out_h * width // LANES) * LANES
    images = np.zeros((n, 1, 1, c * height * width + width + LANES), dtype=padded.dtype)
    images[:, 0, 0, : c * height * width] = padded.reshape(n, -1)
    return images, span


def direct_product(padded, weight):
    """The convolution of a padded (N, C, H, W) input with (O, C, kh, kw) weights at stride 1, laid out
    (O, N, Ho, Wo) as ops/conv.py's im2col product. Outputs narrower than 16 run as flat rows
    (_as_flat_rows) and are cut out of them after the kernel."""
    n, c, height, width = padded.shape
    out_channels, _, kernel_h, kernel_w = weight.shape
    out_h, out_w = height - kernel_h + 1, width - kernel_w + 1
    block = _block_for(out_channels)
    blocks = -(-out_channels // block)
    taps = c * kernel_h * kernel_w
    weights = np.zeros((blocks * block, taps), dtype=padded.dtype)
    weights[:out_channels] = weight.reshape(out_channels, taps)
    weights = np.ascontiguousarray(weights.reshape(blocks, block, taps).transpose(0, 2, 1))
    offsets = _tap_offsets(padded.shape, kernel_h, kernel_w, taps)
    work = out_channels * n * out_h * out_w * taps
    if out_w >= LANES:
        product = np.empty((out_channels, n, out_h, out_w), dtype=padded.dtype)
        launch(_KERNELS[block], work, THREADS_FROM, np.ascontiguousarray(padded), weights, offsets, product)
        return product
    images, span = _as_flat_rows(padded, out_h)
    flat = np.empty((out_channels, n, 1, span), dtype=padded.dtype)
    launch(_KERNELS[block], work, THREADS_FROM, images, weights, offsets, flat)
    return np.ascontiguousarray(flat[:, :, 0, : out_h * width].reshape(out_channels, n, out_h, width)[..., :out_w])


def direct_weight_grad(padded, grad, kernel_h, kernel_w):
    """dL/dW (O, C, kh, kw) of the stride-1 convolution of a padded (N, C, H, W) input, from the gradient of
    its product g, laid out (O, N, Ho, Wo) as direct_product returns it. Outputs narrower than 16 run as flat
    rows (_as_flat_rows), the gradient laid on them with zeros at the positions between output rows, which
    then add 0 x input: None when the input holds inf or nan (0 x inf would be nan), and the caller takes
    the columns instead."""
    n, c, height, width = padded.shape
    out_channels, _, out_h, out_w = grad.shape
    block = _block_for(out_channels)
    taps_per_task = TAP_BLOCKS[block]
    taps = c * kernel_h * kernel_w
    tap_blocks, channel_blocks = -(-taps // taps_per_task), -(-out_channels // block)
    offsets = _tap_offsets(padded.shape, kernel_h, kernel_w, tap_blocks * taps_per_task)
    chunks = min(IMAGE_CHUNKS, max(n, 1))
    partial = np.zeros((chunks, tap_blocks, channel_blocks, taps_per_task, block), dtype=padded.dtype)
    work = out_channels * n * out_h * out_w * taps
    if out_w >= LANES:
        images, rows = np.ascontiguousarray(padded), np.ascontiguousarray(grad)
    else:
        if not np.isfinite(padded).all():
            return None
        images, span = _as_flat_rows(padded, out_h)
        rows = np.zeros((out_channels, n, 1, span), dtype=padded.dtype)
        rows[:, :, 0, : out_h * width].reshape(out_channels, n, out_h, width)[..., :out_w] = grad
    launch(_WEIGHT_GRAD_KERNELS[block], work, THREADS_FROM, images, rows, offsets, -(-n // chunks), partial)
    sums = partial.sum(axis=0)  # (tap_blocks, channel_blocks, taps_per_task, block)
    sums = sums.transpose(1, 3, 0, 2).reshape(channel_blocks * block, tap_blocks * taps_per_task)
    return np.ascontiguousarray(sums[:out_channels, :taps]).reshape(out_channels, c, kernel_h, kernel_w)
