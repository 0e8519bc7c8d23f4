"""GRU and LSTM sequences: gradients, PyTorch's values (gate order, weight layout), clear errors."""

import numpy as np
import pytest

import tinygrad_maas as tm
from tests.gradients import check_gradients
from tinygrad_maas.ops.recurrent import gru_sequence, lstm_sequence


def make(shape, seed, scale=0.5):
    return tm.tensor(np.random.default_rng(seed).standard_normal(shape) * scale, requires_grad=True)


def parameters(gates, inputs=3, size=4):
    return [
        make((gates * size, inputs), 1),
        make((gates * size, size), 2),
        make((gates * size,), 3),
        make((gates * size,), 4),
    ]


def test_gru_sequence_gradcheck_all_inputs():
    x, h0 = make((5, 2, 3), 5, 1.0), make((2, 4), 6)
    assert check_gradients(lambda x, h0, *w: gru_sequence(x, h0, *w), (x, h0, *parameters(3)))


def test_lstm_sequence_gradcheck_through_outputs_and_final_cell():
    x, h0, c0 = make((5, 2, 3), 5, 1.0), make((2, 4), 6), make((2, 4), 7)

    def run(x, h0, c0, *weights):
        outputs, final_cell = lstm_sequence(x, h0, c0, *weights)
        return outputs * 2, final_cell * final_cell

    assert check_gradients(run, (x, h0, c0, *parameters(4)))


def test_sequences_without_biases():
    x, h0, c0 = make((3, 2, 3), 5, 1.0), make((2, 4), 6), make((2, 4), 7)
    w_ih, w_hh = make((12, 3), 1), make((12, 4), 2)
    assert check_gradients(lambda x, w_ih, w_hh: gru_sequence(x, h0, w_ih, w_hh), (x, w_ih, w_hh))
    w_ih, w_hh = make((16, 3), 1), make((16, 4), 2)
    assert check_gradients(lambda x, w_ih, w_hh: lstm_sequence(x, h0, c0, w_ih, w_hh)[0], (x, w_ih, w_hh))


X = tm.tensor([[[1.0]], [[-2.0]]], dtype=tm.float64)
H0 = tm.tensor([[0.5]], dtype=tm.float64)


def _fixed(values):
    return tm.tensor(values, dtype=tm.float64)


def test_gru_values_match_pytorch():
    outputs = gru_sequence(
        X, H0, _fixed([[0.5], [-0.5], [1.0]]), _fixed([[0.3], [0.2], [-0.4]]), _fixed([0.1] * 3), _fixed([-0.1] * 3)
    )
    assert outputs.reshape(-1).tolist() == pytest.approx([0.6303375828970575, 0.23975405564714558], rel=1e-12)


def test_lstm_values_match_pytorch():
    outputs, final_cell = lstm_sequence(
        X,
        H0,
        _fixed([[-0.5]]),
        _fixed([[0.5], [-0.5], [1.0], [0.2]]),
        _fixed([[0.3], [0.2], [-0.4], [0.6]]),
        _fixed([0.1] * 4),
        _fixed([-0.1] * 4),
    )
    assert outputs.reshape(-1).tolist() == pytest.approx([0.14401044179495948, -0.04000334231513797], rel=1e-12)
    assert final_cell.item() == pytest.approx(-0.0950262638044253, rel=1e-12)


def test_a_sequence_is_one_node_in_the_graph():
    x, h0 = make((50, 2, 3), 5), make((2, 4), 6)
    outputs = gru_sequence(x, h0, *parameters(3))
    assert outputs.grad_fn.name() == "GRUSequenceBackward"
    assert len(tm.autograd.topological_order(outputs)) == 1 + 6  # the sequence node and six leaves


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: gru_sequence(tm.zeros(5, 2, 3), tm.zeros(2, 4), tm.zeros(12, 4), tm.zeros(12, 4)),
            ValueError,
            r"w_ih must have shape \(12, 3\)",
        ),
        (
            lambda: gru_sequence(tm.zeros(5, 3), tm.zeros(2, 4), tm.zeros(12, 3), tm.zeros(12, 4)),
            ValueError,
            r"expected x of shape \(T, N, input_size\)",
        ),
        (
            lambda: gru_sequence(tm.zeros(5, 2, 3), tm.zeros(3, 4), tm.zeros(12, 3), tm.zeros(12, 4)),
            ValueError,
            r"h0 must have shape \(2, 4\)",
        ),
        (
            lambda: gru_sequence(tm.zeros(0, 2, 3), tm.zeros(2, 4), tm.zeros(12, 3), tm.zeros(12, 4)),
            ValueError,
            "the sequence is empty",
        ),
        (
            lambda: gru_sequence(tm.zeros(5, 2, 3), tm.zeros(2, 4), tm.zeros(12, 3, dtype=tm.float64), tm.zeros(12, 4)),
            TypeError,
            "share one floating dtype",
        ),
        (
            lambda: lstm_sequence(tm.zeros(5, 2, 3), tm.zeros(2, 4), tm.zeros(2, 5), tm.zeros(16, 3), tm.zeros(16, 4)),
            ValueError,
            "c0 must match h0",
        ),
    ],
)
def test_recurrent_errors_name_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_saturated_gru_update_gate_still_passes_its_tiny_gradient_to_the_previous_state():
    """h1 = (1 - z) n + z h0, so dh1/dh0 = z. With every weight 0 and the update gate's bias at -40,
    z = sigmoid(-40) = 4.248e-18 in float32 (PyTorch 2.13's value): the cell keeps sigmoid's relative
    precision in its negative tail, where (1 + tanh(x / 2)) / 2 would round z, and so the gradient, to 0."""
    gru = tm.nn.GRU(1, 1)
    for parameter in gru.parameters():
        parameter.data.zero_()
    gru.bias_ih_l0.data.copy_(tm.tensor([0.0, -40.0, 0.0]))  # gate order r, z, n
    h0 = tm.ones((1, 1, 1), requires_grad=True)
    _, h1 = gru(tm.zeros((1, 1, 1)), h0)
    h1.sum().backward()
    assert np.allclose(h1.tolist(), [[[4.24835413113866e-18]]], rtol=1e-6, atol=0)
    assert np.allclose(h0.grad.tolist(), [[[4.24835413113866e-18]]], rtol=1e-6, atol=0)
