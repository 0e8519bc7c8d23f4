"""One loaded model version: its module, its signature (checked), its warm-up, and what it computes for a
request (predictions, explanations).

A signature names the tensors in and out: {"inputs": [{"name", "datatype", "shape"}], "outputs": [...]},
shapes with -1 for any size and the batch first. It comes from the model's metadata ("signature", or
"input_shape" for one FP32 input) and is checked before anything is allocated: names are short and plain
(they end up in JSON, HTML and metrics labels), datatypes are the protocol's, and one sample must fit in a
request body, so a model file cannot make the warm-up allocate gigabytes.
"""

import math
import re

import numpy as np

from . import explain
from .errors import ApiError
from .protocol import DATATYPES, datatype_of, shape_matches

TENSOR_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}")


def _tensor_spec(spec, where, max_sample_bytes):
    if not isinstance(spec, dict) or set(spec) != {"name", "datatype", "shape"}:
        raise ValueError(f"{where} must be an object with exactly name, datatype and shape")
    name, datatype, shape = spec["name"], spec["datatype"], spec["shape"]
    if not isinstance(name, str) or not TENSOR_NAME.fullmatch(name):
        raise ValueError(f"{where}.name must be 1-64 letters, digits or '_.:-', got {name!r:.80}")
    if datatype not in DATATYPES:
        raise ValueError(f"{where}.datatype {datatype!r:.40} is not one of {sorted(DATATYPES)}")
    if (
        not isinstance(shape, list)
        or not 1 <= len(shape) <= 8
        or shape[0] != -1
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= -1 and n != 0 for n in shape)
    ):
        raise ValueError(
            f"{where}.shape must be -1 (the batch) followed by at most 7 sizes (-1: any), got {shape!r:.80}"
        )
    sample_bytes = math.prod(max(n, 1) for n in shape[1:]) * np.dtype(DATATYPES[datatype]).itemsize
    if sample_bytes > max_sample_bytes:
        raise ValueError(
            f"{where}: one sample of shape {shape[1:]} takes {sample_bytes} bytes, more than a request "
            f"may carry ({max_sample_bytes})"
        )
    return {"name": name, "datatype": datatype, "shape": shape}


def signature_from(metadata, max_sample_bytes):
    """(inputs, outputs or None) from a saved model's metadata, every field checked."""
    if not isinstance(metadata, dict):
        raise ValueError("the model's metadata must be an object")
    signature = metadata.get("signature")
    if signature is None:
        shape = metadata.get("input_shape")
        if not isinstance(shape, list):
            raise ValueError("the model's metadata has neither a signature nor an input_shape list")
        signature = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [-1] + shape}], "outputs": None}
    if not isinstance(signature, dict):
        raise ValueError("signature must be an object with inputs and outputs")
    inputs, outputs = signature.get("inputs"), signature.get("outputs")
    if not isinstance(inputs, list) or len(inputs) != 1:
        raise ValueError("signature.inputs must list exactly one input (models here take one tensor)")
    inputs = [_tensor_spec(inputs[0], "signature.inputs[0]", max_sample_bytes)]
    if outputs is not None:
        if not isinstance(outputs, list) or len(outputs) != 1:
            raise ValueError("signature.outputs must list exactly one output")
        outputs = [_tensor_spec(outputs[0], "signature.outputs[0]", float("inf"))]
    return inputs, outputs


class LoadedModel:
    """A model version in memory, warmed up. Its module runs only in inference mode (eval, no grad on the
    parameters: the server never trains), so forward passes on shared weights may run side by side."""

    def __init__(self, name, version, module, metadata, max_sample_bytes):
        self.name, self.version, self.module = name, version, module
        self.inputs, self.outputs = signature_from(metadata, max_sample_bytes)
        for parameter in module.parameters():
            parameter.requires_grad_(False)
        self.nbytes = sum(value.detach().numpy().nbytes for value in module.state_dict().values())
        self.scheduler = None  # set by the repository once the model is ready (batching.py)

    def warm_up(self):
        """One forward pass on zeros (compiles the kernels). Fills in the output signature when the metadata
        has none, and checks it when it has one."""
        spec = self.inputs[0]
        sample = np.zeros([1] + [max(n, 1) for n in spec["shape"][1:]], dtype=DATATYPES[spec["datatype"]])
        (output,) = self.predict({spec["name"]: sample}).values()
        found = {"datatype": datatype_of(output.dtype), "shape": [-1] + list(output.shape[1:])}
        if self.outputs is None:
            self.outputs = [{"name": "output", **found}]
        elif found["datatype"] != self.outputs[0]["datatype"] or not shape_matches(
            found["shape"], self.outputs[0]["shape"]
        ):
            raise ValueError(f"the model's output {found} does not match signature.outputs[0] {self.outputs[0]}")

    def check_inputs(self, arrays, parameters):
        """The request's arrays, ready to join a batch (decode_inputs has checked them already)."""
        return arrays

    def predict(self, inputs):
        """{input name: array} -> {output name: array}."""
        import tinygrad_maas as tm

        (array,) = inputs.values()
        with tm.no_grad():
            result = self.module(tm.tensor(array)).numpy()
        return {self.outputs[0]["name"] if self.outputs else "output": result}

    def explain(self, sample, options):
        """The explanation (a JSON-able dict) of one sample of shape (1, ...); options from explain_options."""
        scores = explain.predict_scores(self.module, sample)
        target = options["target"]
        if target is None:
            target = int(scores.argmax())
        elif target >= scores.size:
            raise ApiError(400, f"parameters.target {target} is not an output index (the model has {scores.size})")
        result = {"method": options["method"], "target": target, "score": float(scores[target])}
        if options["method"] == "saliency":
            result["attributions"] = explain.saliency(self.module, sample, target)[0].tolist()
            return result
        baseline = options["baseline"]
        baseline = np.zeros_like(sample) if baseline is None else baseline.astype(sample.dtype).reshape(sample.shape)
        attributions, delta = explain.integrated_gradients(self.module, sample, baseline, target, options["steps"])
        result.update(
            attributions=attributions[0].tolist(),
            steps=options["steps"],
            baseline_score=float(explain.predict_scores(self.module, baseline)[target]),
            convergence_delta=delta,
        )
        return result
