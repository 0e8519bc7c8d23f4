"""Run a job under `mpiexec -n N` from a test (skipped with the reason when the distributed extra is absent)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

JOBS = Path(__file__).resolve().parent / "jobs"


def mpiexec():
    """The mpiexec beside this Python (the mpich wheel's) or on PATH. Without one the multi-rank tests skip,
    unless TINYGRAD_MAAS_REQUIRE_MPI=1 (CI sets it): then a missing MPI fails them, so they always run there."""
    required = os.environ.get("TINYGRAD_MAAS_REQUIRE_MPI") == "1"
    missing = None
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        missing = "the distributed extra is not installed: pip install 'tinygrad_maas[distributed]'"
    beside_python = Path(sys.executable).parent / "mpiexec"
    found = str(beside_python) if beside_python.exists() else shutil.which("mpiexec")
    if missing is None and found is None:
        missing = "no mpiexec: pip install mpich (the distributed extra), or put your MPI's mpiexec on PATH"
    if missing is not None:
        if required:
            pytest.fail(f"TINYGRAD_MAAS_REQUIRE_MPI=1, but {missing}")
        pytest.skip(missing)
    return found


def run_job(name, *arguments, ranks=2, timeout=180):
    """(exit code, stdout, stderr) of jobs/<name>.py run on `ranks` processes, each with one thread."""
    environment = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    command = [mpiexec(), "-n", str(ranks), sys.executable, str(JOBS / f"{name}.py"), *map(str, arguments)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment)
    return result.returncode, result.stdout, result.stderr


def run_job_ok(name, *arguments, ranks=2, timeout=180):
    code, out, err = run_job(name, *arguments, ranks=ranks, timeout=timeout)
    assert code == 0, f"the job {name} failed with exit code {code}:\n{out}\n{err}"
    return out
