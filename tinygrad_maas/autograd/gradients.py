"""`tm.autograd.grad`: gradients of outputs with respect to chosen inputs, returned instead of accumulated."""

from ..tensor import Tensor, make_tensor
from . import engine


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Return d(outputs)/d(inputs) as a tuple of tensors, one per input; no `.grad` is changed.

    outputs and inputs may be single tensors or sequences; grad_outputs gives the gradient to start from
    at each output (needed for outputs with more than one element). An input that no output depends on
    raises, unless allow_unused=True, when its gradient is None.

    With create_graph=True the gradients are computed by recorded ops, so they can be differentiated
    again (grad of grad: Hessian-vector products, gradient penalties); the graph is then kept
    (retain_graph defaults to create_graph, as in PyTorch).
    """
    if retain_graph is None:
        retain_graph = create_graph
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad(): {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, tensor in enumerate(inputs):
        if not isinstance(tensor, Tensor) or not tensor.requires_grad:
            raise RuntimeError(
                f"grad(): input {i} does not require grad, so it has no gradient; create it with requires_grad=True"
            )
    roots, starts = [], []
    for i, (output, gradient) in enumerate(zip(outputs, grad_outputs)):
        engine.check_differentiable(output, f"grad() output {i}")
        roots.append(engine.node_of(output))
        starts.append(engine.initial_gradient(output, gradient, f"grad() output {i}", create_graph))
    capture = {engine.node_of(tensor): None for tensor in inputs}
    engine.run_backward(roots, starts, retain_graph=bool(retain_graph), capture=capture, create_graph=create_graph)
    results = []
    for i, tensor in enumerate(inputs):
        found = capture[engine.node_of(tensor)]
        if found is None and not allow_unused:
            raise RuntimeError(
                f"grad(): input {i} was not used to compute the outputs; pass allow_unused=True to get None for it"
            )
        if found is None or isinstance(found, Tensor):
            results.append(found)
        else:
            results.append(make_tensor(found.astype(tensor.dtype, copy=True), None))
    return tuple(results)
