"""Initialising parameters in place, with PyTorch's formulas (torch.nn.init).

fan_in / fan_out of a weight: for Linear (out, in) they are in and out; for Conv (out, in/groups, k...)
they are (in/groups) * prod(k) and out * prod(k). Kaiming (He) uniform draws from U(-b, b) with
b = gain * sqrt(3 / fan), gain = sqrt(2 / (1 + a^2)) for leaky_relu with slope a; PyTorch's default layer
init is kaiming_uniform_(a=sqrt(5)), which works out to b = 1 / sqrt(fan_in).
"""

import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..random import generator


def calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dims, got shape {tensor.shape}")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def calculate_gain(nonlinearity, param=None):
    """The recommended scale for a nonlinearity, as torch.nn.init.calculate_gain."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain(): unsupported nonlinearity {nonlinearity!r}")


def _fill(tensor, values):
    with no_grad():
        tensor.array[...] = values
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    return _fill(tensor, generator().uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    return _fill(tensor, generator().normal(mean, std, tensor.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Normal(mean, std) truncated to [a, b] (absolute bounds, as PyTorch), drawn by the inverse CDF:
    u ~ U(Phi(alpha), Phi(beta)) with alpha = (a - mean) / std, beta = (b - mean) / std, then
    x = mean + std * sqrt(2) * erfinv(2u - 1)."""
    from statistics import NormalDist

    standard = NormalDist()
    low, high = standard.cdf((a - mean) / std), standard.cdf((b - mean) / std)
    u = generator().uniform(low, high, tensor.shape)
    values = np.vectorize(standard.inv_cdf, otypes=[np.float64])(np.clip(u, 1e-12, 1 - 1e-12)) if u.size else u
    return _fill(tensor, np.clip(mean + std * values, a, b))


def constant_(tensor, val):
    return _fill(tensor, val)


def zeros_(tensor):
    return _fill(tensor, 0)


def ones_(tensor):
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain=1.0):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)))


def orthogonal_(tensor, gain=1.0):
    """A (semi-)orthogonal matrix, as torch.nn.init.orthogonal_: the tensor seen as (rows, rest) is the Q of
    the QR decomposition of a standard normal matrix (transposed when wider than tall), with the signs of
    R's diagonal folded in so the result is uniformly distributed, times gain."""
    if tensor.ndim < 2:
        raise ValueError(
            f"orthogonal_(): only tensors with 2 or more dimensions are supported, got shape {tensor.shape}"
        )
    rows = tensor.shape[0]
    columns = tensor.numel() // rows if rows else 0
    flat = generator().standard_normal((rows, columns))
    if rows < columns:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < columns:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def default_layer_init_(weight, bias=None):
    """PyTorch's default for Linear and Conv layers: kaiming_uniform_(weight, a=sqrt(5)), which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias from the same range."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
