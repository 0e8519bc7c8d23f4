"""Seeing what autograd does: to_dot draws the graph, trace narrates backward, profile times it."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

import tinygrad_maas as tm
from tinygrad_maas import nn


def three_nodes():
    x = tm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = tm.tensor(2.0, requires_grad=True)
    y = (x * w).sum()
    return x, w, y


def test_to_dot_draws_ops_shapes_and_the_gradients_that_reach_them():
    x, w, y = three_nodes()
    assert tm.autograd.to_dot(y, gradients=True) == (
        "digraph autograd {\n"
        '  node [fontname="monospace", fontsize=10];\n'
        '  n0 [shape=box, label="SumBackward (y)\\nout () float32\\ngrad in () norm 1"];\n'
        '  n1 [shape=box, label="MulBackward\\nout (3,) float32\\ngrad in (3,) norm 1.732"];\n'
        '  n2 [shape=ellipse, label="w\\n() float32\\ngrad in () norm 6"];\n'
        '  n3 [shape=ellipse, label="x\\n(3,) float32\\ngrad in (3,) norm 3.464"];\n'
        "  n1 -> n0;\n"
        "  n3 -> n1;\n"
        "  n2 -> n1;\n"
        "}\n"
    )
    assert x.grad is None and w.grad is None  # drawing gradients touches no .grad


def test_to_dot_after_backward_shows_the_leaves_grad():
    x, w, y = three_nodes()
    y.backward()
    dot = tm.autograd.to_dot(y)
    assert '"x\\n(3,) float32\\ngrad (3,) norm 3.464"' in dot and "grad in" not in dot


def test_to_dot_of_a_tensor_outside_any_graph_says_so():
    with pytest.raises(ValueError, match="no grad_fn"):
        tm.autograd.to_dot(tm.tensor([1.0]))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_render_writes_an_svg(tmp_path):
    _, _, y = three_nodes()
    path = tm.autograd.render(tm.autograd.to_dot(y), tmp_path / "graph.svg")
    assert "<svg" in path.read_text()


def test_render_without_graphviz_names_what_to_install(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt install graphviz"):
        tm.autograd.render("digraph {}", "graph.svg")


def test_trace_narrates_a_three_node_backward(capsys):
    x, w, y = three_nodes()
    with tm.autograd.trace():
        y.backward()
    assert capsys.readouterr().out == (
        "[1] SumBackward (made y): gradient in shape () 1.\n"
        "    rule: y = sum_i x_i over `axes`. dy/dx_i = 1: every input element gets the output gradient.\n"
        "    -> input 0, MulBackward: shape (3,) [1., 1., 1.]\n"
        "[2] MulBackward: gradient in shape (3,) [1., 1., 1.]\n"
        "    rule: z = a * b. dz/da = b, dz/db = a.\n"
        "    unbroadcast: summed (3,) over axes (0,) down to ()\n"
        "    -> input 0, x: shape (3,) [2., 2., 2.]\n"
        "    -> input 1, w: shape () 6.\n"
        "[3] AccumulateGrad: shape () 6. added into w.grad\n"
        "[4] AccumulateGrad: shape (3,) [2., 2., 2.] added into x.grad\n"
    )


def test_trace_summarizes_large_gradients_and_stops_after_the_block(capsys):
    big = tm.ones(10, requires_grad=True)
    with tm.autograd.trace():
        (big * 3).sum().backward()
    assert "gradient in shape (10,), mean 1, norm 3.162" in capsys.readouterr().out
    (big * 3).sum().backward()
    assert capsys.readouterr().out == ""


def small_convnet_step():
    tm.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 13 * 13, 10))
    optimizer = tm.optim.SGD(model.parameters(), lr=0.1)
    x, y = tm.randn(64, 1, 28, 28), tm.randint(0, 10, (64,))

    def step():
        optimizer.zero_grad()
        tm.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    return step


def test_profile_names_every_op_and_its_totals_add_up_to_the_step():
    step = small_convnet_step()
    step()  # compile and warm up
    ratios = []
    for _ in range(3):  # the best of three: a step is a few milliseconds on a shared machine
        with tm.profile() as prof:
            start = time.perf_counter()
            step()
            wall = time.perf_counter() - start
        ratios.append(prof.key_averages().total_seconds() / wall)
    names = {(row[0], row[1]) for row in prof.key_averages().rows}
    # Sequential runs Conv2d, ReLU, MaxPool2d as one op (nn/fusion.py): the profile shows what ran
    for op in ("Conv2dReluMaxPool", "Reshape", "Linear", "CrossEntropy"):
        assert (op, "forward") in names and (op + "Backward", "backward") in names
    assert {("SGD.step", "optimizer"), ("SGD.zero_grad", "optimizer"), ("autograd engine", "backward")} <= names
    assert ("Sequential", "module") in names
    assert min(abs(1 - r) for r in ratios) < 0.10, ratios
    table = prof.key_averages().table()
    assert table.splitlines()[0].split() == ["op", "kind", "calls", "total", "ms", "mean", "us", "%", "of", "block"]


def test_profile_counts_calls_and_writes_a_chrome_trace(tmp_path):
    x = tm.ones(3, requires_grad=True)
    with tm.profile() as prof:
        for _ in range(4):
            (x * 2).sum().backward()
    rows = {(name, kind): calls for name, kind, calls, _ in prof.key_averages().rows}
    assert rows[("Mul", "forward")] == 4 and rows[("MulBackward", "backward")] == 4
    prof.export_chrome_trace(tmp_path / "trace.json")
    events = json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
    assert {e["name"] for e in events} >= {"Mul", "MulBackward", "Sum", "SumBackward"}
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in events)


@pytest.mark.skipif(tm.backend.current() != "numba", reason="compilation is the numba backend's")
def test_profile_times_numba_compilation_apart_from_running(monkeypatch):
    import numba

    @numba.njit(cache=False)
    def freshly_compiled(a):
        return a * 2.0

    class UsesAFreshKernel(tm.autograd.Function):
        """y = 2x.   dy/dx = 2."""

        @staticmethod
        def forward(ctx, x):
            return freshly_compiled(x)

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    with tm.profile() as prof:
        UsesAFreshKernel.apply(tm.ones(3))
    rows = {(name, kind): total for name, kind, _, total in prof.key_averages().rows}
    compile_seconds = rows[("compile freshly_compiled", "compile")]
    assert compile_seconds > 0.01  # compiling takes tens of milliseconds at least
    assert rows[("UsesAFreshKernel", "forward")] < compile_seconds  # running it, apart, is quick


def test_debug_environment_variable_prints_the_table_at_exit():
    program = "import tinygrad_maas as tm\nx = tm.ones(2, requires_grad=True)\n(x * x).sum().backward()\n"
    environment = dict(os.environ, TINYGRAD_MAAS_DEBUG="1")
    result = subprocess.run(
        [sys.executable, "-c", program], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "MulBackward" in result.stderr and "in ops of" in result.stderr


def test_debug_environment_variable_must_be_a_number():
    environment = dict(os.environ, TINYGRAD_MAAS_DEBUG="yes")
    result = subprocess.run(
        [sys.executable, "-c", "import tinygrad_maas"], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "TINYGRAD_MAAS_DEBUG must be a number" in result.stderr
