"""Whole custom models export: residual connections, two inputs, two outputs, a GRU text model, a LeNet with
BatchNorm; export's own checks (it refuses what it cannot write, and names it)."""

import io

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas import nn
from tinygrad_maas.nn import functional as F

from .helpers import assert_runtime_matches, exported, onnx

rng = np.random.default_rng(1)


def floats(*shape):
    return tm.tensor(rng.standard_normal(shape).astype(np.float32))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.first, self.second = nn.Linear(6, 6), nn.Linear(6, 6)

    def forward(self, x):
        return x + self.second(F.relu(self.first(x)))


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.image = nn.Conv2d(1, 2, 3)
        self.extra = nn.Linear(3, 2 * 4 * 4)

    def forward(self, image, extra):
        return self.image(image).flatten(1) * self.extra(extra).sigmoid()


class TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.classes, self.box = nn.Linear(5, 8), nn.Linear(8, 3), nn.Linear(8, 4)

    def forward(self, x):
        h = F.gelu(self.body(x))
        return F.log_softmax(self.classes(h), dim=-1), self.box(h).tanh()


class TextGRU(nn.Module):
    """The gru benchmark's model: embedding, GRU, a classifier on the last step."""

    def __init__(self):
        super().__init__()
        self.embedding, self.gru, self.head = nn.Embedding(50, 8), nn.GRU(8, 6, batch_first=True), nn.Linear(6, 2)

    def forward(self, tokens):
        out, _ = self.gru(self.embedding(tokens))
        return self.head(out[:, -1])


class LeNetBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 6, 5), nn.BatchNorm2d(6)
        self.conv2, self.bn2 = nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16)
        self.fc = nn.Sequential(nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(x.view(x.size(0), -1))


def trained(model, *inputs):
    """A few training-mode passes, so BatchNorm statistics are not the defaults."""
    for _ in range(2):
        model(*inputs)
    return model


def test_residual_connection():
    assert_runtime_matches(Residual(), floats(4, 6), others=[(floats(9, 6),)], dynamic_axes={"input": [0]})


def test_two_inputs():
    model = TwoInputs()
    names = ["image", "extra"]
    dynamic = {"image": {0: "n"}, "extra": {0: "n"}}
    others = [(floats(5, 1, 6, 6), floats(5, 3))]
    examples = floats(2, 1, 6, 6), floats(2, 3)
    assert_runtime_matches(model, *examples, others=others, input_names=names, dynamic_axes=dynamic)


def test_two_outputs_with_their_names():
    data = assert_runtime_matches(TwoOutputs(), floats(3, 5), output_names=["classes", "box"])
    assert [o.name for o in onnx.load_from_string(data).graph.output] == ["classes", "box"]


def test_gru_text_model_with_dynamic_batch_and_length():
    tokens = tm.tensor(rng.integers(0, 50, (4, 7)))
    longer = tm.tensor(rng.integers(0, 50, (2, 11)))
    dynamic = {"tokens": {0: "batch", 1: "length"}}
    assert_runtime_matches(TextGRU(), tokens, others=[(longer,)], input_names=["tokens"], dynamic_axes=dynamic)


def test_lenet_with_batchnorm():
    model = trained(LeNetBN(), floats(8, 3, 32, 32))
    assert_runtime_matches(model, floats(2, 3, 32, 32), others=[(floats(3, 3, 32, 32),)], dynamic_axes={"input": [0]})


def test_batchnorm_is_one_onnx_node_and_linear_a_gemm():
    model = trained(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)), floats(6, 3))
    ops = [n.op_type for n in onnx.load_from_string(exported(model, floats(2, 3))).graph.node]
    assert ops == ["Gemm", "BatchNormalization", "Identity"]  # the Identity names the graph's output


def test_initializers_carry_the_state_dict_names():
    graph = onnx.load_from_string(exported(Residual(), floats(2, 6))).graph
    assert sorted(i.name for i in graph.initializer) == ["first.bias", "first.weight", "second.bias", "second.weight"]


def test_export_restores_training_mode_and_writes_a_file(tmp_path):
    model = Residual()
    model.train()
    tm.onnx.export(model, (floats(2, 6),), tmp_path / "m.onnx")
    assert model.training
    onnx.checker.check_model(str(tmp_path / "m.onnx"))


def test_an_op_without_an_onnx_form_is_named():
    class Loss(nn.Module):
        def forward(self, x):
            return F.cross_entropy(x, tm.tensor([0, 1]))

    with pytest.raises(ValueError, match="op CrossEntropy .*has no ONNX form"):
        exported(Loss(), floats(2, 5))


def test_a_value_frozen_at_trace_time_is_caught_not_written():
    """sort's order is computed outside the op layer: the traced graph would hold this input's order as a
    constant and silently compute something else for other inputs."""

    class Sorter(nn.Module):
        def forward(self, x):
            return x.sort(dim=1).values

    with pytest.raises(ValueError, match="computes something else on other inputs"):
        exported(Sorter(), floats(2, 5))


def test_a_boolean_mask_index_is_refused_with_the_reason():
    class Positive(nn.Module):
        def forward(self, x):
            return x[x > 0]

    with pytest.raises(ValueError, match="boolean mask"):
        exported(Positive(), floats(2, 5))


def test_a_size_fixed_at_trace_time_is_an_error_naming_the_axes():
    """Zeros made from x.shape[0], a Python number at trace time, cannot follow a dynamic batch."""

    class FixedBatch(nn.Module):
        def forward(self, x):
            return x + tm.ones(x.shape[0], 4)

    with pytest.raises(ValueError, match=r"does not follow its dynamic axes \{'input'"):
        exported(FixedBatch(), floats(3, 4), dynamic_axes={"input": [0]})


def test_dynamic_axes_a_model_cannot_take_are_warned_about_not_checked():
    class FixedSize(nn.Module):
        def forward(self, x):
            return x + tm.ones(3, 4)

    with pytest.warns(UserWarning, match="the model itself does not run"):
        exported(FixedSize(), floats(3, 4), dynamic_axes={"input": [0]})


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="opset_version must be 17"):
        exported(Residual(), floats(2, 6), opset_version=13)
    with pytest.raises(ValueError, match="expected 1 distinct input names"):
        exported(Residual(), floats(2, 6), input_names=["a", "b"])
    with pytest.raises(ValueError, match="neither inputs nor outputs"):
        exported(Residual(), floats(2, 6), dynamic_axes={"x": [0]})
    with pytest.raises(TypeError, match="must be an nn.Module"):
        tm.onnx.export(lambda x: x, (floats(2),), io.BytesIO())


def test_opset_17_writes_reduction_axes_as_attributes():
    class Centre(nn.Module):
        def forward(self, x):
            return x - x.mean(1, keepdim=True)

    assert_runtime_matches(Centre(), floats(3, 4), opset_version=17)
