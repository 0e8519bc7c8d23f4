"""Layer normalisation of the rows of a 2-D array, in NumPy: the reference twin of kernels/normalization.py.

For each row r of x (rows, D):   mean_r = sum_c x[r, c] / D,   var_r = sum_c (x[r, c] - mean_r)^2 / D
                                 y[r, c] = (x[r, c] - mean_r) / sqrt(var_r + eps) * weight[c] + bias[c]

The sums are taken in float64 whatever x's dtype. This is the inference path of F.layer_norm (no gradient
needed, nobody tracing): one pass for the statistics, one for the output, instead of the ~8 recorded ops of
the composed form, which stays the path with gradients.
"""

import numpy as np


def layer_norm_rows(x, weight, bias, eps):
    """y as above; weight and bias are arrays of length D (ones and zeros when the layer has none)."""
    wide = x.astype(np.float64)
    mean = wide.mean(axis=1, keepdims=True)
    centered = wide - mean
    rstd = 1.0 / np.sqrt((centered * centered).mean(axis=1, keepdims=True) + eps)
    return (centered * rstd * weight + bias).astype(x.dtype)
