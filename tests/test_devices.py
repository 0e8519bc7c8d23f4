"""PyTorch programs choose and move to a device in their first lines; here everything is on the CPU, and
those lines run unchanged."""

import pytest

import tinygrad_maas as tm
from tinygrad_maas import nn


def test_the_usual_device_line_picks_the_cpu():
    device = tm.device("cuda" if tm.cuda.is_available() else "cpu")
    assert device == "cpu" and device == tm.device("cpu") and str(device) == "cpu"
    assert repr(device) == "device(type='cpu')" and repr(tm.device("cuda:1")) == "device(type='cuda', index=1)"
    assert not tm.cuda.is_available() and tm.cuda.device_count() == 0
    assert not tm.backends.mps.is_available() and not tm.accelerator.is_available()


def test_models_and_batches_move_to_the_cpu_in_every_form_of_to():
    device = tm.device("cpu")
    model = nn.Linear(2, 3).to(device)
    x = tm.ones(4, 2).to(device)
    assert model(x).shape == (4, 3) and x.device == "cpu" and x.cpu() is x
    assert x.to(device, tm.float64).dtype == tm.float64
    assert x.to(dtype=tm.float16, device="cpu").dtype == tm.float16
    assert x.to(tm.zeros(1, dtype=tm.float64)).dtype == tm.float64
    assert x.to("cpu") is x and x.to("cpu", copy=True) is not x
    assert model.to("cpu", tm.float64).weight.dtype == tm.float64


@pytest.mark.parametrize("where", ["cuda", "cuda:0", "mps"])
def test_moving_to_a_device_this_framework_lacks_says_so(where):
    with pytest.raises(RuntimeError, match=f"runs on the CPU only, not on '{where}'"):
        tm.ones(2).to(where)
    with pytest.raises(RuntimeError, match="Module.to\\(\\): tinygrad_maas runs on the CPU only"):
        nn.Linear(2, 2).to(tm.device(where))


def test_a_device_string_that_is_not_one_is_named():
    with pytest.raises(ValueError, match="unknown device type 'gpu'"):
        tm.device("gpu")
