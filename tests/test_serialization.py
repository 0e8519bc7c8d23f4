"""tm.save / tm.load: safe (no pickle), atomic, safetensors-compatible, clear errors on bad files."""

import json
import struct

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn
from tinygrad_maas import serialization


def test_a_model_state_dict_round_trips(tmp_path):
    tm.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    path = tmp_path / "model.safetensors"
    tm.save(model.state_dict(), path)
    restored = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    restored.load_state_dict(tm.load(path))
    for (name, a), (_, b) in zip(model.state_dict().items(), restored.state_dict().items()):
        assert a.dtype == b.dtype and np.array_equal(a.array, b.array), name
    assert restored[1].num_batches_tracked.dtype == tm.int64


def test_nested_structures_numbers_tuples_and_int_keys_survive(tmp_path):
    obj = {
        "epoch": 3,
        "lr": 0.1,
        "name": "run",
        "flag": True,
        "none": None,
        "betas": (0.9, 0.999),
        "state": {0: {"step": 2, "exp_avg": np.arange(3.0)}},
        "list": [tm.ones(2), 1],
    }
    tm.save(obj, tmp_path / "x.safetensors")
    back = tm.load(tmp_path / "x.safetensors")
    assert back["epoch"] == 3 and back["lr"] == 0.1 and back["name"] == "run" and back["flag"] is True
    assert back["none"] is None and back["betas"] == (0.9, 0.999)
    assert list(back["state"]) == [0] and back["state"][0]["exp_avg"].tolist() == [0.0, 1.0, 2.0]
    assert back["list"][0].tolist() == [1.0, 1.0] and back["list"][1] == 1


def test_an_optimizer_state_dict_round_trips(tmp_path):
    p = tm.tensor([1.0], dtype=tm.float64, requires_grad=True)
    optimizer = tm.optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    optimizer.step()
    tm.save(optimizer.state_dict(), tmp_path / "optimizer.safetensors")
    q = tm.tensor(p.array.copy(), requires_grad=True)
    other = tm.optim.Adam([q], lr=0.1)
    other.load_state_dict(tm.load(tmp_path / "optimizer.safetensors"))
    assert other.state[q]["step"] == 1 and isinstance(other.state[q]["exp_avg"], np.ndarray)
    assert other.param_groups[0]["betas"] == (0.9, 0.999)


def test_the_file_is_a_safetensors_file(tmp_path):
    path = tmp_path / "t.safetensors"
    tm.save({"weight": tm.tensor([[1.0, 2.0]])}, path)
    content = path.read_bytes()
    (size,) = struct.unpack("<Q", content[:8])
    header = json.loads(content[8 : 8 + size])
    assert header["weight"] == {"dtype": "F32", "shape": [1, 2], "data_offsets": [0, 8]}
    assert np.frombuffer(content[8 + size :], dtype="<f4").tolist() == [1.0, 2.0]
    assert (8 + size) % 8 == 0


def test_a_plain_safetensors_file_loads_as_a_flat_dict(tmp_path):
    header = json.dumps({"a": {"dtype": "I64", "shape": [2], "data_offsets": [0, 16]}}).encode()
    (tmp_path / "plain.safetensors").write_bytes(
        struct.pack("<Q", len(header)) + header + np.array([7, 8], "<i8").tobytes()
    )
    loaded = tm.load(tmp_path / "plain.safetensors")
    assert list(loaded) == ["a"] and loaded["a"].tolist() == [7, 8] and loaded["a"].dtype == tm.int64


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.safetensors"
    tm.save({"w": tm.ones(3)}, path)
    original = path.read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(serialization.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        tm.save({"w": tm.zeros(3)}, path)
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.safetensors"]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b[:5], "only 5 bytes"),
        (lambda b: b[:-4], "truncated file: tensor 'w' needs bytes"),
        (lambda b: struct.pack("<Q", 10**9) + b[8:], "the header claims 1000000000 bytes"),
        (lambda b: b[:8] + b"{not json" + b[17:], "corrupt header"),
    ],
)
def test_damaged_files_raise_clear_errors(tmp_path, damage, message):
    path = tmp_path / "w.safetensors"
    tm.save({"w": tm.ones(4)}, path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=message):
        tm.load(path)


def test_unsupported_objects_are_refused():
    with pytest.raises(TypeError, match="cannot store a set"):
        tm.save({"x": {1, 2}}, "/tmp/never-written.safetensors")
    with pytest.raises(TypeError, match="dict keys must be str or int"):
        tm.save({(1, 2): 3}, "/tmp/never-written.safetensors")


def test_read_header_gives_shapes_and_dtypes_without_reading_the_tensors(tmp_path):
    from tinygrad_maas.serialization import read_header

    tm.save({"w": tm.zeros(3, 4), "n": tm.tensor([1, 2])}, tmp_path / "s.safetensors")
    assert read_header(tmp_path / "s.safetensors") == {
        "w": (np.dtype(np.float32), (3, 4)),
        "n": (np.dtype(np.int64), (2,)),
    }


def test_a_huge_shape_in_a_header_cannot_wrap_around_to_a_small_size(tmp_path):
    header = json.dumps({"a": {"dtype": "F32", "shape": [2**62, 4], "data_offsets": [0, 0]}}).encode()
    (tmp_path / "wrap.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(ValueError, match="needs 73786976294838206464 bytes"):
        tm.load(tmp_path / "wrap.safetensors")


def test_saving_into_a_missing_folder_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="the folder .*missing.* does not exist"):
        tm.save({"w": tm.ones(1)}, tmp_path / "missing" / "w.safetensors")
