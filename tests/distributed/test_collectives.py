"""Collectives on 2 ranks under mpiexec, checked against NumPy; failures end the job, never hang it."""

import os
import subprocess
import sys
import time

import pytest

from .mpi import JOBS, mpiexec, run_job, run_job_ok

COLLECTIVES = [
    "all_reduce sum",
    "all_reduce avg",
    "all_reduce max",
    "all_reduce min",
    "all_reduce product",
    "all_reduce async",
    "all_reduce int64",
    "all_reduce non-contiguous",
    "broadcast",
    "all_gather",
    "reduce_scatter",
    "send and recv",
    "barrier",
]


def test_every_collective_equals_numpy_on_two_ranks():
    lines = run_job_ok("collectives").splitlines()
    assert lines == [f"ok {name}" for name in COLLECTIVES]


def test_a_failing_rank_ends_the_job_within_60_seconds():
    """A rank that raises names itself and MPI_Abort ends every rank, under plain mpiexec. (A rank that dies
    without an exception is left to mpiexec's cleanup there, which MPICH's has been seen to miss: the
    runner's lessons below cover that case, because the runner does not rely on it.)"""
    start = time.monotonic()
    code, out, err = run_job("failing_rank", timeout=120)
    assert time.monotonic() - start < 60
    assert code != 0 and "rank 0 was never answered" not in out, (code, out, err)
    assert "[rank 1] failed" in err and "the data of this rank is broken" in err, (code, out, err)


@pytest.mark.parametrize("how", ["kill", "exit"])
def test_the_runner_names_a_rank_that_died_without_an_exception(how):
    mpiexec()  # skips (or fails, in CI) without MPI
    environment = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    command = [sys.executable, "-m", "tinygrad_maas.distributed.run", "-n", "2", str(JOBS / "dying_rank.py"), how]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment, cwd="/")
    assert time.monotonic() - start < 60
    assert done.returncode != 0 and "rank 0 was never answered" not in done.stdout
    how_it_ended = "was killed by signal 9 (SIGKILL)" if how == "kill" else "exited with code 3"
    assert f"rank 1 {how_it_ended}, first of the job's 2 ranks" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def test_the_runner_stops_the_job_when_the_launcher_misses_a_dead_rank(monkeypatch, tmp_path):
    """MPICH's mpiexec now and then reaps a dead rank and leaves the others waiting; the runner's watchers
    recorded the failure, so after CLEANUP_GRACE seconds the runner kills the rest itself."""
    from tinygrad_maas.distributed import run

    monkeypatch.setattr(run, "CLEANUP_GRACE", 1.0)
    said, pid_file = [], tmp_path / "rank-0.pid"
    start = time.monotonic()
    code = run.run(
        2,
        [str(JOBS / "stranded_rank.py"), str(pid_file)],
        log=said.append,
        launcher=[sys.executable, str(JOBS / "forgetful_launcher.py")],
    )
    assert code != 0 and time.monotonic() - start < 30
    assert any("mpiexec had not stopped the others after 1 s; stopping them" in line for line in said), said
    assert any("rank 1 exited with code 3, first of the job's 2 ranks" in line for line in said), said
    assert _ends_within(int(pid_file.read_text()), seconds=10)  # the stranded rank is gone, not orphaned


def _ends_within(pid, seconds):
    """Whether process `pid` is gone (or a zombie: killed, waiting to be reaped) within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as file:
                if file.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_a_rank_that_never_joins_is_a_timeout_error_naming_the_collective():
    _, out, _ = run_job("timeout", timeout=120)
    assert "timed out: all_reduce on rank 0 did not complete within 2 s" in out


def test_collectives_before_init_say_what_to_do():
    import tinygrad_maas as tm
    import tinygrad_maas.distributed as dist

    if dist.is_initialized():
        pytest.skip("a process group is running in this process")
    with pytest.raises(RuntimeError, match="call tinygrad_maas.distributed.init_process_group"):
        dist.all_reduce(tm.ones(2))


def test_mismatched_calls_are_errors_on_every_rank_with_the_debug_checks():
    assert run_job_ok("mismatch").splitlines() == ["ok different sizes", "ok different collectives"]
