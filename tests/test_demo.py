"""The README's main job: the demo trains a small model with the engine and its loss falls."""

import subprocess
import sys

from tinygrad_maas.demo import train_sine


def test_the_demo_loss_falls_tenfold_in_300_steps():
    lines = []
    losses = train_sine(steps=300, log=lines.append)
    assert losses[-1] < losses[0] / 10
    assert lines[0].startswith("step     1   loss")


def test_the_command_line_runs_the_demo():
    result = subprocess.run(
        [sys.executable, "-m", "tinygrad_maas", "demo", "--steps", "50"], capture_output=True, text=True, check=True
    )
    assert "loss fell from" in result.stdout


def test_the_command_line_has_help():
    result = subprocess.run([sys.executable, "-m", "tinygrad_maas", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "demo" in result.stdout
