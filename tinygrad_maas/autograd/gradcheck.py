"""gradcheck: compare an op's backward with finite differences. A product feature, not a test helper.

For f: inputs -> outputs, the Jacobian entry J[o, i] = d out_o / d in_i is computed two ways:
  numeric:   (f(x + eps e_i) - f(x - eps e_i))_o / (2 eps)       central difference, error O(eps^2)
  analytic:  row o of J from one backward pass starting with the one-hot gradient e_o
and every entry must satisfy |analytic - numeric| <= atol + rtol |numeric|. In float64 with eps = 1e-6 the
difference quotient is accurate to about 1e-9, far inside the tolerance, so a wrong backward cannot hide.
"""

import numpy as np

from ..tensor import Tensor
from .gradients import grad


class GradcheckError(AssertionError):
    """Raised by gradcheck with the worst element: where it is, its analytic and numeric values."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check fn's gradients against central finite differences. Returns True, or raises GradcheckError.

    fn takes the tensors in `inputs` (a tensor or a tuple; non-tensors are passed through) and returns a
    tensor or a tuple of tensors (integer outputs, such as max's indices, are skipped). Every input that
    requires grad must be float64.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; create the inputs with requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need float64 inputs (use .double())"
            )

    outputs = _float_outputs(fn(*inputs))
    analytic = _analytic_jacobians(outputs, [inputs[i] for i in checked])
    numeric = _numeric_jacobians(fn, inputs, checked, [out.array.size for out in outputs], eps)

    worst = None  # (excess over tolerance, input, output, flat Jacobian index)
    for position, i in enumerate(checked):
        for o in range(len(outputs)):
            a_jac, n_jac = analytic[position][o], numeric[position][o]
            excess = np.abs(a_jac - n_jac) - (atol + rtol * np.abs(n_jac))
            excess = np.nan_to_num(excess, nan=np.inf)  # a NaN on one side only is a failure
            if excess.size and (worst is None or excess.max() > worst[0]):
                worst = (excess.max(), i, o, int(np.argmax(excess)))
    if worst is not None and worst[0] > 0:
        _, i, o, flat = worst
        position = checked.index(i)
        a_value, n_value = analytic[position][o].flat[flat], numeric[position][o].flat[flat]
        out_index, in_index = np.unravel_index(flat, (outputs[o].array.size, inputs[i].array.size))
        raise GradcheckError(
            f"gradcheck failed for input {i} (shape {inputs[i].shape}), output {o} "
            f"(shape {outputs[o].shape}): d out[{_position(out_index, outputs[o].shape)}] / "
            f"d in[{_position(in_index, inputs[i].shape)}] is {float(a_value)!r} by backward but {float(n_value)!r} by "
            f"finite differences (atol={atol}, rtol={rtol})"
        )
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second-order gradients: gradcheck of the function that computes fn's gradients.

    That function takes the inputs and an upstream gradient v for each output (random float64, or
    `grad_outputs`), and returns the vector-Jacobian products v^T J computed by backward with
    create_graph=True. Its own backward is then a gradient of a gradient (Hessian-vector products for the
    inputs, J itself for v), which gradcheck compares with finite differences of the first-order
    gradients. Returns True, or raises GradcheckError.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outputs = _float_outputs(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [Tensor(rng.standard_normal(out.shape), requires_grad=True) for out in outputs]
    else:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    count = len(inputs)

    def first_order(*arguments):
        pairs = [
            (out, v) for out, v in zip(_float_outputs(fn(*arguments[:count])), arguments[count:]) if out.requires_grad
        ]
        outs, vectors = [out for out, _ in pairs], [v for _, v in pairs]
        grads = grad(outs, [arguments[i] for i in checked], vectors, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_order, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol)


def _float_outputs(result):
    results = result if isinstance(result, (tuple, list)) else (result,)
    outputs = [r for r in results if isinstance(r, Tensor) and r.dtype.kind == "f"]
    if not outputs:
        raise ValueError("gradcheck: fn returned no floating point tensor")
    return outputs


def _analytic_jacobians(outputs, inputs):
    """jacobians[input][output] is an array (output.size, input.size), built one output element at a time."""
    jacobians = [[np.zeros((out.array.size, x.array.size)) for out in outputs] for x in inputs]
    for o, out in enumerate(outputs):
        if not out.requires_grad:
            continue  # the output does not depend on any input: its Jacobian rows are zero
        for row in range(out.array.size):
            one_hot = np.zeros(out.array.size)
            one_hot[row] = 1.0
            grads = grad(
                out, inputs, grad_outputs=Tensor(one_hot.reshape(out.shape)), retain_graph=True, allow_unused=True
            )
            for position, g in enumerate(grads):
                if g is not None:
                    jacobians[position][o][row] = g.array.reshape(-1)
    return jacobians


def _numeric_jacobians(fn, inputs, checked, output_sizes, eps):
    """Central differences: nudge each element of each checked input by +-eps and watch every output."""
    jacobians = []
    for i in checked:  # with grad mode on: fn may differentiate inside (a gradient penalty, a MAML step)
        tensor = inputs[i]
        tensor.array = np.array(tensor.array, order="C")  # so that the flat view below writes into it (0-d stays 0-d)
        flat = tensor.array.reshape(-1)
        columns = [np.zeros((size, flat.size)) for size in output_sizes]
        for element in range(flat.size):
            original = flat[element]
            flat[element] = original + eps
            plus = [out.array.reshape(-1).copy() for out in _float_outputs(fn(*inputs))]  # outputs may be views
            flat[element] = original - eps
            minus = [out.array.reshape(-1).copy() for out in _float_outputs(fn(*inputs))]
            flat[element] = original
            for column, p, m in zip(columns, plus, minus):
                column[:, element] = (p - m) / (2 * eps)
        jacobians.append(columns)
    return jacobians


def _position(flat_index, shape):
    return ", ".join(str(int(i)) for i in np.unravel_index(flat_index, shape)) if shape else ""
