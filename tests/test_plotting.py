"""Curves of a plain training loop (or of `tinygrad-maas train --plot`) as a PNG."""

import pytest

import tinygrad_maas as tm
from tinygrad_maas.__main__ import main

pytest.importorskip("matplotlib", reason="plots need the plot extra: matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"


def test_plot_curves_of_a_plain_loop(tmp_path):
    curves = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.7, 0.8]}
    path = tm.plotting.plot_curves(curves, tmp_path / "curves.png", title="a run")
    assert path.read_bytes()[:8] == PNG


def test_nothing_to_plot_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="nothing to plot"):
        tm.plotting.plot_curves({"val_loss": [1.0]}, tmp_path / "x.png")


def test_the_train_command_can_plot(tmp_path):
    assert (
        main(
            [
                "train",
                "digits_mlp",
                "--epochs",
                "2",
                "--output",
                str(tmp_path / "m"),
                "--plot",
                str(tmp_path / "curves.png"),
            ]
        )
        == 0
    )
    assert (tmp_path / "curves.png").read_bytes()[:8] == PNG
