"""Elementwise unary ops: y = f(x), backward dL/dx = dL/dy * f'(x).

Where f'(x) is cheaper from the output than from the input (exp, tanh, sigmoid, sqrt), the output is saved.
"""

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..reference.elementwise import logistic
from . import either


class Neg(Function):
    """y = -x.   dy/dx = -1."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Function):
    """y = e^x.   dy/dx = e^x = y."""

    saved_roles = ("output",)

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Log(Function):
    """y = ln(x).   dy/dx = 1 / x.   (ln 0 = -inf and ln of a negative number = nan, silently, as in PyTorch.)"""

    saved_roles = ("x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad / x


class Log1p(Function):
    """y = ln(1 + x), accurate for small x.   dy/dx = 1 / (1 + x)."""

    saved_roles = ("x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):  # log1p(-1) = -inf, below it nan, as PyTorch
            return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad / (1 + x)


class Expm1(Function):
    """y = e^x - 1, accurate for small x.   dy/dx = e^x = y + 1."""

    saved_roles = ("output",)

    @staticmethod
    def forward(ctx, x):
        y = np.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y + 1)


class Clone(Function):
    """y = a copy of x (its own memory).   dy/dx = 1."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Step(Function):
    """y = floor(x), ceil(x) or round(x) (`rounding`): a step function.   dy/dx = 0 (everywhere it exists;
    PyTorch's gradient is 0 at the steps too)."""

    @staticmethod
    def forward(ctx, x, rounding):
        return rounding(x)

    @staticmethod
    def backward(ctx, grad):
        return either.zeros_like(grad)


class Sqrt(Function):
    """y = sqrt(x).   dy/dx = 1 / (2 sqrt(x)) = 1 / (2y)."""

    saved_roles = ("output",)

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (2 * y)


class Abs(Function):
    """y = |x|.   dy/dx = sign(x), taken as 0 at x = 0 (as PyTorch)."""

    saved_roles = ("x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


class Sin(Function):
    """y = sin(x).   dy/dx = cos(x)."""

    saved_roles = ("x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.cos(x)


class Cos(Function):
    """y = cos(x).   dy/dx = -sin(x)."""

    saved_roles = ("x",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * np.sin(x)


class Tanh(Function):
    """y = tanh(x).   dy/dx = 1 - tanh(x)^2 = 1 - y^2."""

    saved_roles = ("output",)

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x).   dy/dx = y (1 - y).

    Computed (logistic) so that no exp overflows and y keeps its relative precision far into the negative
    tail (sigmoid(-40) = 4.2e-18, as PyTorch, where (1 + tanh(x/2)) / 2 rounds to 0).
    """

    saved_roles = ("output",)

    @staticmethod
    def forward(ctx, x):
        y = logistic(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


class Relu(Function):
    """y = max(x, 0).   dy/dx = 1 where x > 0, else 0 (0 at x = 0, as PyTorch); the upstream gradient is
    selected, not multiplied by the mask, so a blocked element stays 0 even under an infinite gradient."""

    saved_roles = ("output",)

    @staticmethod
    def forward(ctx, x):
        floating = x.dtype in (np.float32, np.float64)  # numba's float types; integers keep NumPy's maximum
        y = backend.kernels("elementwise").relu(x) if floating else np.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return either.keep_positive(either.value(y), grad)


class Clamp(Function):
    """y = min(max(x, min), max).   dy/dx = 1 where min <= x <= max, else 0 (bounds inclusive, as PyTorch)."""

    saved_roles = ("x",)

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        ctx.save_for_backward(x)
        ctx.bounds = min, max
        return np.clip(x, min, max)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        x = either.value(x)  # the mask is a constant, also under create_graph
        low, high = ctx.bounds
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        return either.keep(inside, grad)


class Softplus(Function):
    """y = log(1 + e^{beta x}) / beta, and y = x where beta x > threshold (PyTorch's linear tail).

    dy/dx = sigmoid(beta x) (and 1 on the linear tail). log(1 + e^z) is computed as logaddexp(0, z), which
    does not overflow for large z.
    """

    saved_roles = ("x",)

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        scaled = x * beta
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        return np.where(scaled > threshold, x, np.logaddexp(0, scaled) / beta).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        scaled = x * ctx.beta
        sigmoid = scaled.sigmoid() if either.is_tensor(scaled) else logistic(scaled)
        slope = either.where(either.value(scaled) > ctx.threshold, 1, sigmoid)
        return either.cast(grad * slope, grad.dtype)


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) * integral_0^x e^{-t^2} dt.   dy/dx = 2/sqrt(pi) * e^{-x^2}.

    NumPy has no erf: the values come from the backend (math.erf per element, in numba or in Python).
    """

    saved_roles = ("x",)

    @staticmethod
    def forward(ctx, x):
        from .. import backend

        ctx.save_for_backward(x)
        return backend.kernels("elementwise").erf(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (2 / np.sqrt(np.pi)) * np.exp(-x * x)


class ToDtype(Function):
    """y = x cast to another floating dtype.   dy/dx = 1, the gradient cast back to x's dtype."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return either.cast(grad, ctx.input_dtype)
