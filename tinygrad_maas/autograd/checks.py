"""The engine's checks on what a backward returns, with errors that teach.

A backward must return one gradient per input of forward (None for an input that needs none), each with
the shape and dtype of its input: d loss / d input has one entry per element of the input. The engine
checks both after the backward of every Function written outside the framework's own ops (yours: see
Function.engine_checks), because a gradient of the wrong shape would otherwise broadcast silently into a
wrong answer several nodes later. The framework's ops skip the check: their gradchecks test every one of
them, and checking each edge of every backward costs several percent of the per-op overhead.
"""


def verify(node, grads):
    """Raise if `grads` (what node's backward returned) has the wrong count, or a gradient the wrong
    shape or dtype for its input."""
    children = node.next_nodes
    if len(grads) != len(children):
        raise RuntimeError(count_message(node, len(grads)))
    for index, (child, grad) in enumerate(zip(children, grads)):
        if child is None or grad is None:
            continue
        try:
            wrong = grad.shape != child.output_shape or grad.dtype != child.output_dtype
        except AttributeError:  # not an array at all
            wrong = True
        if wrong:
            raise RuntimeError(mismatch_message(node, index, grad, child))


def count_message(node, returned):
    inputs = len(node.next_nodes)
    return (
        f"{node.name()} returned {returned} gradient{'s' * (returned != 1)} but its forward had {inputs} "
        f"input{'s' * (inputs != 1)}: backward must return one gradient per input of forward, in order "
        "(None for an input that needs no gradient, e.g. an index or a constant)"
    )


def mismatch_message(node, index, grad, child):
    expected = f"shape {child.output_shape} and dtype {child.output_dtype}"
    if not hasattr(grad, "shape") or not hasattr(grad, "dtype"):
        got = f"a {type(grad).__name__}"
    else:
        got = f"shape {grad.shape} and dtype {grad.dtype}"
    if child.name() == "AccumulateGrad":
        source = f"is a leaf tensor, {child.variable!r}"
    else:
        source = f"was made by {child.name()[: -len('Backward')]}"
    return (
        f"{node.name()} returned a gradient of {got} for its input {index}, which has {expected} "
        f"(input {index} {source}): the gradient of an input must have the input's shape and dtype"
    )
