"""Export a module, check it with onnx.checker (export does) and run it in onnxruntime."""

import io

import numpy as np
import pytest

import tinygrad_maas as tm

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed (pip install 'tinygrad_maas[onnx]')")


def runtime():
    return pytest.importorskip("onnxruntime", reason="onnxruntime (a dev extra) is not installed")


def exported(model, *examples, **options):
    """The .onnx bytes of model traced on examples."""
    buffer = io.BytesIO()
    tm.onnx.export(model, examples, buffer, **options)
    return buffer.getvalue()


def ours(model, *inputs):
    model.eval()
    with tm.no_grad():
        out = model(*inputs)
    return [o.numpy() for o in flattened(out)]


def flattened(out):
    """Nested tuples of outputs in order (LSTM's (out, (h, c))), as export writes them."""
    if isinstance(out, (tuple, list)):
        return [t for part in out for t in flattened(part)]
    return [out]


def in_onnxruntime(data, *inputs):
    session = runtime().InferenceSession(data, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, {n: x.numpy() for n, x in zip(names, inputs)})


def assert_runtime_matches(model, *examples, others=(), atol=1e-5, **options):
    """onnxruntime on the export equals our forward pass, on the examples and on other inputs."""
    data = exported(model, *examples, **options)
    for inputs in (examples, *others):
        for expected, got in zip(ours(model, *inputs), in_onnxruntime(data, *inputs)):
            assert got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=atol)
    return data
