"""Fusion in nn.Sequential: a run of modules computed by one op that gives the same result faster.

Two runs are fused today, the block of most convolutional networks and the hidden layer of most MLPs:

    Conv2d, ReLU, MaxPool2d(2)   ->   ops/conv_fused.py: Conv2dReluMaxPool
    Linear, ReLU                 ->   ops/linear.py: LinearRelu

A run is fused only when its modules are exactly those classes (a subclass may have its own forward), none
has a hook (a hook must see its module's own input and output), the pool is 2 x 2 at stride 2 without
padding, dilation, ceil_mode or indices, and the input is one the first module takes as it is (a batched
(N, C, H, W) tensor for the convolution). Values and gradients are those of the modules run one by one
(tests/nn/test_fusion.py). A profile or trace shows the one op; set
`tm.nn.fusion.enabled = False` to run every module on its own.
"""

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
        kind = type(module)
        if kind is Conv2d and index + 2 < count and _fusable_block(module, *modules[index + 1 : index + 3], input):
            input = _conv_relu_max_pool(module, input)
            index += 3
        elif kind is Linear and index + 1 < count and _fusable_pair(module, modules[index + 1], input):
            input = LinearRelu.apply(input, module.weight, module.bias)
            index += 2
        else:
            input = module(input)
            index += 1
    return input


def _hooked(*modules):
    """Whether any of the modules has a hook: a hook must see its own module's input and output."""
    return any(m._forward_pre_hooks or m._forward_hooks or m._backward_hooks for m in modules)


def _fusable_block(conv, relu, pool, input):
    return (
        type(relu) is ReLU
        and type(pool) is MaxPool2d
        and type(input) is Tensor
        and input.ndim == 4
        and not _hooked(conv, relu, pool)
        and _two_by_two(pool)
    )


def _fusable_pair(linear, relu, input):
    """A Linear and a ReLU on an input F.linear accepts as it is (anything else goes to the module, whose
    checks name the problem)."""
    weight = linear.weight
    return (
        type(relu) is ReLU
        and type(input) is Tensor
        and input.ndim >= 1
        and input.shape[-1] == weight.shape[1]
        and input.dtype == weight.dtype
        and not _hooked(linear, relu)
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
    if input.dtype != weight.dtype:  # F.conv2d's own message
        return conv(input)
    stride, padding, dilation = conv2d_arguments(
        input.shape, weight.shape, None if bias is None else bias.shape, *conv._arguments(), conv.groups
    )
    return Conv2dReluMaxPool.apply(
        input, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=conv.groups
    )
