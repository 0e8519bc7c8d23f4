"""Shared by the serving tests: a model repository with two versions of a tiny linear model."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn
from tinygrad_maas.nn.architecture import save_model


def _write_model(root, name, version, scale):
    tm.manual_seed(version)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    with tm.no_grad():
        model[1].weight.data[...] = np.arange(12, dtype=np.float32).reshape(3, 4) * scale
        model[1].bias.data[...] = 0
    save_model(model, root / name / str(version), metadata={"input_shape": [2, 2]})
    return model


@pytest.fixture(scope="module")
def repository_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("repository")
    _write_model(root, "tiny", 1, 1.0)
    _write_model(root, "tiny", 2, 2.0)
    return root


