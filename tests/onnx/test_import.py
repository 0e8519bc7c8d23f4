"""tm.onnx.load runs ONNX graphs on our ops: PyTorch's exports give PyTorch's outputs, and an imported graph
trains (its gradients are the original module's)."""

import io

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas import nn

from .helpers import exported, flattened, onnx

rng = np.random.default_rng(2)


def floats(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def torch_export(model, *examples, **options):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no PyTorch exports to import")
    model.eval()
    buffer = io.BytesIO()
    torch.onnx.export(model, tuple(torch.from_numpy(e) for e in examples), buffer, dynamo=False, **options)
    return buffer.getvalue()


def torch_outputs(model, *inputs):
    import torch

    with torch.no_grad():
        out = model(*(torch.from_numpy(x) for x in inputs))
    return [o.numpy() for o in flattened(out)]


def torch_models():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no PyTorch exports to import")
    tnn = torch.nn

    class Lenet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.bn1 = tnn.Conv2d(3, 6, 5), tnn.BatchNorm2d(6)
            self.conv2 = tnn.Conv2d(6, 16, 5, padding=2)
            self.pool = tnn.MaxPool2d(2)
            self.fc = tnn.Sequential(tnn.Linear(16 * 7 * 7, 32), tnn.ReLU(), tnn.Linear(32, 10))

        def forward(self, x):
            x = self.pool(torch.relu(self.bn1(self.conv1(x))))
            x = tnn.functional.avg_pool2d(torch.relu(self.conv2(x)), 2, ceil_mode=True)
            return self.fc(torch.flatten(x, 1))

    class TextGRU(tnn.Module):
        def __init__(self):
            super().__init__()
            self.embedding, self.gru = tnn.Embedding(30, 8), tnn.GRU(8, 6, batch_first=True)
            self.head = tnn.Linear(6, 2)

        def forward(self, tokens):
            out, _ = self.gru(self.embedding(tokens))
            return self.head(out[:, -1])

    class TwoLayerLSTM(tnn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = tnn.LSTM(4, 5, num_layers=2, bidirectional=True)

        def forward(self, x):
            return self.lstm(x)

    class SelfAttention(tnn.Module):
        def __init__(self):
            super().__init__()
            self.attention = tnn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x):
            return self.attention(x, x, x)[0]

    torch.manual_seed(0)
    lenet = Lenet()
    lenet.train()
    for _ in range(2):
        lenet(torch.randn(8, 3, 32, 32) * 2 + 1)  # BatchNorm statistics that are not the defaults
    return {
        "mlp": (tnn.Sequential(tnn.Linear(5, 8), tnn.Tanh(), tnn.Linear(8, 3), tnn.Softmax(-1)), [floats(4, 5)]),
        "lenet": (lenet, [floats(2, 3, 32, 32)]),
        "gru": (TextGRU(), [rng.integers(0, 30, (3, 7))]),
        "lstm": (TwoLayerLSTM(), [floats(6, 2, 4)]),
        "multihead_attention": (SelfAttention(), [floats(2, 5, 8)]),
        "gelu_layernorm": (tnn.Sequential(tnn.Linear(4, 6), tnn.GELU(), tnn.LayerNorm(6)), [floats(3, 4)]),
        "conv1d": (tnn.Conv1d(3, 4, 3, padding=1, stride=2), [floats(2, 3, 9)]),
        "conv_transpose2d": (tnn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), [floats(2, 3, 5, 5)]),
        "upsample_nearest": (tnn.Upsample(scale_factor=2), [floats(2, 2, 3, 3)]),
        "upsample_bilinear": (tnn.Upsample(scale_factor=2, mode="bilinear"), [floats(2, 2, 3, 3)]),
        "adaptive_avg_pool2d": (tnn.AdaptiveAvgPool2d(2), [floats(2, 3, 4, 4)]),
        "avg_pool2d": (tnn.AvgPool2d(3, 2, padding=1), [floats(2, 3, 7, 7)]),
        "max_pool1d": (tnn.MaxPool1d(2), [floats(2, 3, 8)]),
        "group_norm": (tnn.GroupNorm(2, 4), [floats(2, 4, 3, 3)]),
        "activations": (
            tnn.Sequential(tnn.Linear(4, 4), tnn.LeakyReLU(0.1), tnn.ELU(), tnn.SiLU(), tnn.Softplus(), tnn.Hardtanh()),
            [floats(3, 4)],
        ),
        "flatten_dropout_log_softmax": (
            tnn.Sequential(tnn.Flatten(), tnn.Dropout(0.3), tnn.Linear(12, 2), tnn.LogSoftmax(-1)),
            [floats(3, 3, 4)],
        ),
    }


PYTORCH_MODELS = [
    "mlp",
    "lenet",
    "gru",
    "lstm",
    "multihead_attention",
    "gelu_layernorm",
    "conv1d",
    "conv_transpose2d",
    "upsample_nearest",
    "upsample_bilinear",
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "max_pool1d",
    "group_norm",
    "activations",
    "flatten_dropout_log_softmax",
]


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")  # PyTorch's exporter's own
@pytest.mark.parametrize("name", PYTORCH_MODELS)
def test_pytorch_export_runs_here_with_pytorchs_outputs(name):
    model, inputs = torch_models()[name]
    imported = tm.onnx.load(torch_export(model, *inputs))
    with tm.no_grad():
        got = flattened(imported(*(tm.tensor(x) for x in inputs)))
    for expected, actual in zip(torch_outputs(model, *inputs), got):
        np.testing.assert_allclose(actual.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_an_imported_pytorch_model_trains_with_pytorchs_gradients():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no PyTorch model to compare with")

    model, (x,) = torch_models()["lenet"]
    # without constant folding PyTorch keeps BatchNorm as its own node instead of merging it into the conv
    imported = tm.onnx.load(torch_export(model, x, do_constant_folding=False))
    weights = floats(2, 10)
    model.eval()
    (torch.from_numpy(weights) * model(torch.from_numpy(x))).sum().backward()
    (tm.tensor(weights) * imported(tm.tensor(x))).sum().backward()
    ours = dict(imported.named_parameters())
    compared = 0
    for name, parameter in model.named_parameters():
        if name in ours:
            np.testing.assert_allclose(ours[name].grad.numpy(), parameter.grad.numpy(), rtol=1e-4, atol=1e-5)
            compared += 1
    assert compared == len(list(model.parameters()))  # Gemm and Conv keep PyTorch's names and layouts
    optimizer = tm.optim.SGD(imported.parameters(), lr=0.1)
    before = imported.conv1.weight.detach().numpy().copy()
    optimizer.step()
    assert not np.allclose(before, imported.conv1.weight.detach().numpy())


class Model(nn.Module):
    """Every kind of weight our export reorders or wraps: a GRU's gates, a BatchNorm, a LayerNorm."""

    def __init__(self):
        super().__init__()
        self.embedding, self.gru = nn.Embedding(30, 8), nn.GRU(8, 6, batch_first=True)
        self.norm, self.head = nn.LayerNorm(6), nn.Linear(6, 3)

    def forward(self, tokens):
        out, _ = self.gru(self.embedding(tokens))
        return self.head(self.norm(out[:, -1]))


def test_our_export_imported_has_the_same_parameters_and_gradients():
    tm.manual_seed(3)
    model = Model()
    tokens = tm.tensor(rng.integers(0, 30, (4, 5)))
    imported = tm.onnx.load(exported(model, tokens))
    assert sorted(dict(imported.named_parameters())) == sorted(dict(model.named_parameters()))
    weights = tm.tensor(floats(4, 3))
    model.eval()
    (model(tokens) * weights).sum().backward()
    (imported(tokens) * weights).sum().backward()
    theirs = dict(model.named_parameters())
    for name, parameter in imported.named_parameters():
        np.testing.assert_allclose(parameter.grad.numpy(), theirs[name].grad.numpy(), rtol=1e-4, atol=1e-6)


def test_a_graph_written_with_the_onnx_helper_api_runs():
    """No PyTorch needed: a small graph made here, run here and (when installed) in onnxruntime."""
    h = onnx.helper
    weight = onnx.numpy_helper.from_array(floats(3, 4), "w")
    nodes = [
        h.make_node("MatMul", ["x", "w"], ["xw"]),
        h.make_node("Relu", ["xw"], ["r"]),
        h.make_node("ReduceMean", ["r", "axes"], ["y"], keepdims=0),
    ]
    axes = onnx.numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
    graph = h.make_graph(
        nodes,
        "g",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", 3])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["n"])],
        initializer=[weight, axes],
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 18)])
    x = floats(5, 3)
    expected = np.maximum(x @ onnx.numpy_helper.to_array(weight), 0).mean(axis=1)
    np.testing.assert_allclose(tm.onnx.load(model.SerializeToString())(tm.tensor(x)).detach().numpy(), expected, 1e-6)


def test_inputs_are_checked_against_the_graphs_signature():
    imported = tm.onnx.load(exported(nn.Linear(3, 2), tm.randn(2, 3), input_names=["x"], dynamic_axes={"x": [0]}))
    with pytest.raises(ValueError, match=r"'x' must have shape \('\?', 3\), got \(2, 4\)"):
        imported(tm.randn(2, 4))
    with pytest.raises(TypeError, match="'x' must be float32, got float64"):
        imported(tm.randn(2, 3, dtype=tm.float64))
    with pytest.raises(ValueError, match=r"takes 1 inputs \['x'\], got 2"):
        imported(tm.randn(2, 3), tm.randn(2, 3))
