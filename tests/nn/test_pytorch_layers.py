"""Layers, hooks, inits and optimizers PyTorch programs use, with PyTorch's (torch 2.13) values pinned.

Weights are set deterministically with `fill` (the same sines torch's reference run used, in
named_parameters order), so equal outputs also pin equal parameter names, shapes and order.
"""

import warnings

import numpy as np
import pytest

import tinygrad_maas as tm
from tests.gradients import check_gradients

nn, F = tm.nn, tm.nn.functional


def fill(module):
    with tm.no_grad():
        for i, (_, p) in enumerate(module.named_parameters()):
            p.copy_((np.sin(np.arange(p.numel()) * 0.37 + i) * 0.5).reshape(p.shape))
    return module


def leaf(*shape, seed=0):
    return tm.tensor(np.random.default_rng(seed).uniform(-1, 1, size=shape), requires_grad=True)


# ------------------------------------------------------------------ factory arguments
def test_layers_take_device_and_dtype_in_pytorchs_order():
    layer = nn.Linear(3, 2, False, tm.device("cpu"), tm.float64)
    assert layer.weight.dtype == tm.float64 and layer.bias is None
    for made in (
        nn.Conv2d(1, 2, 3, device="cpu", dtype=tm.float64),
        nn.LSTM(2, 3, device="cpu", dtype=tm.float64),
        nn.Embedding(4, 2, device="cpu", dtype=tm.float64),
        nn.LayerNorm(3, device="cpu", dtype=tm.float64),
        nn.BatchNorm1d(3, device="cpu", dtype=tm.float64),
        nn.MultiheadAttention(4, 2, device="cpu", dtype=tm.float64),
        nn.GroupNorm(1, 2, device="cpu", dtype=tm.float64),
        nn.ConvTranspose2d(1, 2, 3, device="cpu", dtype=tm.float64),
        nn.GRUCell(2, 3, device="cpu", dtype=tm.float64),
    ):
        assert all(p.dtype == tm.float64 for p in made.parameters()), type(made).__name__
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.Linear(2, 2, device="cuda")


# ------------------------------------------------------------------ layers
def test_conv_transpose2d_pinned():
    x = tm.arange(4, dtype=tm.float32).reshape(1, 1, 2, 2)
    w = tm.arange(8, dtype=tm.float32).reshape(1, 2, 2, 2) / 10
    out = F.conv_transpose2d(x, w, stride=2)
    np.testing.assert_allclose(
        out[0, 0].array, [[0, 0, 0, 0.1], [0, 0, 0.2, 0.3], [0, 0.2, 0, 0.3], [0.4, 0.6, 0.6, 0.9]], atol=1e-6
    )
    cropped = F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    np.testing.assert_allclose(cropped[0, 1].array, [[0, 0.6, 0.7], [1.0, 1.2, 1.5], [1.4, 1.8, 2.1]], atol=1e-6)


@pytest.mark.parametrize(
    "arguments",
    [dict(stride=1), dict(stride=2, padding=1, output_padding=1), dict(stride=(2, 1), dilation=2), dict(groups=2)],
    ids=["plain", "padded", "dilated", "groups"],
)
def test_conv_transpose2d_gradients(arguments):
    out_per_group = 1 if arguments.get("groups") else 3  # weight (C_in, C_out / groups, kh, kw)
    out_channels = out_per_group * arguments.get("groups", 1)
    x, w, b = leaf(2, 2, 3, 3), leaf(2, out_per_group, 2, 2, seed=1), leaf(out_channels, seed=2)
    assert check_gradients(lambda x, w, b: F.conv_transpose2d(x, w, b, **arguments), (x, w, b))


def test_conv_transpose2d_layer_shapes_follow_the_formula():
    layer = nn.ConvTranspose2d(3, 5, kernel_size=4, stride=2, padding=1)
    assert layer.weight.shape == (3, 5, 4, 4) and layer(tm.ones(2, 3, 7, 7)).shape == (2, 5, 14, 14)


def test_interpolate_pinned():
    x = tm.tensor([[[[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]]]])
    assert F.interpolate(x, size=(3, 4)).tolist() == [[[[1, 1, 2, 4], [1, 1, 2, 4], [3, 3, 5, 9]]]]
    bilinear = F.interpolate(x, scale_factor=2, mode="bilinear")
    np.testing.assert_allclose(bilinear[0, 0, 1].array, [1.5, 1.8125, 2.4375, 3.375, 4.625, 5.25])
    corners = F.interpolate(x, size=(3, 4), mode="bilinear", align_corners=True)
    np.testing.assert_allclose(corners[0, 0, 1].array, [2.0, 3.0, 4.5, 6.5], rtol=1e-6)
    np.testing.assert_allclose(F.interpolate(x[0], size=5, mode="linear")[0, 0].array, [1, 1.4, 2, 3.2, 4], rtol=1e-6)
    assert nn.Upsample(scale_factor=2)(x).shape == (1, 1, 4, 6)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_interpolate_gradients(mode):
    assert check_gradients(lambda x: F.interpolate(x, size=(4, 5), mode=mode), leaf(1, 2, 3, 2))


def test_group_norm_pinned_and_checked():
    g = (tm.arange(12, dtype=tm.float32).reshape(1, 4, 3)) ** 1.5
    np.testing.assert_allclose(F.group_norm(g, 2)[0, 1].array, [0.1262129, 0.8406461, 1.6510111], rtol=1e-5)
    layer = nn.GroupNorm(2, 4)
    assert layer.weight.shape == (4,) and layer(g).shape == (1, 4, 3)
    assert check_gradients(lambda x, w, b: F.group_norm(x, 2, w, b), (leaf(2, 4, 3), leaf(4, seed=1), leaf(4, seed=2)))


def test_dropout2d_zeroes_whole_channels():
    tm.manual_seed(0)
    out = nn.Dropout2d(0.5)(tm.ones(8, 6, 3, 3))
    per_channel = out.array.reshape(8, 6, 9)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 2).all(axis=2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.Dropout2d(0.5)(tm.ones(4, 6))  # PyTorch's example programs do this: elementwise, with a warning
    assert "dropout2d" in str(caught[0].message)
    layer = nn.Dropout2d(0.5).eval()
    assert layer(tm.ones(2, 2, 2, 2)).tolist() == tm.ones(2, 2, 2, 2).tolist()


@pytest.mark.parametrize(
    "cls, expected",
    [
        (nn.RNNCell, [[0.76933199, 0.72716522]]),
        (nn.GRUCell, [[-0.40394148, -0.42164421]]),
        (nn.LSTMCell, ([[-0.24783386, -0.19374128]], [[-0.63089943, -0.4765561]])),
    ],
)
def test_recurrent_cells_pinned(cls, expected):
    cell = fill(cls(3, 2))
    out = cell(tm.tensor([[0.5, -1.0, 2.0]]))
    if isinstance(out, tuple):
        for got, want in zip(out, expected):
            np.testing.assert_allclose(got.array, want, rtol=1e-5)
    else:
        np.testing.assert_allclose(out.array, expected, rtol=1e-5)


def test_a_cell_equals_one_step_of_its_layer():
    cell, layer = fill(nn.LSTMCell(3, 4).double()), nn.LSTM(3, 4).double()
    layer.load_state_dict({f"{name}_l0": value for name, value in cell.state_dict().items()})
    x = leaf(5, 3)
    h, c = cell(x)
    output, (h_n, c_n) = layer(x.unsqueeze(0))
    np.testing.assert_allclose(h.array, h_n[0].array)
    np.testing.assert_allclose(c.array, c_n[0].array)
    assert cell(x[0])[0].shape == (4,)  # unbatched
    assert check_gradients(
        lambda x, h: nn.GRUCell(3, 2).double()(x, h) if False else cell(x, (h, h))[0], (x, leaf(5, 4))
    )


def test_transformer_matches_pytorch_with_the_same_weights():
    model = nn.Transformer(
        d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=6, dropout=0.0
    )
    keys = list(model.state_dict())
    assert (
        len(keys) == 34 and keys[0] == "encoder.layers.0.self_attn.in_proj_weight" and keys[-1] == "decoder.norm.bias"
    )
    fill(model).eval()
    src = tm.tensor(np.sin(np.arange(12, dtype=np.float32)).reshape(3, 1, 4))
    tgt = tm.tensor(np.cos(np.arange(8, dtype=np.float32)).reshape(2, 1, 4))
    out = model(src, tgt, tgt_mask=nn.Transformer.generate_square_subsequent_mask(2))
    np.testing.assert_allclose(
        out.array.reshape(2, 4),
        [[0.13819623, 0.74857807, 0.9473297, -0.07534229], [0.37531877, 0.00604035, 1.1368227, 0.20729059]],
        atol=2e-6,
    )


def test_transformer_decoder_layer_stack_and_clear_errors():
    layer = nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
    decoder = nn.TransformerDecoder(layer, num_layers=2)
    assert decoder(tm.ones(2, 3, 8), tm.ones(2, 5, 8), tgt_is_causal=True).shape == (2, 3, 8)
    assert decoder.layers[0].linear1.weight is not decoder.layers[1].linear1.weight  # copies, not shared
    with pytest.raises(ValueError, match="d_model=4"):
        nn.Transformer(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1)(
            tm.ones(3, 1, 5), tm.ones(2, 1, 4)
        )


def test_flatten_parameters_and_inplace_are_accepted():
    nn.LSTM(2, 3).flatten_parameters()
    x = tm.tensor([-1.0, 2.0])
    assert nn.ReLU(inplace=True)(x).tolist() == [0.0, 2.0] and nn.Dropout(0.1, inplace=True).eval()(x) is x


# ------------------------------------------------------------------ hooks
def test_forward_hooks_see_and_replace_values():
    layer = nn.Linear(2, 2)
    seen = []
    layer.register_forward_pre_hook(lambda module, args: (args[0] * 0,))
    handle = layer.register_forward_hook(lambda module, args, output: seen.append(args[0].tolist()) or output + 1)
    out = layer(tm.ones(1, 2))
    assert seen == [[[0.0, 0.0]]] and np.allclose(out.array, layer.bias.array + 1)
    handle.remove()
    layer(tm.ones(1, 2))
    assert len(seen) == 1


def test_full_backward_hook_sees_and_scales_the_input_gradient():
    layer = nn.Linear(2, 1, bias=False)
    with tm.no_grad():
        layer.weight.copy_(tm.tensor([[3.0, -1.0]]))
    seen = {}

    def hook(module, grad_input, grad_output):
        seen["in"], seen["out"] = grad_input[0].tolist(), grad_output[0].tolist()
        return (grad_input[0] * 10,)

    layer.register_full_backward_hook(hook)
    x = tm.ones(1, 2, requires_grad=True)
    (layer(x) * 2).sum().backward()
    assert seen == {"in": [[6.0, -2.0]], "out": [[2.0]]}  # torch gives the same
    assert x.grad.tolist() == [[60.0, -20.0]] and layer.weight.grad.tolist() == [[2.0, 2.0]]


# ------------------------------------------------------------------ state_dict
def test_a_module_under_two_names_is_in_state_dict_under_both():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Linear(2, 2)
            self.decoder = self.encoder

    keys = list(Tied().state_dict())
    assert keys == ["encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias"]  # as torch
    Tied().load_state_dict(Tied().state_dict())


# ------------------------------------------------------------------ init
def test_trunc_normal_stays_in_bounds_with_the_right_spread():
    tm.manual_seed(0)
    w = nn.init.trunc_normal_(tm.zeros(20000), std=0.02, a=-0.04, b=0.04)
    values = w.array
    assert values.min() >= -0.04 and values.max() <= 0.04
    assert abs(values.std() - 0.02 * 0.8796) < 0.0005  # the std of a normal cut at 2 sigma: 0.8796 sigma


# ------------------------------------------------------------------ optimizers
def test_adadelta_pinned():
    w = nn.Parameter(tm.tensor([1.0, -2.0, 3.0]))
    optimizer = tm.optim.Adadelta([w], lr=1.0)
    for _ in range(3):
        optimizer.zero_grad()
        (w**2).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(w.array, [0.99030906, -1.99030077, 2.99029803], rtol=1e-6)


def test_lbfgs_with_a_closure_minimises_rosenbrock_as_pytorch():
    w = nn.Parameter(tm.tensor([1.5, -0.5]))
    optimizer = tm.optim.LBFGS([w], lr=0.8, max_iter=20)

    def closure():
        optimizer.zero_grad()
        loss = (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2
        loss.backward()
        return loss

    losses = [float(optimizer.step(closure)) for _ in range(3)]
    assert losses[0] == pytest.approx(756.5) and losses[1] == pytest.approx(0.0144139, rel=1e-3)
    np.testing.assert_allclose(w.array, [1.0, 1.0], atol=1e-4)
    with pytest.raises(NotImplementedError, match="strong_wolfe"):
        tm.optim.LBFGS([w], line_search_fn="strong_wolfe")


def test_one_cycle_lr_and_momentum_pinned():
    w = nn.Parameter(tm.zeros(1))
    optimizer = tm.optim.SGD([w], lr=0.1, momentum=0.9)
    scheduler = tm.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=10)
    lrs, momenta = [], []
    for _ in range(10):
        lrs.append(optimizer.param_groups[0]["lr"])
        momenta.append(optimizer.param_groups[0]["momentum"])
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(
        lrs, [0.04, 0.52, 1.0, 0.950485, 0.811746, 0.611262, 0.388742, 0.188258, 0.049519, 4e-06], atol=1e-6
    )
    np.testing.assert_allclose(momenta[:4], [0.95, 0.9, 0.85, 0.854952], atol=1e-6)
    adam = tm.optim.Adam([w], lr=0.1)
    three = tm.optim.lr_scheduler.OneCycleLR(
        adam, max_lr=1.0, total_steps=6, three_phase=True, anneal_strategy="linear"
    )
    lrs = []
    for _ in range(6):
        lrs.append(adam.param_groups[0]["lr"])
        adam.step()
        three.step()
    np.testing.assert_allclose(lrs, [0.04, 0.76, 0.035295, 0.023531, 0.011768, 4e-06], atol=1e-6)
    assert adam.param_groups[0]["betas"][0] == pytest.approx(0.95)
    with pytest.raises(ValueError, match="more than total_steps"):
        for _ in range(3):
            three.step()


# ------------------------------------------------------------------ numerical edges
def test_binary_cross_entropy_saturated_probabilities_pinned():
    p = tm.tensor([0.0, 1.0, 1e-30, 0.5, 1.0], requires_grad=True)
    t = tm.tensor([0.0, 1.0, 1.0, 1.0, 0.0])
    losses = F.binary_cross_entropy(p, t, reduction="none")
    losses.sum().backward()
    np.testing.assert_allclose(losses.array, [0.0, 0.0, 69.0776, 0.6931472, 100.0], rtol=1e-5)
    np.testing.assert_allclose(p.grad.array, [0.0, 0.0, -1e12, -2.0, 1e12], rtol=1e-6)  # torch's values
    probabilities = tm.tensor(np.random.default_rng(0).uniform(0.1, 0.9, (3, 4)), requires_grad=True)
    targets = tm.tensor(np.random.default_rng(1).uniform(0, 1, (3, 4)), requires_grad=True)
    assert check_gradients(lambda p, t: F.binary_cross_entropy(p, t), (probabilities, targets))


def test_a_python_list_given_to_a_layer_is_named():
    with pytest.raises(TypeError, match="Linear: the input must be a tensor, got a Python list"):
        nn.Linear(2, 3)([1.0, 2.0])
    with pytest.raises(TypeError, match="LSTM: the input must be a tensor"):
        nn.LSTM(2, 3)([[1.0, 2.0]])
