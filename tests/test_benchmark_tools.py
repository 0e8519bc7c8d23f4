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
