"""What happens to .grad between training steps: backward accumulates into it (engine.py), and this clears
it. Shared by Module.zero_grad and Optimizer.zero_grad, which reach the same parameters from two sides."""


def zero_grads(parameters, set_to_none=True):
    """Clear .grad of each parameter: to None (PyTorch 2's default, frees the memory) or to zeros."""
    for parameter in parameters:
        if parameter.grad is not None:
            if set_to_none:
                parameter.grad = None
            else:
                parameter.grad.array[...] = 0
