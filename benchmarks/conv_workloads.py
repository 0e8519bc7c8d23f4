"""The conv2d shapes of the `cnn` reference workload (DESIGN.md), forward + backward, float32:

    layer 1: (64, 1, 28, 28) -> 32 channels, 3x3
    layer 2: (64, 32, 13, 13) -> 64 channels, 3x3

Both frameworks' steps are the same function (step), given their functional module.
"""

import numpy as np

CNN_LAYERS = {
    "cnn_layer1": ((64, 1, 28, 28), (32, 1, 3, 3)),
    "cnn_layer2": ((64, 32, 13, 13), (64, 32, 3, 3)),
}


def arrays(layer, seed=0):
    rng = np.random.default_rng(seed)
    input_shape, weight_shape = CNN_LAYERS[layer]
    return (
        rng.standard_normal(input_shape).astype(np.float32),
        (rng.standard_normal(weight_shape) * 0.1).astype(np.float32),
        np.zeros(weight_shape[0], dtype=np.float32),
    )


def step(functional, x, w, b):
    """conv2d forward, a sum as the loss, backward into input, weight and bias (F is either framework's)."""
    x.grad = w.grad = b.grad = None
    functional.conv2d(x, w, b).sum().backward()
