"""Programs written the way PyTorch's (and Keras') own examples are written, run as scripts with this
framework imported in place of torch: each must train to a sane metric, and, when PyTorch is installed,
to the same metric as PyTorch running the same program (`--real`) within the noise of a short run.

The noise is real: seeds alone move mnist_rnn's quick accuracy between 0.63 and 0.79 with either
framework, so the tolerances below are those spreads, not tighter.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

PROGRAMS = os.path.join(os.path.dirname(__file__), "programs")

# program: (the library it was written for, metric name, is the metric sane?, do the two agree within noise?)
EXPECTED = {
    "mnist_cnn": ("torch", "accuracy", lambda v: v >= 0.6, lambda ours, real: abs(ours - real) <= 0.12),
    "mnist_rnn": ("torch", "accuracy", lambda v: v >= 0.5, lambda ours, real: abs(ours - real) <= 0.2),
    "word_language_model": (
        "torch",
        "perplexity",
        lambda v: v <= 300,
        lambda ours, real: 1 / 1.5 <= ours / real <= 1.5,
    ),
    "vae": ("torch", "loss", lambda v: v <= 250, lambda ours, real: abs(ours - real) <= 15),
    "time_sequence_prediction": ("torch", "loss", lambda v: v <= 0.01, lambda ours, real: real <= 0.01),
    "keras_bidirectional_lstm": ("keras", "accuracy", lambda v: v >= 0.85, lambda ours, real: abs(ours - real) <= 0.08),
    "keras_addition_rnn": ("keras", "accuracy", lambda v: v >= 0.45, lambda ours, real: abs(ours - real) <= 0.1),
}


def run(program, *flags):
    result = subprocess.run(
        [sys.executable, os.path.join(PROGRAMS, f"{program}.py"), "--quick", *flags],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{program} {flags} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    metric_lines = [line.split() for line in result.stdout.splitlines() if line.startswith("METRIC ")]
    assert metric_lines, f"{program} printed no METRIC line:\n{result.stdout[-2000:]}"
    _, name, value = metric_lines[-1]
    return name, float(value)


@pytest.mark.parametrize("program", sorted(EXPECTED))
def test_program_trains_to_a_sane_metric(program):
    _, metric, sane, _ = EXPECTED[program]
    name, value = run(program)
    assert name == metric and sane(value), f"{program}: {name} {value}"


@pytest.mark.parametrize("program", sorted(EXPECTED))
def test_program_matches_the_real_library_within_noise(program):
    library, _, _, agree = EXPECTED[program]
    if importlib.util.find_spec(library) is None:
        pytest.skip(f"{library} is not installed (pip install {library}): nothing to compare with")
    _, ours = run(program)
    _, real = run(program, "--real")
    assert agree(ours, real), f"{program}: ours {ours}, {library} {real}"
