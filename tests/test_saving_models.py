"""tm.save / tm.load as PyTorch programs call them: file objects, map_location, weights_only, ndarrays,
whole models (rebuilt from class names and tensors, never from a pickle), safe_globals."""

import io
import os
import stat

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas import nn
from tinygrad_maas.nn import functional as F


class TiedLanguageModel(nn.Module):
    """An embedding and an output layer sharing one weight, as the word-level language model ties them."""

    def __init__(self, vocabulary=7, width=4):
        super().__init__()
        self.encoder = nn.Embedding(vocabulary, width)
        self.rnn = nn.GRU(width, width)
        self.decoder = nn.Linear(width, vocabulary)
        self.decoder.weight = self.encoder.weight
        self.activation = F.relu
        self.width, self.name, self.dtype = width, "tied", tm.float32

    def forward(self, tokens):
        output, _ = self.rnn(self.encoder(tokens))
        return self.decoder(self.activation(output))


def test_file_objects_and_paths_alike():
    buffer = io.BytesIO()
    tm.save({"w": tm.tensor([1.0, 2.0]), "step": 3}, buffer)
    buffer.seek(0)
    loaded = tm.load(buffer)
    assert loaded["w"].tolist() == [1.0, 2.0] and loaded["step"] == 3


def test_an_ndarray_comes_back_as_an_ndarray(tmp_path):
    tm.save({"array": np.arange(3), "tensor": tm.arange(3)}, tmp_path / "mixed.pt")
    loaded = tm.load(tmp_path / "mixed.pt")
    assert isinstance(loaded["array"], np.ndarray) and isinstance(loaded["tensor"], tm.Tensor)


def test_map_location_names_the_cpu_or_is_a_function(tmp_path):
    tm.save(tm.ones(2), tmp_path / "t.pt")
    for where in ("cpu", tm.device("cpu"), {"cuda:0": "cpu"}, lambda storage, location: storage):
        assert tm.load(tmp_path / "t.pt", map_location=where).tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="CPU only"):
        tm.load(tmp_path / "t.pt", map_location="cuda:0")


def test_a_whole_model_needs_weights_only_false_and_comes_back_whole(tmp_path):
    tm.manual_seed(0)
    model = TiedLanguageModel().eval()
    tokens = tm.tensor([[1, 2], [3, 4], [5, 6]])
    tm.save(model, tmp_path / "model.pt")
    with pytest.raises(RuntimeError, match="(?s)TiedLanguageModel.*weights_only=False.*state_dict"):
        tm.load(tmp_path / "model.pt")  # weights_only=True by default, as PyTorch
    loaded = tm.load(tmp_path / "model.pt", weights_only=False)
    assert type(loaded) is TiedLanguageModel and not loaded.training
    assert loaded.decoder.weight is loaded.encoder.weight and isinstance(loaded.encoder.weight, nn.Parameter)
    assert loaded.width == 4 and loaded.name == "tied" and loaded.dtype == tm.float32 and loaded.activation is F.relu
    np.testing.assert_array_equal(loaded(tokens).array, model(tokens).array)
    assert len(list(loaded.parameters())) == len(list(model.parameters()))
    loaded.train()(tokens).sum().backward()  # it trains
    assert loaded.encoder.weight.grad is not None


def test_safe_globals_allow_named_classes(tmp_path):
    tm.save(nn.Sequential(nn.Linear(2, 3), nn.ReLU()), tmp_path / "seq.pt")
    with tm.serialization.safe_globals([nn.Sequential, nn.Linear, nn.ReLU]):
        model = tm.load(tmp_path / "seq.pt")
    assert isinstance(model[0], nn.Linear) and model(tm.ones(1, 2)).shape == (1, 3)
    with pytest.raises(RuntimeError, match="tinygrad_maas.nn.containers.Sequential"):
        tm.load(tmp_path / "seq.pt")  # the allowance ended with the block


def test_what_cannot_be_named_is_refused_at_save(tmp_path):
    model = nn.Linear(2, 2)
    model.scale = lambda x: x * 2
    with pytest.raises(TypeError, match="Linear.scale.*lambda"):
        tm.save(model, tmp_path / "bad.pt")
    assert not (tmp_path / "bad.pt").exists()


def test_saving_into_a_missing_folder_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="the folder .*missing.* does not exist"):
        tm.save(tm.ones(1), tmp_path / "missing" / "t.pt")


def test_saved_files_get_the_usual_umask_modes(tmp_path):
    previous = os.umask(0o022)
    try:
        tm.save(tm.ones(1), tmp_path / "t.pt")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "t.pt").st_mode) == 0o644


def test_pickle_arguments_are_refused():
    with pytest.raises(ValueError, match="never hold pickles"):
        tm.save(tm.ones(1), io.BytesIO(), pickle_module=object())


def _with_record(path, record):
    """A file whose structure holds `record` as a model record (as a hostile or damaged file might)."""
    import json
    import struct

    header = {"__metadata__": {"tinygrad_maas.structure": json.dumps({"module": record})}}
    data = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(data)) + data)
    return path


def test_a_model_record_naming_something_else_is_refused_not_run(tmp_path):
    record = {
        "class": "os:system",
        "training": False,
        "attributes": [],
        "parameters": [],
        "buffers": [],
        "children": [],
    }
    path = _with_record(tmp_path / "hostile.pt", record)
    with pytest.raises(RuntimeError, match="os.system"):
        tm.load(path)  # weights_only=True: named classes only
    with pytest.raises(RuntimeError, match="is not an nn.Module subclass"):
        tm.load(path, weights_only=False)


def test_a_damaged_model_record_is_named(tmp_path):
    path = _with_record(tmp_path / "damaged.pt", {"class": "tinygrad_maas.nn.linear:Linear"})
    with pytest.raises(ValueError, match="corrupt model record"):
        tm.load(path, weights_only=False)
    path = _with_record(tmp_path / "nameless.pt", {"class": "Linear"})
    with pytest.raises(ValueError, match="corrupt model record"):
        tm.load(path, weights_only=False)
