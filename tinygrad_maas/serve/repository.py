"""A model repository on disk: <root>/<model>/<version>/ holding a saved model (nn/architecture.py:
architecture.json + weights.safetensors; its metadata may carry a signature).

Names and versions are checked before any path is built from them (letters, digits, "_", "-", "." not
leading; versions are positive integers), so no request can reach outside the repository. Loading reads
JSON and safetensors only. A model is ready once a warm-up forward pass has run (kernels compiled).
"""

import os
import re
import threading

import numpy as np

from .protocol import ApiError, DATATYPES, datatype_of

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def check_name(name):
    if not isinstance(name, str) or not NAME.match(name) or ".." in name:
        raise ApiError(400, f"invalid model name {name!r}: letters, digits, '_', '-', '.' only")
    return name


def check_version(version):
    if not isinstance(version, str) or not version.isdigit() or int(version) < 1:
        raise ApiError(400, f"invalid model version {version!r}: a positive integer")
    return str(int(version))


class LoadedModel:
    def __init__(self, name, version, module, metadata):
        self.name, self.version, self.module = name, version, module
        self.metadata = metadata
        self.lock = threading.Lock()  # one forward pass at a time per model
        self.inputs, self.outputs = self._signature()
        self.ready = False

    def _signature(self):
        signature = self.metadata.get("signature")
        if signature:
            return signature["inputs"], signature["outputs"]
        shape = self.metadata.get("input_shape")
        if shape is None:
            raise ValueError(f"model {self.name} version {self.version} has neither a signature nor an input_shape")
        return [{"name": "input", "datatype": "FP32", "shape": [-1] + list(shape)}], None

    def warm_up(self):
        """One forward pass on zeros (compiles the kernels); fills in the output signature if missing."""
        sample = np.zeros([1] + [max(n, 1) for n in self.inputs[0]["shape"][1:]],
                          dtype=DATATYPES[self.inputs[0]["datatype"]])
        output = self.predict({self.inputs[0]["name"]: sample})
        if self.outputs is None:
            self.outputs = [{"name": "output", "datatype": datatype_of(output["output"].dtype),
                             "shape": [-1] + list(output["output"].shape[1:])}]
        self.ready = True

    def predict(self, inputs):
        """{input name: array} -> {output name: array}, for a model with one input and one output."""
        import tinygrad_maas as tm

        (array,) = inputs.values()
        with self.lock, tm.no_grad():
            result = self.module(tm.tensor(array)).numpy()
        name = self.outputs[0]["name"] if self.outputs else "output"
        return {name: result}


class ModelRepository:
    def __init__(self, root):
        if not os.path.isdir(root):
            raise FileNotFoundError(f"model repository {root!r} is not a directory")
        self.root = os.path.abspath(root)
        self.models = {}  # name -> {version: LoadedModel}
        self.lock = threading.Lock()

    def available(self):
        """{model name: sorted versions on disk} (directories that hold an architecture.json)."""
        found = {}
        for name in sorted(os.listdir(self.root)):
            if not NAME.match(name) or not os.path.isdir(os.path.join(self.root, name)):
                continue
            versions = sorted((int(v) for v in os.listdir(os.path.join(self.root, name))
                               if v.isdigit() and int(v) > 0 and
                               os.path.exists(os.path.join(self.root, name, v, "architecture.json"))))
            if versions:
                found[name] = [str(v) for v in versions]
        return found

    def load_all(self):
        """Load and warm up every version on disk that is not loaded yet; returns what was newly loaded."""
        from ..nn.architecture import load_model

        loaded = []
        for name, versions in self.available().items():
            for version in versions:
                if version in self.models.get(name, {}):
                    continue
                module, metadata = load_model(os.path.join(self.root, name, version))
                model = LoadedModel(name, version, module, metadata)
                model.warm_up()
                with self.lock:
                    self.models.setdefault(name, {})[version] = model
                loaded.append((name, version))
        return loaded

    def get(self, name, version=None):
        check_name(name)
        versions = self.models.get(name)
        if not versions:
            raise ApiError(404, f"unknown model {name!r}")
        if version is None:
            return versions[max(versions, key=int)]  # the latest version
        version = check_version(version)
        if version not in versions:
            raise ApiError(404, f"model {name!r} has no version {version} (it has {', '.join(sorted(versions, key=int))})")
        return versions[version]
