"""The check every differentiable op's test runs: its gradient and its gradient's gradient, in float64.

gradcheck compares backward with finite differences of the forward; gradgradcheck compares backward run
with create_graph=True, differentiated again, with finite differences of the first-order gradient. An op
whose backward is right but not differentiable (a kernel result treated as a constant, a mask that should
have been a value) passes the first and fails the second.
"""

from tinygrad_maas.autograd import gradcheck, gradgradcheck


def check_gradients(fn, inputs, **tolerances):
    """gradcheck and gradgradcheck of fn at inputs (a tensor or a tuple); True, or GradcheckError."""
    return gradcheck(fn, inputs, **tolerances) and gradgradcheck(fn, inputs, **tolerances)
