"""DistributedDataParallel on 2 ranks (jobs/ddp.py): the same parameters as one process on the same global
batch within 1e-6 (float64), with one bucket or one per parameter, and with no_sync accumulation; models
that differ between ranks and parameters left without gradients are errors naming them."""

from .mpi import run_job_ok


def test_two_ranks_train_exactly_as_one_process_on_the_whole_batch(tmp_path):
    assert run_job_ok("ddp", tmp_path).splitlines() == [
        "ok ddp",
        "ok ddp small buckets",
        "ok no_sync accumulation",
        "ok resumed from rank 0's checkpoint",
        "ok different shapes refused",
        "ok unused parameters named",
    ]


def test_wrapping_needs_a_process_group():
    import pytest

    import tinygrad_maas as tm

    with pytest.raises(RuntimeError, match="process group is not initialized"):
        tm.nn.parallel.DistributedDataParallel(tm.nn.Linear(2, 2))


def test_keras_fit_under_mpiexec_takes_one_process_steps_and_reports_once(tmp_path):
    """jobs/keras_fit.py: the script unchanged, 2 ranks give a single process's weights (shuffle=False);
    checkpoints and the CSV log are written by rank 0 only."""
    out = run_job_ok("keras_fit", tmp_path)
    assert out.count("Epoch 3/3") == 1 and out.strip().endswith("ok keras fit")
