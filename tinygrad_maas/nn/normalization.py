"""BatchNorm1d, BatchNorm2d and LayerNorm (the computation: F.batch_norm, F.layer_norm)."""

from ..creation import empty_for_parameters as _empty
from ..creation import parameter_dtype, tensor
from . import functional as F
from .module import Module, Parameter


def _filled(shape, dtype, value):
    array = _empty(shape if isinstance(shape, tuple) else (shape,), dtype)
    array[...] = value
    return array


class _BatchNorm(Module):
    expected_dims = (2, 3)

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
        *,
        bias=True,
    ):
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features < 1:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive integer, got {num_features!r}")
        dtype = parameter_dtype(device, dtype, type(self).__name__)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(_filled(num_features, dtype, 1))
            if bias:
                self.bias = Parameter(_filled(num_features, dtype, 0))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", tensor(_filled(num_features, dtype, 0)))
            self.register_buffer("running_var", tensor(_filled(num_features, dtype, 1)))
            self.register_buffer("num_batches_tracked", tensor(0))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, input):
        if input.ndim not in self.expected_dims:
            raise ValueError(
                f"{type(self).__name__}: expected a {' or '.join(f'{d}-D' for d in self.expected_dims)} "
                f"input, got shape {input.shape}"
            )
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: expected {self.num_features} channels (dim 1), got shape {input.shape}"
            )
        momentum = self.momentum
        use_batch = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            if momentum is None:  # a cumulative moving average: the mean of every batch seen so far
                momentum = 1.0 / int(self.num_batches_tracked.item())
        track = self.training and self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if track or not use_batch else None,
            self.running_var if track or not use_batch else None,
            self.weight,
            self.bias,
            use_batch,
            momentum,
            self.eps,
        )

    def extra_repr(self):
        bias = f", bias={self.bias is not None}" if self.affine else ""
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}{bias}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L)."""

    expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W)."""

    expected_dims = (4,)


class LayerNorm(Module):
    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        dtype = parameter_dtype(device, dtype, type(self).__name__)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_filled(shape, dtype, 1))
            if bias:
                self.bias = Parameter(_filled(shape, dtype, 0))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Normalise each sample over groups of channels (F.group_norm), then scale and shift per channel:
    weight, bias of shape (num_channels,). Independent of the batch size, unlike BatchNorm."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None):
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        dtype = parameter_dtype(device, dtype, "GroupNorm")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        if affine:
            self.weight = Parameter(_filled(num_channels, dtype, 1))
            self.bias = Parameter(_filled(num_channels, dtype, 0))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected {self.num_channels} channels at dim 1, got shape {input.shape}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
