"""einsum: sums of products named by index letters, as torch.einsum ("bij,bjk->bik" is a batched matmul).

Two ops do all of it. `Contract` joins two operands (y[so] = sum over the letters not in so of
a[sa] * b[sb]); `Rearrange` transposes and sums one operand (y[so] = sum of a[sa] over the letters not in
so). An einsum of n operands contracts them left to right, keeping at each step only the letters that the
output or a later operand still needs, then rearranges to the output's order.

The gradient of a contraction is another contraction: y = sum a[sa] b[sb] is linear in a, and

    dL/da[sa] = sum over the letters not in sa of dL/dy[so] * b[sb]

which is einsum("so,sb->sa"). A letter of sa that appears neither in so nor in sb was summed away inside
a alone, so every element along it gets the same gradient: it is broadcast back. The gradient of a
Rearrange is the reverse Rearrange, broadcast the same way.
"""

import string

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from . import either

_LETTERS = string.ascii_letters


class Contract(Function):
    """y[so] = sum_{letters not in so} a[sa] * b[sb].

    dL/da[sa] = sum_{letters not in sa} dL/dy[so] * b[sb];  dL/db[sb] = sum dL/dy[so] * a[sa] (each a
    contraction, broadcast along letters only its own operand had).
    """

    saved_roles = ("a", "b")

    @staticmethod
    def forward(ctx, a, b, subscripts):
        ctx.subscripts = subscripts
        ctx.save_for_backward(a, b)
        sa, sb, so = subscripts
        return np.einsum(f"{sa},{sb}->{so}", a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb, so = ctx.subscripts
        need_a, need_b = ctx.needs_input_grad
        return (
            _gradient_of(grad, so, b, sb, sa, np.shape(a)) if need_a else None,
            _gradient_of(grad, so, a, sa, sb, np.shape(b)) if need_b else None,
        )


class Rearrange(Function):
    """y[so] = sum_{letters not in so} a[sa] (a transpose, a sum, a trace-free reduction).

    dL/da[sa] = dL/dy[so] rearranged to sa's order, broadcast along the summed letters.
    """

    saved_roles = ()

    @staticmethod
    def forward(ctx, a, subscripts):
        ctx.subscripts, ctx.shape = subscripts, a.shape
        sa, so = subscripts
        return np.einsum(f"{sa}->{so}", a)

    @staticmethod
    def backward(ctx, grad):
        sa, so = ctx.subscripts
        kept = "".join(letter for letter in sa if letter in so)
        return _broadcast_back(rearrange(grad, so, kept), kept, sa, ctx.shape)


def contract(a, sa, b, sb, so):
    if either.is_tensor(a) or either.is_tensor(b):
        return Contract.apply(a, b, subscripts=(sa, sb, so))
    return np.einsum(f"{sa},{sb}->{so}", a, b)


def rearrange(a, sa, so):
    if sa == so:
        return a
    if either.is_tensor(a):
        return Rearrange.apply(a, subscripts=(sa, so))
    return np.einsum(f"{sa}->{so}", a)


def _gradient_of(grad, so, other, s_other, s_target, shape):
    kept = "".join(letter for letter in s_target if letter in so or letter in s_other)
    return _broadcast_back(contract(grad, so, other, s_other, kept), kept, s_target, shape)


def _broadcast_back(part, kept, s_target, shape):
    """`part` (letters `kept`) given s_target's missing letters back as broadcast axes."""
    missing = [axis for axis, letter in enumerate(s_target) if letter not in kept]
    if not missing:
        return part
    return either.broadcast_to(either.expand_dims(part, missing), shape)


def einsum(equation, *operands):
    """torch.einsum(equation, *operands) (or operands as one list): explicit ("ij,jk->ik") and implicit
    ("ij,jk": the letters used once, in alphabetical order) outputs, "..." for leading dims, size-1 dims
    broadcast against the same letter elsewhere. A letter repeated within one operand (a diagonal) is not
    supported."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): the equation must be a string, got {type(equation).__name__}")
    if not operands or not all(isinstance(x, Tensor) for x in operands):
        raise TypeError("einsum(): the operands must be one or more tensors")
    if len({x.dtype for x in operands}) > 1:
        raise TypeError(f"einsum(): the operands must have one dtype, got {[str(x.dtype) for x in operands]}")
    inputs, output = _parse(equation.replace(" ", ""), [x.ndim for x in operands])
    operands = _broadcast_sizes(equation, inputs, operands)
    current, letters = operands[0], inputs[0]
    for k in range(1, len(operands)):
        needed = set(output).union(*inputs[k + 1 :])
        joined = "".join(dict.fromkeys(letters + inputs[k]))
        kept = "".join(letter for letter in joined if letter in needed)
        current, letters = contract(current, letters, operands[k], inputs[k], kept), kept
    return rearrange(current, letters, output)


def _parse(equation, ndims):
    """Each operand's letters and the output's, with "..." replaced by letters of its own."""
    left, arrow, right = equation.partition("->")
    parts = left.split(",")
    if len(parts) != len(ndims):
        raise ValueError(f"einsum(): the equation {equation!r} has {len(parts)} operand(s), {len(ndims)} given")
    used = set(equation) - set(".,->")
    if not used <= set(_LETTERS):
        raise ValueError(f"einsum(): subscripts must be letters, got {sorted(used - set(_LETTERS))} in {equation!r}")
    spare = [letter for letter in _LETTERS if letter not in used]
    widest = max((ndim - len(part.replace("...", "")) for part, ndim in zip(parts, ndims) if "..." in part), default=0)
    ellipsis = "".join(spare[:widest])
    inputs = []
    for position, (part, ndim) in enumerate(zip(parts, ndims)):
        named = part.replace("...", "")
        covered = ndim - len(named)
        if ("..." in part and covered < 0) or ("..." not in part and covered != 0):
            raise ValueError(
                f"einsum(): operand {position} has {ndim} dims but its subscripts {part!r} name {len(named)}"
            )
        letters = part.replace("...", ellipsis[widest - covered :]) if "..." in part else part
        if len(set(letters)) != len(letters):
            raise NotImplementedError(f"einsum(): a letter repeated within one operand ({part!r}) is not supported")
        inputs.append(letters)
    if arrow:
        output = right.replace("...", ellipsis)
        unknown = set(output) - set("".join(inputs))
        if unknown or len(set(output)) != len(output):
            raise ValueError(f"einsum(): output subscripts {right!r} must be distinct letters of the inputs")
    else:
        counts = "".join(inputs)
        output = ellipsis + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ellipsis))
    return inputs, output


def _broadcast_sizes(equation, inputs, operands):
    """Operands with size-1 dims expanded where the same letter has another size elsewhere."""
    sizes = {}
    for letters, x in zip(inputs, operands):
        for letter, n in zip(letters, x.shape):
            if sizes.get(letter, 1) not in (1, n) and n != 1:
                raise ValueError(
                    f"einsum(): subscript {letter!r} has size {n} in one operand and {sizes[letter]} in "
                    f"another ({equation!r}, shapes {[x.shape for x in operands]})"
                )
            if n != 1 or letter not in sizes:
                sizes[letter] = n
    return [
        x.expand(*[sizes[letter] for letter in letters]) if any(n != sizes[c] for c, n in zip(letters, x.shape)) else x
        for letters, x in zip(inputs, operands)
    ]
