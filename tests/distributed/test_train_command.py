"""`mpiexec -n 2 tinygrad-maas train RECIPE` trains data-parallel: one rank reports, the model is saved
once, and it loads and predicts."""

import sys

import numpy as np

from .mpi import mpiexec


def test_the_train_command_under_mpiexec_reports_and_saves_once(tmp_path):
    import os
    import subprocess

    output = tmp_path / "diabetes"
    command = [mpiexec(), "-n", "2", sys.executable, "-m", "tinygrad_maas", "train", "diabetes_mlp"]
    command += ["--epochs", "5", "--output", str(output)]
    environment = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("saved to") == 1 and result.stdout.count("epoch   5/5") == 1
    assert result.stdout.count("diabetes_mlp: ") == 1  # the recipe's introduction, from rank 0 only

    from tinygrad_maas.nn.architecture import load_model

    model, metadata = load_model(output)
    assert metadata["ranks"] == 2 and np.isfinite(metadata["test_metrics"]["r2"])
