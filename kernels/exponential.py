"""e^x for x <= 0 in plain float32 arithmetic, so loops over it vectorize (libm's exp is a call per element).

    x = k ln2 + r, |r| <= ln2 / 2      e^x = 2^k e^r

e^r by its Taylor polynomial to r^7 (the next term, r^8 / 8!, is below 1e-8 of e^r); ln2 split into a part
exact in float32 and the rest (Cody and Waite), so k ln2 is subtracted without rounding. 2^k is built from its
IEEE bits; k reaches -150 (e^-104 is below float32's least subnormal), past the least normal power 2^-126, so
2^k is applied as two halves, each normal, and the product rounds to the right subnormal. Within 3 units in
the last place of the float64 exponential (tests/kernels/test_recurrent_twins.py checks it through the
cells' sigmoid, tests/kernels/test_softmax_embedding_twins.py through softmax).

Its users need only x <= 0: the logistic function's e^-|x|, softmax's e^(x - max). float64 keeps math.exp.

numba inlines this into its callers and caches each caller by the caller's own file: after editing this
module, delete kernels/__pycache__/*.nbi and *.nbc, or the cached callers keep the old code.
"""

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

_ZERO, _HALF, _ONE = np.float32(0.0), np.float32(0.5), np.float32(1.0)
_LOG2_E = np.float32(1.44269504088896341)
_LN2_HIGH, _LN2_LOW = np.float32(0.693145751953125), np.float32(1.42860682030941723e-06)
_EXP_FLOOR = np.float32(-104.0)
_E2, _E3, _E4 = np.float32(1 / 2), np.float32(1 / 6), np.float32(1 / 24)
_E5, _E6, _E7 = np.float32(1 / 120), np.float32(1 / 720), np.float32(1 / 5040)


@intrinsic
def _power_of_two(typingctx, exponent):
    """2^e for a whole float32 e in [-126, 127], built from its IEEE bits: (e + 127) shifted into the
    exponent field. The shift is a multiplication by 2^23 in float32 (exact, below 2^31), the bits one
    conversion to int32: cheaper in vector registers than int64 arithmetic."""
    if exponent != types.float32:
        return None

    def codegen(context, builder, signature, args):
        shifted = builder.fmul(
            builder.fadd(args[0], ir.Constant(ir.FloatType(), 127.0)), ir.Constant(ir.FloatType(), 8388608.0)
        )
        return builder.bitcast(builder.fptosi(shifted, ir.IntType(32)), ir.FloatType())

    return types.float32(types.float32), codegen


@njit(cache=True, error_model="numpy", inline="always")
def _exp32_of_non_positive(x):
    """e^x for float32 x <= 0 (NaN stays NaN); see the module docstring."""
    # Below e^-104 the result is 0. Those inputs (softmax's masked scores, -3.4e38) are computed at 0 and then
    # replaced: carried through, their product would underflow, and underflow to a subnormal or 0 takes the
    # processor's slow microcode path (3x slower softmax on a masked attention batch).
    underflows = x < _EXP_FLOOR  # -inf too; NaN compares false and stays
    x = _ZERO if underflows else x
    finite = x if x == x else _ZERO  # k from 0 for NaN (converting NaN to an integer is undefined)
    k = np.floor(finite * _LOG2_E + _HALF)  # np.floor keeps float32 (math.floor would give an int64)
    r = (x - k * _LN2_HIGH) - k * _LN2_LOW
    e_r = _ONE + r * (_ONE + r * (_E2 + r * (_E3 + r * (_E4 + r * (_E5 + r * (_E6 + r * _E7))))))
    first = np.floor(k * _HALF)
    return _ZERO if underflows else e_r * _power_of_two(first) * _power_of_two(k - first)


def exp_of_non_positive(x):
    """e^x for x <= 0 in the precision of x (only called from jitted code, where the overload applies)."""
    return math.exp(x)


@overload(exp_of_non_positive, inline="always")
def _exp_for_type(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return lambda x: _exp32_of_non_positive(x)
    return lambda x: math.exp(x)
