"""Resizing feature maps: F.interpolate and nn.Upsample, with PyTorch's sampling positions.

Each spatial axis is resampled on its own (bilinear is linear along H, then along W). An output position
d reads the input at

    nearest:          floor(d * scale)                 (scale = in / out, or 1 / scale_factor)
    nearest-exact:    floor((d + 0.5) * scale)
    (bi)linear:       (d + 0.5) * scale - 0.5, at least 0      align_corners=False
                      d * (in - 1) / (out - 1)                 align_corners=True

clamped to the last input position; linear modes mix the two neighbours of that position by their
distances. Both are selections and weighted sums of input elements, so the gradient of each output
flows back to the elements it read (index_select's backward).
"""

import math

import numpy as np

from .module import Module

_SPATIAL_DIMS = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "linear": (1,), "bilinear": (2,)}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
    """Resize the spatial dims of an (N, C, L) or (N, C, H, W) input to `size` or by `scale_factor`."""
    if mode not in _SPATIAL_DIMS:
        raise NotImplementedError(f"interpolate(): mode {mode!r} is not supported; use one of {sorted(_SPATIAL_DIMS)}")
    spatial = input.ndim - 2
    if spatial not in _SPATIAL_DIMS[mode]:
        raise ValueError(
            f"interpolate(): mode {mode!r} needs a {_SPATIAL_DIMS[mode][0] + 2}-D input, got {input.shape}"
        )
    if align_corners is not None and mode.startswith("nearest"):
        raise ValueError("interpolate(): align_corners only applies to the linear modes")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate(): give exactly one of size and scale_factor")
    sizes_in = input.shape[2:]
    if size is not None:
        sizes_out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * spatial
        scales = [n_in / n_out for n_in, n_out in zip(sizes_in, sizes_out)]
    else:
        factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * spatial
        sizes_out = tuple(int(math.floor(n * f)) for n, f in zip(sizes_in, factors))
        scales = [
            n_in / n_out if recompute_scale_factor else 1.0 / f for n_in, n_out, f in zip(sizes_in, sizes_out, factors)
        ]
    if len(sizes_out) != spatial or any(n < 1 for n in sizes_out):
        raise ValueError(f"interpolate(): output size {sizes_out} must have {spatial} positive entries")
    out = input
    for offset, (n_in, n_out, scale) in enumerate(zip(sizes_in, sizes_out, scales)):
        out = _resample(out, 2 + offset, n_in, n_out, scale, mode, bool(align_corners))
    return out


def _resample(x, axis, n_in, n_out, scale, mode, align_corners):
    positions = np.arange(n_out, dtype=np.float64)
    if mode == "nearest":
        return x.index_select(axis, np.minimum(np.floor(positions * scale).astype(np.int64), n_in - 1))
    if mode == "nearest-exact":
        return x.index_select(axis, np.minimum(np.floor((positions + 0.5) * scale).astype(np.int64), n_in - 1))
    if align_corners:
        source = positions * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        source = np.maximum((positions + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(np.int64), n_in - 1)
    high = np.minimum(low + 1, n_in - 1)
    weight_shape = (n_out,) + (1,) * (x.ndim - axis - 1)
    weight = (source - low).astype(x.dtype).reshape(weight_shape)
    return x.index_select(axis, low) * (1 - weight) + x.index_select(axis, high) * weight


class Upsample(Module):
    """F.interpolate as a layer: Upsample(scale_factor=2, mode="nearest")."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input):
        return interpolate(
            input, self.size, self.scale_factor, self.mode, self.align_corners, self.recompute_scale_factor
        )

    def extra_repr(self):
        what = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"
