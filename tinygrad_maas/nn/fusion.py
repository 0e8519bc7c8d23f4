"""Fusion in nn.Sequential: a run of modules computed by one op that gives the same result faster.

Two runs are fused today, the blocks of most convolutional networks and of most multilayer perceptrons:

    Conv2d, ReLU, MaxPool2d(2)   ->   ops/conv_fused.py: Conv2dReluMaxPool
    Linear, ReLU                 ->   ops/linear.py: LinearRelu

A run is fused only when its modules are exactly those classes (a subclass may have its own forward), none
has a hook (a hook must see its module's own input and output), the input is a float32 or float64 tensor
of the weight's dtype and of a shape the first module accepts (else the module's own call names the
problem), and, for the convolution's block, the pool is 2 x 2 at stride 2 without padding, dilation,
ceil_mode or indices and the input is batched (N, C, H, W). Values and gradients are those of the modules
(tests/nn/test_fusion.py). A profile or trace shows the one op; set `tm.nn.fusion.enabled = False` to run
every module on its own.
"""

import numpy as np

from ..ops.conv import conv2d_arguments
from ..ops.conv_fused import Conv2dReluMaxPool
from ..ops.linear import LinearRelu
from ..tensor import Tensor
from .activation import ReLU
from .conv import Conv2d
from .linear import Linear
from .pooling import MaxPool2d

enabled = True


def run(modules, input):
    """The output of the modules called in order on input, each fusable run as one op."""
    index, count = 0, len(modules)
    while index < count:
        module = modules[index]
        if type(module) is Conv2d and index + 2 < count and _fusable(module, *modules[index + 1 : index + 3], input):
            input = _conv_relu_max_pool(module, input)
            index += 3
        elif type(module) is Linear and index + 1 < count and _linear_fusable(module, modules[index + 1], input):
            input = LinearRelu.apply(input, module.weight, module.bias)
            index += 2
        else:
            input = module(input)
            index += 1
    return input


def _fusable(conv, relu, pool, input):
    return (
        type(relu) is ReLU
        and type(pool) is MaxPool2d
        and type(input) is Tensor
        and input.ndim == 4
        and input.dtype == conv.weight.dtype  # else the module's own call names the mismatch
        and not any(m._forward_pre_hooks or m._forward_hooks or m._backward_hooks for m in (conv, relu, pool))
        and _two_by_two(pool)
    )


def _linear_fusable(linear, relu, input):
    return (
        type(relu) is ReLU
        and type(input) is Tensor
        and input.ndim >= 1
        and input.shape[-1] == linear.in_features
        and input.dtype == linear.weight.dtype
        and input.dtype in (np.float32, np.float64)  # the kernel's types
        and (linear.bias is None or linear.bias.dtype == input.dtype)
        and not any(m._forward_pre_hooks or m._forward_hooks or m._backward_hooks for m in (linear, relu))
    )


def _two_by_two(pool):
    pair = lambda value, expected: value in (expected, (expected, expected), [expected, expected])  # noqa: E731
    return (
        pair(pool.kernel_size, 2)
        and pair(pool.stride, 2)
        and pair(pool.padding, 0)
        and pair(pool.dilation, 1)
        and not pool.ceil_mode
        and not pool.return_indices
    )


def _conv_relu_max_pool(conv, input):
    weight, bias = conv.weight, conv.bias
    stride, padding, dilation = conv2d_arguments(
        input.shape, weight.shape, None if bias is None else bias.shape, *conv._arguments(), conv.groups
    )
    return Conv2dReluMaxPool.apply(
        input, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=conv.groups
    )
