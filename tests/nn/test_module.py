"""nn.Module, Parameter and the containers: registration, state_dict, modes, printing."""

from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 3)
        self.out = nn.Linear(3, 1)
        self.register_buffer("steps", tm.zeros(1))
        self.register_buffer("scratch", tm.zeros(2), persistent=False)

    def forward(self, x):
        return self.out(self.hidden(x).relu())


def test_parameters_are_registered_in_assignment_order():
    model = TwoLayer()
    assert [name for name, _ in model.named_parameters()] == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())


def test_state_dict_holds_parameters_and_persistent_buffers_only():
    model = TwoLayer()
    # PyTorch's order: a module's own parameters and buffers, then its children's
    assert list(model.state_dict()) == ["steps", "hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    state = model.state_dict()
    assert not state["hidden.weight"].requires_grad
    assert np.shares_memory(state["hidden.weight"].array, model.hidden.weight.array)


def test_load_state_dict_copies_values_in_place():
    source, target = TwoLayer(), TwoLayer()
    weight_object = target.hidden.weight
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target.hidden.weight is weight_object  # same Parameter: an optimizer holding it keeps working
    np.testing.assert_array_equal(target.hidden.weight.array, source.hidden.weight.array)


def test_load_state_dict_reports_every_problem_at_once():
    state = TwoLayer().state_dict()
    state["hidden.weight"] = tm.zeros(4, 2)
    del state["out.bias"]
    state["extra"] = tm.zeros(1)
    with pytest.raises(RuntimeError) as error:
        TwoLayer().load_state_dict(state)
    message = str(error.value)
    assert "size mismatch for hidden.weight: checkpoint has shape (4, 2), this module has (3, 2)" in message
    assert "missing keys: out.bias" in message and "unexpected keys: extra" in message


def test_non_strict_loading_returns_the_differences():
    state = TwoLayer().state_dict()
    del state["steps"]
    state["extra"] = tm.zeros(1)
    result = TwoLayer().load_state_dict(state, strict=False)
    assert result.missing_keys == ["steps"] and result.unexpected_keys == ["extra"]


def test_train_and_eval_reach_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(), nn.Sequential(nn.Dropout()))
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_apply_and_casting():
    model = TwoLayer()
    model(tm.ones(4, 2)).sum().backward()
    assert model.hidden.weight.grad is not None
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Linear", "TwoLayer"]
    model.double()
    assert all(p.dtype == tm.float64 for p in model.parameters()) and model.steps.dtype == tm.float64


def test_a_parameter_shared_by_two_layers_is_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2


def test_repr_is_pytorchs():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1, bias=False))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=3, out_features=1, bias=False)\n"
        ")"
    )


def test_sequential_indexing_slicing_and_named_children():
    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert isinstance(model[0], nn.Linear) and isinstance(model[-1], nn.ReLU)
    assert len(model[:1]) == 1 and [name for name, _ in model.named_children()] == ["fc", "act"]
    with pytest.raises(IndexError, match="index 5 is out of range for 2 modules"):
        model[5]


def test_module_list_and_dict_expose_their_parameters():
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 1)])
            self.heads = nn.ModuleDict({"a": nn.Linear(1, 2)})

    names = [name for name, _ in Holder().named_parameters()]
    assert names == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
        "heads.a.weight",
        "heads.a.bias",
    ]


def test_assignment_errors_are_clear():
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        model.weight = tm.zeros(2, 2)

    class Forgetful(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Forgetful()
    with pytest.raises(NotImplementedError, match="no forward"):
        nn.Module()(tm.ones(1))


def test_parameter_shares_memory_with_its_source():
    array = np.ones(3, dtype=np.float32)
    parameter = nn.Parameter(tm.from_numpy(array))
    array[0] = 5
    assert parameter.tolist() == [5.0, 1.0, 1.0] and parameter.requires_grad
    assert repr(parameter).startswith("Parameter containing:\ntensor(")


def test_replacing_a_child_keeps_its_place_so_a_sequential_still_runs_in_order():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    model[0] = nn.Linear(2, 3)
    setattr(model, "2", nn.Linear(3, 1))
    assert [type(layer).__name__ for layer in model] == ["Linear", "ReLU", "Linear"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
