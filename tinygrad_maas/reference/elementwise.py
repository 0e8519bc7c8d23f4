"""Elementwise functions NumPy lacks, in plain Python per element: the reference twins of
kernels/elementwise.py."""

import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def erf(x):
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x e^{-t^2} dt, elementwise (math.erf)."""
    return _erf(x).astype(x.dtype, copy=False)
