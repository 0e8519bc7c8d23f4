"""`unbroadcast`: the one helper every broadcasting op uses in its backward.

When NumPy broadcasts an input of shape (5, 1) against (5, 7), each input element is used 7 times, so its
gradient is the sum of the 7 output gradients it fed. In general, the gradient of a broadcast input is the
output gradient summed over (a) the leading axes broadcasting added and (b) the axes where the input had
size 1 and the output did not.

It works on arrays and, for create_graph=True, on Tensors (ops/either.py).
"""


def unbroadcast(grad, shape):
    """Sum `grad` (the output's shape) down to `shape` (an input's shape that broadcast to it).

    >>> unbroadcast(np.ones((3, 5, 7)), (5, 1)).tolist() == [[21.0]] * 5
    True
    """
    if grad.shape == shape:
        return grad
    leading = grad.ndim - len(shape)
    axes = tuple(range(leading)) + tuple(
        leading + i for i, size in enumerate(shape) if size == 1 and grad.shape[leading + i] != 1
    )
    if axes:
        if observe.listeners:  # tm.autograd.trace shows each reduction
            observe.note_unbroadcast(grad.shape, shape, axes)
        grad = either.sum_axes(grad, axes, keepdims=True)
    return either.reshape(grad, shape)  # drops the leading axes, now all of size 1


from ..autograd import observe  # noqa: E402
from . import either  # noqa: E402  (imported last: either imports the ops that import this module)
