"""The per-op timing tool times ops inside real training steps and leaves the framework as it found it."""

from benchmarks import op_times
from tinygrad_maas.ops.linear import Linear


def test_op_times_reports_each_op_and_restores_the_ops(capsys):
    forward_before = Linear.__dict__["forward"].__func__
    op_times.main(["mlp", "--steps", "2"])
    printed = capsys.readouterr().out
    assert "mlp:" in printed and "| Linear.forward |" in printed and "| Linear.backward |" in printed
    assert Linear.__dict__["forward"].__func__ is forward_before
