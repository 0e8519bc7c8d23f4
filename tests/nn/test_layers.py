"""Layers: gradients of inputs and parameters (float64 gradcheck), PyTorch's defaults and values, and
convergence on small real problems."""

import math

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn
import tinygrad_maas.nn.functional as F
from tests.gradients import check_gradients


def _check_layer(layer, input_shape, integer_input=None):
    """gradcheck of a layer's output w.r.t. its input and every parameter, in float64."""
    layer.double()
    params = list(layer.parameters())
    if integer_input is not None:
        return check_gradients(lambda *ps: layer(integer_input), tuple(params))
    x = tm.tensor(np.random.default_rng(0).standard_normal(input_shape), requires_grad=True)
    return check_gradients(lambda x, *ps: layer(x), (x, *params))


LAYERS = {
    "linear": (lambda: nn.Linear(3, 4), (5, 3)),
    "linear_no_bias_3d_input": (lambda: nn.Linear(3, 2, bias=False), (2, 4, 3)),
    "conv1d": (lambda: nn.Conv1d(2, 3, 3, stride=2, padding=1), (2, 2, 7)),
    "conv2d": (lambda: nn.Conv2d(2, 4, 3, padding="same", groups=2), (2, 2, 5, 4)),
    "max_pool2d": (lambda: nn.MaxPool2d(2), (1, 2, 4, 6)),
    "max_pool1d": (lambda: nn.MaxPool1d(3, stride=2), (1, 2, 7)),
    "avg_pool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1), (1, 2, 5, 5)),
    "adaptive_avg_pool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)), (1, 2, 5, 7)),
    "flatten": (lambda: nn.Flatten(), (2, 3, 4)),
    "unflatten": (lambda: nn.Unflatten(1, (2, 3)), (4, 6)),
    "relu": (lambda: nn.ReLU(), (3, 4)),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), (3, 4)),
    "elu": (lambda: nn.ELU(), (3, 4)),
    "silu": (lambda: nn.SiLU(), (3, 4)),
    "softplus": (lambda: nn.Softplus(beta=2.0), (3, 4)),
    "sigmoid": (lambda: nn.Sigmoid(), (3, 4)),
    "tanh": (lambda: nn.Tanh(), (3, 4)),
    "softmax": (lambda: nn.Softmax(dim=1), (3, 4)),
    "log_softmax": (lambda: nn.LogSoftmax(dim=-1), (3, 4)),
    "identity": (lambda: nn.Identity(), (3, 4)),
    "dropout_eval": (lambda: nn.Dropout(0.5).eval(), (3, 4)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer_gradients(name):
    tm.manual_seed(0)
    build, shape = LAYERS[name]
    assert _check_layer(build(), shape)


def test_embedding_weight_gradient():
    tm.manual_seed(0)
    assert _check_layer(nn.Embedding(6, 3), None, integer_input=tm.tensor([[1, 5, 1], [0, 2, 2]]))


def test_linear_and_conv_initialisation_follow_pytorch_bounds():
    tm.manual_seed(0)
    linear = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    assert linear.weight.shape == (50, 100) and linear.bias.shape == (50,)
    assert np.abs(linear.weight.array).max() <= bound and np.abs(linear.weight.array).max() > 0.9 * bound
    assert np.abs(linear.bias.array).max() <= bound
    conv = nn.Conv2d(8, 16, 3)
    fan_in = 8 * 3 * 3
    assert conv.weight.shape == (16, 8, 3, 3)
    assert np.abs(conv.weight.array).max() <= 1 / math.sqrt(fan_in)
    assert linear.weight.dtype == tm.float32


def test_embedding_init_and_padding_row():
    tm.manual_seed(0)
    embedding = nn.Embedding(1000, 16, padding_idx=3)
    assert embedding.weight.array[3].tolist() == [0.0] * 16
    assert abs(embedding.weight.array.std() - 1.0) < 0.05  # N(0, 1), as PyTorch
    assert embedding(tm.tensor([[3, 4]])).shape == (1, 2, 16)


def test_dropout_scales_kept_elements_in_training_and_is_the_identity_in_eval():
    tm.manual_seed(0)
    layer = nn.Dropout(0.25)
    out = layer(tm.ones(10000))
    kept = out.array[out.array != 0]
    assert np.allclose(kept, 1 / 0.75)
    assert abs((out.array == 0).mean() - 0.25) < 0.02
    layer.eval()
    assert layer(tm.ones(3)).tolist() == [1.0, 1.0, 1.0]


def test_activation_values_match_pytorch():
    x = tm.tensor([-1.0, 0.0, 2.0])
    assert nn.LeakyReLU()(x).tolist() == pytest.approx([-0.01, 0.0, 2.0])
    assert nn.ELU()(x).tolist() == pytest.approx([math.exp(-1) - 1, 0.0, 2.0])
    assert nn.SiLU()(x).tolist() == pytest.approx([-0.26894142, 0.0, 1.7615942], rel=1e-6)
    assert nn.Softplus()(x).tolist() == pytest.approx([0.31326169, 0.69314718, 2.126928], rel=1e-6)
    assert nn.Softplus(threshold=1.0)(x).tolist()[2] == 2.0  # linear tail above the threshold


def test_layer_input_errors():
    with pytest.raises(ValueError, match="expected input with last dimension 3, got shape"):
        nn.Linear(3, 2)(tm.ones(2, 4))
    with pytest.raises(ValueError, match="must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="give dim"):
        nn.Softmax()(tm.ones(2))


def test_an_mlp_learns_xor():
    tm.manual_seed(0)
    x = tm.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = tm.tensor([0, 1, 1, 0])
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    optimizer = tm.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(200):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05
    assert model(x).argmax(dim=1).tolist() == [0, 1, 1, 0]


def test_a_tiny_cnn_tells_vertical_from_horizontal_bars():
    tm.manual_seed(0)
    rng = np.random.default_rng(0)
    images = np.zeros((64, 1, 8, 8), dtype=np.float32)
    labels = rng.integers(0, 2, 64)
    for image, label, position in zip(images, labels, rng.integers(1, 7, 64)):
        if label:
            image[0, :, position] = 1.0  # a vertical bar
        else:
            image[0, position, :] = 1.0  # a horizontal bar
    images += rng.normal(0, 0.1, images.shape).astype(np.float32)
    x, y = tm.tensor(images), tm.tensor(labels)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 2))
    optimizer = tm.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(60):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    assert (model(x).argmax(dim=1).array == labels).mean() == 1.0
