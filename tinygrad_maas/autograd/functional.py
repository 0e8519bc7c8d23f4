"""Derivatives of whole functions, with PyTorch's names: vjp, jvp, jacobian, hessian, hvp, vhp.

Each takes `func` (tensors in, a tensor or a tuple of tensors out) and `inputs` (a tensor or a tuple), and
builds on `grad`:

    vjp(f, x, v)  = v^T J            one backward pass
    jvp(f, x, v)  = J v              two: g(u) = J^T u is linear in u, so d<g(u), v>/du = J v  (the
                                     "double-vjp trick": forward mode from reverse mode, needs create_graph)
    jacobian(f, x) = J               one backward per output element
    hessian(f, x)  = d^2 f / dx^2    the Jacobian of the gradient (create_graph)
    vhp(f, x, v)   = v^T H           grad of <grad f, v>: two backward passes, never the whole H
    hvp(f, x, v)   = H v             the same numbers: H is symmetric for a twice-differentiable f

The inputs are not changed: each function differentiates with respect to fresh tensors sharing their
values (or, with create_graph=True and an input that requires grad, a view that keeps it in the graph, so
the result can be differentiated again). Results are outside any graph unless create_graph=True. With
strict=True, an input that some output does not depend on raises instead of giving zeros.
"""

import numpy as np

from ..tensor import Tensor, make_tensor
from .grad_mode import enable_grad
from .gradients import grad
from .replay import Identity


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product, what one backward pass computes."""
    with enable_grad():
        xs, outputs, single_input, single_output = _evaluate(func, inputs, create_graph)
        grads = _grads(outputs, xs, _vectors(v, outputs, "v"), create_graph, strict, "vjp")
    return _result(outputs, single_output, create_graph), _result(grads, single_input, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product (a directional derivative), by the double-vjp trick."""
    with enable_grad():
        xs, outputs, _, single_output = _evaluate(func, inputs, create_graph)
        vs = _vectors(v, xs, "v")
        dummies = [make_tensor(np.zeros_like(out.array), None).requires_grad_() for out in outputs]
        transposed = _grads(outputs, xs, dummies, True, strict, "jvp")  # J^T u, linear in u
        products = _grads(transposed, dummies, vs, create_graph, False, "jvp")  # d <J^T u, v> / du = J v
    return _result(outputs, single_output, create_graph), _result(products, single_output, create_graph)


def jacobian(func, inputs, create_graph=False, strict=False):
    """d func / d inputs: shape output.shape + input.shape; for several inputs (or outputs) a tuple (of
    tuples), indexed [output][input], as PyTorch."""
    with enable_grad():
        xs, outputs, single_input, single_output = _evaluate(func, inputs, create_graph)
        rows = []
        for out in outputs:
            blocks = [[] for _ in xs]
            for index in range(out.array.size):
                one_hot = np.zeros(out.array.size, dtype=out.dtype)
                one_hot[index] = 1
                start = make_tensor(one_hot.reshape(out.shape), None)
                for block, g in zip(blocks, _grads([out], xs, [start], create_graph, strict, "jacobian")):
                    block.append(g)
            rows.append(tuple(_jacobian_block(block, out, x) for block, x in zip(blocks, xs)))
    rows = [_result(row, single_input, create_graph) for row in rows]
    return rows[0] if single_output else tuple(rows)


def hessian(func, inputs, create_graph=False, strict=False):
    """d^2 func / d inputs^2 of a function with one output element: shape input.shape + input.shape (for
    several inputs a tuple of tuples [i][j] = d^2 f / dx_i dx_j): the Jacobian of the gradient."""
    _, single_input = _tuple(inputs, "inputs")

    def gradient(*xs):
        out = _scalar(func(*xs), "hessian")
        gradients = _grads([out], list(xs), [None], True, strict, "hessian")
        return gradients[0] if single_input else tuple(gradients)

    return jacobian(gradient, inputs, create_graph=create_graph, strict=strict)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a function with one output element: two backward passes, no H."""
    with enable_grad():
        xs, outputs, single_input, _ = _evaluate(func, inputs, create_graph)
        out = _scalar(outputs, "vhp")
        gradients = _grads([out], xs, [None], True, strict, "vhp")
        products = _grads(gradients, xs, _vectors(v, xs, "v"), create_graph, False, "vhp")  # d <g, v> / dx
    return _result([out], True, create_graph), _result(products, single_input, create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): equal to vhp, because the Hessian of a twice-differentiable function is symmetric."""
    return vhp(func, inputs, v, create_graph=create_graph, strict=strict)


def _evaluate(func, inputs, create_graph):
    """(stand-ins for the inputs, func's outputs, one input?, one output?), inside enable_grad."""
    inputs, single_input = _tuple(inputs, "inputs")
    xs = _differentiable(inputs, create_graph)
    outputs, single_output = _tuple(func(*xs), "func's output")
    return xs, outputs, single_input, single_output


def _tuple(value, what):
    if isinstance(value, Tensor):
        return [value], True
    if isinstance(value, (tuple, list)) and all(isinstance(item, Tensor) for item in value):
        return list(value), False
    raise TypeError(f"{what} must be a Tensor or a tuple of Tensors, got {type(value).__name__}")


def _differentiable(inputs, create_graph):
    """Stand-ins for the inputs: fresh leaves, or (create_graph and in a graph) views that stay in it."""
    stand_ins = []
    for i, x in enumerate(inputs):
        if x.dtype.kind != "f":
            raise TypeError(f"input {i} is {x.dtype}: only floating point tensors can be differentiated")
        if create_graph and x.requires_grad:
            stand_ins.append(Identity.apply(x))
        else:
            stand_ins.append(make_tensor(x.array, None).requires_grad_())
    return stand_ins


def _vectors(v, like, name):
    """The vectors v, one per tensor in `like`, checked; v may be omitted when each has one element."""
    if v is None:
        if any(t.array.size != 1 for t in like):
            raise RuntimeError(f"{name} must be given: it can be omitted only when every tensor has one element")
        return [make_tensor(np.ones_like(t.array), None) for t in like]
    vs, _ = _tuple(v, name)
    if len(vs) != len(like):
        raise RuntimeError(f"{name} has {len(vs)} tensors but {len(like)} are expected")
    for i, (vector, t) in enumerate(zip(vs, like)):
        if vector.shape != t.shape:
            raise RuntimeError(f"{name}[{i}] has shape {vector.shape} but must have shape {t.shape}")
    return vs


def _grads(outputs, xs, vectors, create_graph, strict, op):
    """grad, with an input no output depends on given zeros (or, strict, an error naming it)."""
    live = [(out, v) for out, v in zip(outputs, vectors) if out.requires_grad]
    if not live:
        found = [None] * len(xs)
    else:
        outs, starts = [o for o, _ in live], [v for _, v in live]
        found = grad(outs, xs, starts, retain_graph=True, create_graph=create_graph, allow_unused=True)
    results = []
    for i, (g, x) in enumerate(zip(found, xs)):
        if g is None and strict:
            raise RuntimeError(f"{op}(strict=True): the output does not depend on input {i}")
        results.append(_zeros_for(g, x))
    return results


def _zeros_for(g, like):
    return make_tensor(np.zeros_like(like.array), None) if g is None else g


def _scalar(result, op):
    outputs, _ = _tuple(result, "func's output")
    if len(outputs) != 1 or outputs[0].array.size != 1:
        shapes = [tuple(o.shape) for o in outputs]
        raise RuntimeError(f"{op}(): func must return a tensor with one element, got shape(s) {shapes}")
    return outputs[0]


def _jacobian_block(rows, out, x):
    """Stack per-output-element gradients into a block of shape out.shape + x.shape."""
    from ..ops.join import stack

    if not rows:
        return make_tensor(np.zeros(out.shape + x.shape, dtype=x.dtype), None)
    return stack(rows).reshape(out.shape + x.shape)


def _result(tensors, single, create_graph):
    if not create_graph:
        tensors = [make_tensor(t.array, None) for t in tensors]
    return tensors[0] if single else tuple(tensors)
