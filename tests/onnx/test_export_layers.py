"""Every layer exports: onnx.checker passes (export runs it) and onnxruntime's output equals ours (1e-5)."""

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas import nn

from .helpers import assert_runtime_matches

rng = np.random.default_rng(0)


def images(*shape):
    return tm.tensor(rng.standard_normal(shape).astype(np.float32))


def tokens(*shape, high=20):
    return tm.tensor(rng.integers(0, high, shape))


def trained_batchnorm(layer, shape):
    """Running statistics that are not the defaults, so the export must carry them."""
    for _ in range(3):
        layer(images(*shape) * 3 + 1)
    return layer


LAYERS = {
    "linear": (lambda: nn.Linear(5, 3), lambda n: images(n, 5)),
    "linear_3d_input": (lambda: nn.Linear(5, 3), lambda n: images(n, 4, 5)),
    "linear_without_bias": (lambda: nn.Linear(5, 3, bias=False), lambda n: images(n, 5)),
    "conv2d": (lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), lambda n: images(n, 3, 9, 9)),
    "conv2d_groups_dilation": (lambda: nn.Conv2d(4, 6, 3, dilation=2, groups=2), lambda n: images(n, 4, 9, 9)),
    "conv1d": (lambda: nn.Conv1d(3, 4, 3, padding=1), lambda n: images(n, 3, 10)),
    "max_pool2d": (lambda: nn.MaxPool2d(2), lambda n: images(n, 2, 8, 8)),
    "max_pool2d_ceil_mode": (lambda: nn.MaxPool2d(3, 2, ceil_mode=True), lambda n: images(n, 2, 8, 8)),
    "avg_pool2d": (lambda: nn.AvgPool2d(3, 2, padding=1), lambda n: images(n, 2, 8, 8)),
    "adaptive_avg_pool2d_global": (lambda: nn.AdaptiveAvgPool2d(1), lambda n: images(n, 2, 5, 5)),
    "adaptive_avg_pool2d_uneven": (lambda: nn.AdaptiveAvgPool2d((2, 3)), lambda n: images(n, 2, 5, 7)),
    "batchnorm1d": (lambda: trained_batchnorm(nn.BatchNorm1d(4), (8, 4)), lambda n: images(n, 4)),
    "batchnorm2d": (lambda: trained_batchnorm(nn.BatchNorm2d(3), (8, 3, 4, 4)), lambda n: images(n, 3, 4, 4)),
    "layernorm": (lambda: nn.LayerNorm(6), lambda n: images(n, 2, 6)),
    "groupnorm": (lambda: nn.GroupNorm(2, 4), lambda n: images(n, 4, 3, 3)),
    "embedding": (lambda: nn.Embedding(20, 4), lambda n: tokens(n, 7)),
    "flatten": (lambda: nn.Flatten(), lambda n: images(n, 2, 3, 4)),
    "dropout_in_eval": (lambda: nn.Dropout(0.5), lambda n: images(n, 6)),
    "relu": (lambda: nn.ReLU(), lambda n: images(n, 6)),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), lambda n: images(n, 6)),
    "elu": (lambda: nn.ELU(), lambda n: images(n, 6)),
    "gelu": (lambda: nn.GELU(), lambda n: images(n, 6)),
    "gelu_tanh": (lambda: nn.GELU(approximate="tanh"), lambda n: images(n, 6)),
    "silu": (lambda: nn.SiLU(), lambda n: images(n, 6)),
    "tanh": (lambda: nn.Tanh(), lambda n: images(n, 6)),
    "sigmoid": (lambda: nn.Sigmoid(), lambda n: images(n, 6)),
    "softplus": (lambda: nn.Softplus(), lambda n: images(n, 6) * 30),
    "softmax": (lambda: nn.Softmax(dim=1), lambda n: images(n, 6)),
    "log_softmax": (lambda: nn.LogSoftmax(dim=-1), lambda n: images(n, 6)),
    "gru": (lambda: nn.GRU(4, 5, batch_first=True), lambda n: images(n, 6, 4)),
    "gru_two_layers_bidirectional": (
        lambda: nn.GRU(4, 5, num_layers=2, bidirectional=True),
        lambda n: images(6, n, 4),
        1,  # sequence first: the batch is axis 1
    ),
    "lstm": (lambda: nn.LSTM(4, 5, batch_first=True), lambda n: images(n, 6, 4)),
    "lstm_two_layers": (lambda: nn.LSTM(4, 5, num_layers=2), lambda n: images(6, n, 4), 1),
    "rnn": (lambda: nn.RNN(4, 5, batch_first=True), lambda n: images(n, 6, 4)),
    "multihead_attention": (lambda: SelfAttention(), lambda n: images(n, 5, 8)),
    "conv_transpose2d": (
        lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1),
        lambda n: images(n, 3, 5, 5),
    ),
    "upsample_nearest": (lambda: nn.Upsample(scale_factor=2), lambda n: images(n, 2, 3, 3)),
    "upsample_bilinear": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), lambda n: images(n, 2, 3, 3)),
    "max_pool1d": (lambda: nn.MaxPool1d(2), lambda n: images(n, 2, 8)),
    "dropout2d_in_eval": (lambda: nn.Dropout2d(), lambda n: images(n, 2, 3, 3)),
    "unflatten": (lambda: nn.Unflatten(1, (2, 3)), lambda n: images(n, 6)),
    "rnn_cell": (lambda: FirstOutput(nn.RNNCell(4, 5)), lambda n: images(n, 4)),
    "gru_cell": (lambda: FirstOutput(nn.GRUCell(4, 5)), lambda n: images(n, 4)),
    "lstm_cell": (lambda: FirstOutput(nn.LSTMCell(4, 5)), lambda n: images(n, 4)),
    "transformer_decoder_layer": (lambda: SelfDecoder(), lambda n: images(n, 5, 8)),
    "transformer": (lambda: CausalTransformer(), lambda n: images(n, 5, 8)),
    "transformer_encoder_layer": (
        lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True),
        lambda n: images(n, 5, 8),
    ),
}


class FirstOutput(nn.Module):
    """A cell's new state (an LSTMCell's h), from a zero state the cell makes for the batch it is given."""

    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, x):
        out = self.cell(x)
        return out[0] if isinstance(out, tuple) else out


class SelfDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)

    def forward(self, x):
        return self.layer(x, x)


class CausalTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True)

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        return self.transformer(x, x, tgt_mask=mask)


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        return self.attention(x, x, x)[0]


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_exports_and_onnxruntime_agrees(name):
    make, inputs, batch_axis = (*LAYERS[name], 0)[:3]
    tm.manual_seed(0)
    model = make()
    example = inputs(3)
    dynamic = {"x": {batch_axis: "n"}}
    assert_runtime_matches(model, example, others=[(inputs(5),)], input_names=["x"], dynamic_axes=dynamic)
