"""RNN, GRU and LSTM layers: gradients, PyTorch's parameter names, shapes and values, and a GRU that learns."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn
from tests.gradients import check_gradients


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
@pytest.mark.parametrize(
    "options",
    [{}, {"num_layers": 2, "bidirectional": True}, {"batch_first": True, "bias": False}],
    ids=["plain", "two_layers_bidirectional", "batch_first_no_bias"],
)
def test_recurrent_layer_gradients(cls, options):
    tm.manual_seed(0)
    layer = cls(2, 3, **options).double()
    x = tm.tensor(np.random.default_rng(0).standard_normal((4, 2, 2)), requires_grad=True)

    def run(x, *params):
        output, state = layer(x)
        final = state[1] if cls is nn.LSTM else state
        return output, final

    assert check_gradients(run, (x, *layer.parameters()))


def test_parameter_names_and_shapes_are_pytorchs():
    names = {name: p.shape for name, p in nn.LSTM(3, 4, num_layers=2, bidirectional=True).named_parameters()}
    assert names["weight_ih_l0"] == (16, 3) and names["weight_hh_l0"] == (16, 4)
    assert names["weight_ih_l1"] == (16, 8) and names["bias_hh_l1_reverse"] == (16,)
    assert len(names) == 16
    assert list(dict(nn.GRU(2, 3, bias=False).named_parameters())) == ["weight_ih_l0", "weight_hh_l0"]


def test_output_and_state_shapes():
    x = tm.zeros(7, 2, 3)
    output, (h, c) = nn.LSTM(3, 5, num_layers=2, bidirectional=True)(x)
    assert output.shape == (7, 2, 10) and h.shape == (4, 2, 5) and c.shape == (4, 2, 5)
    output, h = nn.GRU(3, 5, batch_first=True)(tm.zeros(2, 7, 3))
    assert output.shape == (2, 7, 5) and h.shape == (1, 2, 5)
    output, h = nn.RNN(3, 5)(tm.zeros(7, 3))  # unbatched
    assert output.shape == (7, 5) and h.shape == (1, 5)


def test_gru_values_match_pytorch_with_fixed_weights():
    gru = nn.GRU(1, 1).double()
    gru.load_state_dict(
        {
            "weight_ih_l0": tm.tensor([[0.5], [-0.5], [1.0]]),
            "weight_hh_l0": tm.tensor([[0.3], [0.2], [-0.4]]),
            "bias_ih_l0": tm.full((3,), 0.1),
            "bias_hh_l0": tm.full((3,), -0.1),
        }
    )
    output, h = gru(tm.tensor([[[1.0]], [[-2.0]]], dtype=tm.float64), tm.tensor([[[0.5]]], dtype=tm.float64))
    assert output.reshape(-1).tolist() == pytest.approx([0.6303375828970575, 0.23975405564714558], rel=1e-9)
    assert h.item() == pytest.approx(0.23975405564714558, rel=1e-9)


def test_the_final_state_of_the_reverse_direction_is_its_output_at_time_zero():
    lstm = nn.LSTM(2, 3, bidirectional=True)
    output, (h, _) = lstm(tm.randn(5, 1, 2))
    np.testing.assert_allclose(h.array[1], output.array[0, :, 3:], rtol=1e-6)
    np.testing.assert_allclose(h.array[0], output.array[-1, :, :3], rtol=1e-6)


def test_initial_state_is_used():
    rnn = nn.RNN(1, 1, bias=False)
    rnn.load_state_dict({"weight_ih_l0": tm.tensor([[0.0]]), "weight_hh_l0": tm.tensor([[1.0]])})
    output, _ = rnn(tm.zeros(1, 1, 1), tm.tensor([[[0.5]]]))
    assert output.item() == pytest.approx(np.tanh(0.5))


def test_recurrent_errors():
    with pytest.raises(ValueError, match="expected input_size 3"):
        nn.GRU(3, 4)(tm.zeros(5, 2, 2))
    with pytest.raises(ValueError, match=r"hx must have shape \(1, 2, 4\)"):
        nn.GRU(3, 4)(tm.zeros(5, 2, 3), tm.zeros(2, 2, 4))
    with pytest.raises(ValueError, match="nonlinearity must be"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


def test_a_gru_learns_to_sum_a_short_sequence():
    tm.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (256, 5, 1)).astype(np.float32)
    y = x.sum(axis=1)

    class Summer(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(1, 16, batch_first=True)
            self.head = nn.Linear(16, 1)

        def forward(self, x):
            output, _ = self.gru(x)
            return self.head(output[:, -1])

    model = Summer()
    optimizer = tm.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        optimizer.zero_grad()
        loss = ((model(tm.tensor(x)) - tm.tensor(y)) ** 2).mean()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.02  # the sums have variance 5/3: the model explains > 98% of it
