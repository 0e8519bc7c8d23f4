"""tm.jit.trace: a user's own Module recorded as a graph, saved as JSON + safetensors, loaded and served with
no code of the user's."""

import json
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas import nn
from tinygrad_maas.nn import functional as F

rng = np.random.default_rng(7)


def floats(*shape):
    return tm.tensor(rng.standard_normal(shape).astype(np.float32))


class Gated(nn.Module):
    """A module only its own code describes: two branches, a gate, a normalisation."""

    def __init__(self):
        super().__init__()
        self.value, self.gate = nn.Linear(5, 8), nn.Linear(5, 8)
        self.norm, self.head = nn.BatchNorm1d(8), nn.Linear(8, 3)

    def forward(self, x):
        h = self.value(x) * self.gate(x).sigmoid()
        return F.log_softmax(self.head(F.relu(self.norm(h))), dim=1)


def trained_gated():
    tm.manual_seed(0)
    model = Gated()
    model(floats(16, 5))  # BatchNorm statistics that are not the defaults
    return model.eval()


def outputs(module, x):
    with tm.no_grad():
        return module(x).numpy()


def test_the_traced_module_computes_the_model_for_any_batch_size():
    model = trained_gated()
    traced = tm.jit.trace(model, floats(4, 5))
    for batch in (1, 4, 9):
        x = floats(batch, 5)
        np.testing.assert_allclose(outputs(traced, x), outputs(model, x), rtol=1e-6, atol=1e-7)


def test_saved_as_json_and_safetensors_and_loaded_without_the_class(tmp_path):
    model = trained_gated()
    tm.jit.trace(model, floats(4, 5)).save(tmp_path / "gated")
    assert sorted(p.name for p in (tmp_path / "gated").iterdir()) == ["architecture.json", "weights.safetensors"]
    architecture = json.loads((tmp_path / "gated" / "architecture.json").read_text())["architecture"]
    assert architecture["type"] == "tinygrad_maas.graph"
    assert [n["op"] for n in architecture["nodes"]][:3] == ["Gemm", "Gemm", "Sigmoid"]
    x = floats(3, 5)
    np.save(tmp_path / "x.npy", x.numpy())
    script = (  # a fresh interpreter that has never seen the Gated class
        "import numpy as np, sys, tinygrad_maas as tm\n"
        "m = tm.jit.load(sys.argv[1])\n"
        "with tm.no_grad(): np.save(sys.argv[2], m(tm.tensor(np.load(sys.argv[3]))).numpy())\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "gated"), str(tmp_path / "y.npy"), str(tmp_path / "x.npy")],
        check=True,
    )
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), outputs(model, x), rtol=1e-6, atol=1e-7)


def test_the_command_line_predicts_with_a_traced_model(tmp_path):
    """A fresh `tinygrad-maas predict`: the saved graph's architecture type is found without importing tm.jit
    first."""
    model = trained_gated()
    tm.jit.trace(model, floats(4, 5)).save(tmp_path / "gated")
    x = floats(3, 5)
    np.save(tmp_path / "x.npy", x.numpy())
    result = subprocess.run(
        [sys.executable, "-m", "tinygrad_maas", "predict", str(tmp_path / "gated"), str(tmp_path / "x.npy")],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [[float(v) for v in line.split()] for line in result.stdout.splitlines()]
    np.testing.assert_allclose(rows, outputs(model, x), rtol=1e-6, atol=1e-7)


def test_the_traced_module_trains_with_the_originals_gradients():
    model = trained_gated()
    traced = tm.jit.trace(model, floats(4, 5))
    x, weights = floats(6, 5), floats(6, 3)
    (model(x) * weights).sum().backward()
    (traced(x) * weights).sum().backward()
    theirs = dict(model.named_parameters())
    assert sorted(dict(traced.named_parameters())) == sorted(theirs)
    for name, parameter in traced.named_parameters():
        np.testing.assert_allclose(parameter.grad.numpy(), theirs[name].grad.numpy(), rtol=1e-5, atol=1e-6)


def test_check_trace_refuses_a_trace_that_only_fits_its_example():
    class TopHalf(nn.Module):
        def forward(self, x):
            return x.sort(dim=1).values[:, 2:]

    with pytest.raises(ValueError, match="computes something else on other inputs"):
        tm.jit.trace(TopHalf(), floats(3, 4))


def test_a_tampered_graph_is_refused_with_the_field(tmp_path):
    tm.jit.trace(trained_gated(), floats(4, 5)).save(tmp_path / "gated")
    path = tmp_path / "gated" / "architecture.json"
    description = json.loads(path.read_text())
    description["architecture"]["nodes"][0]["op"] = "PythonOp"
    path.write_text(json.dumps(description))
    with pytest.raises(ValueError, match="uses the operator PythonOp, which tm.onnx does not run"):
        tm.jit.load(tmp_path / "gated")
    description["architecture"]["nodes"][0]["op"] = "Gemm"
    description["architecture"]["weights"]["head.weight"]["shape"] = [1000, 1000]
    path.write_text(json.dumps(description))
    with pytest.raises(ValueError, match="disagree: head.weight"):
        tm.jit.load(tmp_path / "gated")


def test_load_refuses_a_saved_model_that_is_not_a_graph(tmp_path):
    from tinygrad_maas.nn.architecture import save_model

    save_model(nn.Sequential(nn.Linear(2, 2)), tmp_path / "plain")
    with pytest.raises(ValueError, match="not a traced graph"):
        tm.jit.load(tmp_path / "plain")
