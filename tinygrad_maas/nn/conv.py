"""Conv1d, Conv2d and ConvTranspose2d layers (the computation is F.conv1d / F.conv2d / F.conv_transpose2d)."""

from ..creation import empty_for_parameters as _empty
from ..creation import parameter_dtype
from . import functional as F
from . import init
from .module import Module, Parameter


def _check_channels(layer, in_channels, out_channels, groups):
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"{layer}: in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible by "
            f"groups ({groups})"
        )


class _ConvNd(Module):
    dims = 2

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        if padding_mode != "zeros":
            raise NotImplementedError(f"padding_mode={padding_mode!r}: only 'zeros' is supported")
        _check_channels(type(self).__name__, in_channels, out_channels, groups)
        as_tuple = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,) * self.dims  # noqa: E731
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = as_tuple(kernel_size), as_tuple(stride)
        self.padding = padding if isinstance(padding, str) else as_tuple(padding)
        self.dilation, self.groups = as_tuple(dilation), groups
        dtype = parameter_dtype(device, dtype, type(self).__name__)
        self.weight = Parameter(_empty((out_channels, in_channels // groups) + self.kernel_size, dtype))
        if bias:
            self.bias = Parameter(_empty((out_channels,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def _arguments(self):
        single = (lambda v: v[0]) if self.dims == 1 else (lambda v: v)
        padding = self.padding if isinstance(self.padding, str) else single(self.padding)
        return single(self.stride), padding, single(self.dilation)

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in ((0,) * self.dims, "valid"):
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) -> (N, C_out, L_out); weight (C_out, C_in/groups, k)."""

    dims = 1

    def forward(self, input):
        stride, padding, dilation = self._arguments()
        return F.conv1d(input, self.weight, self.bias, stride, padding, dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) -> (N, C_out, H_out, W_out); weight (C_out, C_in/groups, kh, kw)."""

    dims = 2

    def forward(self, input):
        stride, padding, dilation = self._arguments()
        return F.conv2d(input, self.weight, self.bias, stride, padding, dilation, self.groups)


class ConvTranspose2d(Module):
    """The transpose of Conv2d (an upsampling layer in decoders and GANs): (N, C_in, H, W) ->
    (N, C_out, (H - 1) s - 2 p + d (k - 1) + output_padding + 1, ...); weight (C_in, C_out/groups, kh, kw),
    initialised as PyTorch's (fan-in computed from the weight's dim 1)."""

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose2d: only padding_mode='zeros' is supported, got {padding_mode!r}")
        _check_channels("ConvTranspose2d", in_channels, out_channels, groups)
        pair = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v, v)  # noqa: E731
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.padding = pair(kernel_size), pair(stride), pair(padding)
        self.output_padding, self.dilation = pair(output_padding), pair(dilation)
        dtype = parameter_dtype(device, dtype, "ConvTranspose2d")
        self.weight = Parameter(_empty((in_channels, out_channels // groups) + self.kernel_size, dtype))
        if bias:
            self.bias = Parameter(_empty((out_channels,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input, output_size=None):
        if output_size is not None:
            raise NotImplementedError("ConvTranspose2d: output_size= is not supported; set output_padding")
        return F.conv_transpose2d(
            input, self.weight, self.bias, self.stride, self.padding, self.output_padding, self.groups, self.dilation
        )

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.output_padding != (0, 0):
            text += f", output_padding={self.output_padding}"
        return text + ("" if self.bias is not None else ", bias=False")
