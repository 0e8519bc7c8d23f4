"""Saved models: architecture as JSON (whitelisted layer types, no code) + safetensors weights."""

import json

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn
from tinygrad_maas.nn.architecture import from_config, load_model, save_model, to_config


def _model():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding="same"),
        nn.BatchNorm2d(4),
        nn.LeakyReLU(0.2),
        nn.MaxPool2d(2),
        nn.Dropout(0.1),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 8, bias=False),
        nn.GELU(approximate="tanh"),
        nn.LayerNorm(8),
        nn.Linear(8, 3),
        nn.LogSoftmax(dim=1),
    )


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
    np.testing.assert_array_equal(loaded(x).array, model(x).array)
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


def _every_layer_type():
    """One instance of each layer a model file may name, with arguments that shape its parameters."""
    return [
        nn.Linear(3, 5),
        nn.Linear(4, 2, bias=False),
        nn.Conv1d(4, 6, 3, groups=2),
        nn.Conv2d(2, 4, (3, 1)),
        nn.Conv2d(3, 3, 2, bias=False),
        nn.BatchNorm1d(5),
        nn.BatchNorm2d(3, affine=False),
        nn.BatchNorm2d(3, track_running_stats=False),
        nn.LayerNorm([2, 3]),
        nn.LayerNorm(4, bias=False),
        nn.LayerNorm(4, elementwise_affine=False),
        nn.Embedding(7, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.MaxPool2d(2),
        nn.Dropout(0.5),
        nn.Softmax(dim=1),
    ]


def test_state_shapes_from_the_config_alone_equal_the_built_layers_state_dict():
    from tinygrad_maas.nn.architecture import _LAYER_PACKAGES, LAYERS, state_shapes

    model = nn.Sequential(*_every_layer_type())
    built = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    assert state_shapes(to_config(model)) == built
    assert {type(layer).__name__ for layer in model} | {
        "Identity",
        "Unflatten",
        "LeakyReLU",
        "ELU",
        "GELU",
        "SiLU",
        "Sigmoid",
        "Tanh",
        "Softplus",
        "LogSoftmax",
        "MaxPool1d",
        "AvgPool2d",
        "AdaptiveAvgPool2d",
    } == set(LAYERS) - set(_LAYER_PACKAGES)  # quantized layers: tests/quantization saves and loads them


def test_an_architecture_that_disagrees_with_its_weights_is_refused_naming_the_tensor(tmp_path):
    save_model(nn.Sequential(nn.Linear(4, 3)), tmp_path / "m")
    description = json.loads((tmp_path / "m" / "architecture.json").read_text())
    description["architecture"]["layers"][0]["args"]["out_features"] = 10**6
    (tmp_path / "m" / "architecture.json").write_text(json.dumps(description))
    with pytest.raises(ValueError, match=r"0.weight: architecture \(1000000, 4\), weights \(3, 4\)"):
        load_model(tmp_path / "m")


@pytest.mark.parametrize(
    "args, message",
    [
        ({"in_features": -1, "out_features": 2}, "Linear in_features must be a non-negative integer"),
        ({"in_features": True, "out_features": 2}, "Linear in_features must be a non-negative integer"),
        ({"in_features": 2}, "missing a required argument: 'out_features'"),
    ],
)
def test_state_shapes_reject_bad_sizes_by_name(args, message):
    from tinygrad_maas.nn.architecture import state_shapes

    with pytest.raises(ValueError, match=message):
        state_shapes({"type": "Sequential", "layers": [{"type": "Linear", "args": args}]})


def test_an_oversized_architecture_file_is_refused_before_parsing(tmp_path):
    save_model(nn.Sequential(nn.Linear(4, 3)), tmp_path / "m")
    with pytest.raises(ValueError, match="is larger than 100 bytes"):
        load_model(tmp_path / "m", max_architecture_bytes=100)
