"""The benchmark tools: the per-op timer times ops inside real training steps and leaves the framework as it
found it; the checkout comparison times only the checkouts it is given."""

import pytest

from benchmarks import compare_checkouts, op_times
from tinygrad_maas.ops.linear import Linear


def test_op_times_reports_each_op_and_restores_the_ops(capsys):
    forward_before = Linear.__dict__["forward"].__func__
    op_times.main(["mlp", "--steps", "2"])
    printed = capsys.readouterr().out
    assert "mlp:" in printed and "| Linear.forward |" in printed and "| Linear.backward |" in printed
    assert Linear.__dict__["forward"].__func__ is forward_before


def test_compare_checkouts_refuses_a_folder_whose_package_comes_from_elsewhere(tmp_path):
    """Timing a checkout that silently imports the installed package would compare a commit with itself."""
    with pytest.raises(SystemExit, match="not from the checkout"):
        compare_checkouts._measure(tmp_path)


def test_the_roofline_counts_a_convolutions_flops_and_least_bytes():
    import tinygrad_maas.nn as nn
    from benchmarks.roofline import _counts

    conv = nn.Conv2d(32, 64, 3)  # cnn's second convolution: (64, 32, 13, 13) -> (64, 64, 11, 11)
    forward, backward, forward_bytes, backward_bytes = _counts(conv, (64, 32, 13, 13), (64, 64, 11, 11), False)
    assert forward == 2 * 64 * 64 * 11 * 11 * 32 * 9 and backward == 2 * forward
    weights = 64 * 32 * 9 + 64
    assert forward_bytes == 4 * (64 * 32 * 13 * 13 + weights + 64 * 64 * 11 * 11)
    assert _counts(conv, (64, 32, 13, 13), (64, 64, 11, 11), True)[1] == forward  # no input gradient
    assert _counts(nn.Flatten(), (2, 3), (6,), False) == (0, 0, 0, 0)


def test_the_roofline_times_a_first_layer_without_an_input_gradient_as_it_counts_it():
    """A first layer's backward in a training step computes dW alone, and _counts counts it so: the layer is
    timed with an input that needs no gradient (with one, lenet's first layer timed its col2im as well)."""
    import numpy as np

    import tinygrad_maas.nn as nn
    from benchmarks.roofline import _time_layer

    seen = []

    class Recording(nn.Linear):
        def forward(self, input):
            seen.append(input.requires_grad)
            return super().forward(input)

    for first in (True, False):
        seen.clear()
        _time_layer(Recording(4, 3), (2, 4), np.dtype(np.float32), 1, first)
        assert seen and set(seen) == {not first}


def test_compare_environment_sets_the_variable_on_one_side_only(monkeypatch):
    """The 'without' side must not inherit the variable from the shell that runs the comparison."""
    from benchmarks import compare_environment

    seen = []
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    monkeypatch.setattr(compare_environment.subprocess, "run", lambda *a, env, **k: seen.append(env) or _Done())
    compare_environment.main(["OMP_WAIT_POLICY=PASSIVE", "--rounds", "1"])
    assert "OMP_WAIT_POLICY" not in seen[0] and seen[1]["OMP_WAIT_POLICY"] == "PASSIVE"
    with pytest.raises(SystemExit):
        compare_environment.main(["OMP_WAIT_POLICY"])  # no value: refused


class _Done:
    stdout = '{"mlp": 1.0, "lenet": 2.0, "cnn": 3.0, "gru": 4.0}\n'


def test_fusion_ab_swaps_the_order_every_round_and_restores_the_switch(capsys, monkeypatch):
    """Rounds alternate which configuration runs first (a fixed order favours the second), and the user's
    fusion switch is what it was afterwards."""
    import tinygrad_maas as tm
    from benchmarks import fusion_ab

    order = []
    monkeypatch.setattr(
        fusion_ab, "median_seconds", lambda step, steps, warmup: order.append(tm.nn.fusion.enabled) or 1.0
    )
    fusion_ab.main(["mlp", "--rounds", "3", "--steps", "1"])
    assert order[2:] == [True, False, False, True, True, False]  # after the two warm-ups
    assert tm.nn.fusion.enabled is True
    assert "median of 3 per-round ratios: 1.000" in capsys.readouterr().out
