"""Elementwise functions NumPy lacks: the reference twins of kernels/elementwise.py.

erf in float64 is math.erf per element. In float32 (and float16) it is a rational function that needs
only multiplications, additions and one division, so a loop over it vectorises (math.erf is a call per
element, about ten times slower):

    erf(x) ~ x P(x^2) / Q(x^2)     for |x| <= 3.9, and sign(x) beyond (where float32's erf is exactly +-1)

P (degree 6) and Q (degree 4, Q(0) = 1) were fitted to math.erf on [0, 4] by iteratively reweighted least
squares (Loeb's method: solve x P(z) - erf(x) (Q(z) - 1) = erf(x) weighted by 1 / (erf(x) Q(z)), update Q,
repeat), then rounded to float32. Evaluated in float32 the largest error over [-6, 6] is 3.7e-7 (about 3
units in the last place near 1; tests/nn/test_attention.py checks it against math.erf). P's first
coefficient is 2/sqrt(pi), erf's slope at 0.
"""

import math

import numpy as np

ERF32_P = np.array(
    [
        1.1283791065216064,
        0.20370160043239594,
        0.05105803534388542,
        0.003840201999992132,
        0.00014337358879856765,
        -1.92196375792264e-06,
        1.909886293560703e-08,
    ],
    dtype=np.float32,
)
ERF32_Q = np.array(
    [1.0, 0.513857901096344, 0.11654285341501236, 0.014657019637525082, 0.0009836546378210187], dtype=np.float32
)
ERF32_SATURATES = np.float32(3.9)  # beyond it float32's erf is +-1

_erf = np.vectorize(math.erf, otypes=[np.float64])


def erf(x):
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x e^{-t^2} dt, elementwise."""
    if x.dtype == np.float64:
        return _erf(x)
    return erf32(x.astype(np.float32, copy=False)).astype(x.dtype, copy=False)


def erf32(x):
    """The float32 rational erf of the module docstring (Horner's rule, highest power first)."""
    z = x * x
    numerator = np.full_like(x, ERF32_P[-1])
    for coefficient in ERF32_P[-2::-1]:
        numerator = numerator * z + coefficient
    denominator = np.full_like(x, ERF32_Q[-1])
    for coefficient in ERF32_Q[-2::-1]:
        denominator = denominator * z + coefficient
    with np.errstate(invalid="ignore", over="ignore"):
        out = x * numerator / denominator
    return np.where(np.abs(x) > ERF32_SATURATES, np.sign(x), out).astype(np.float32)


def gelu(x):
    """GELU(x) = x Phi(x) = (x * 0.5) * (erf(x * (1/sqrt 2)) + 1), elementwise in x's dtype (float32 or
    float64), in exactly the operations and order of F.gelu's recorded ops, so inference's one pass gives
    the values training's five ops give. -inf gives nan (-inf * 0), as PyTorch's formula does."""
    half, root_half = x.dtype.type(0.5), x.dtype.type(1 / math.sqrt(2))
    with np.errstate(invalid="ignore", over="ignore"):
        return (x * half) * (erf(x * root_half) + x.dtype.type(1))


def keep(mask, grad):
    """grad where mask holds, 0 elsewhere (mask and grad of one shape): the backward of relu, clamp,
    maximum/minimum and masked_fill. Selecting, not multiplying by the mask, keeps a blocked element at 0
    under an infinite or nan gradient."""
    return np.where(mask, grad, np.zeros((), dtype=grad.dtype))


def relu(x):
    """max(x, 0) elementwise: nan stays nan, -0 becomes +0."""
    return np.maximum(x, x.dtype.type(0))


def bias_relu_(rows, bias):
    """rows = max(rows + bias, 0) in place: a linear layer's output and its ReLU (ops/linear.py, LinearRelu)."""
    rows += bias
    return np.maximum(rows, rows.dtype.type(0), out=rows)


def keep_positive(values, grad):
    """grad where values > 0, 0 elsewhere: relu's backward from its output y (dy/dx = 1 where y > 0)."""
    return keep(values > 0, grad)


def logistic(x):
    """1 / (1 + e^-x) on an array, in its dtype: e^x / (1 + e^x) for x < 0, so neither branch overflows
    and small values stay accurate instead of rounding to 0."""
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)
