"""Saved models: architecture as JSON (whitelisted layer types, no code) + safetensors weights."""

import json

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn
from tinygrad_maas.nn.architecture import from_config, load_model, save_model, to_config


def _model():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding="same"), nn.BatchNorm2d(4), nn.LeakyReLU(0.2),
                         nn.MaxPool2d(2), nn.Dropout(0.1), nn.Flatten(), nn.Linear(4 * 4 * 4, 8, bias=False),
                         nn.GELU(approximate="tanh"), nn.LayerNorm(8), nn.Linear(8, 3), nn.LogSoftmax(dim=1))


def test_config_round_trip_builds_the_same_architecture():
    config = to_config(_model())
    assert json.loads(json.dumps(config)) == config  # plain JSON
    rebuilt = from_config(config)
    assert repr(rebuilt) == repr(_model())
    assert [p.shape for p in rebuilt.parameters()] == [p.shape for p in _model().parameters()]


def test_a_saved_model_reproduces_its_outputs(tmp_path):
    tm.manual_seed(0)
    model = _model()
    model(tm.randn(4, 1, 8, 8))  # move the BatchNorm running statistics away from their start
    model.eval()
    x = tm.randn(2, 1, 8, 8)
    save_model(model, tmp_path / "m", metadata={"note": "test"})
    loaded, metadata = load_model(tmp_path / "m")
    assert metadata == {"note": "test"} and not loaded.training
    np.testing.assert_array_equal(loaded(x).data, model(x).data)
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["architecture.json", "weights.safetensors"]


def test_only_whitelisted_layers_and_arguments_are_accepted():
    with pytest.raises(ValueError, match="unknown layer type 'os.system'"):
        from_config({"type": "os.system", "args": {}})
    with pytest.raises(ValueError, match="arguments of Linear must be among"):
        from_config({"type": "Linear", "args": {"in_features": 2, "out_features": 2, "__class__": "x"}})

    class Custom(nn.Module):
        pass

    with pytest.raises(TypeError, match="Custom cannot be described as JSON"):
        to_config(nn.Sequential(Custom()))


def test_loading_something_that_is_not_a_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="no architecture.json"):
        load_model(tmp_path)
    (tmp_path / "architecture.json").write_text("{broken")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_model(tmp_path)
