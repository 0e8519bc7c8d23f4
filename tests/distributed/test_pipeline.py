"""Pipeline parallelism: the schedules' step orders (as drawn in distributed/pipeline.py) and, on 2 ranks
under mpiexec, gradients equal to one process's within 1e-6 for GPipe and 1F1B."""

from tinygrad_maas import nn
from tinygrad_maas.distributed.pipeline import _balance, _order

from .mpi import run_job_ok


def test_gpipe_runs_every_forward_then_every_backward():
    assert _order("gpipe", 0, 2, 3) == [("F", 0), ("F", 1), ("F", 2), ("B", 2), ("B", 1), ("B", 0)]


def test_1f1b_warms_up_then_alternates():
    assert _order("1f1b", 0, 2, 4) == [("F", 0), ("F", 1), ("B", 0), ("F", 2), ("B", 1), ("F", 3), ("B", 2), ("B", 3)]
    assert _order("1f1b", 1, 2, 4) == [("F", 0), ("B", 0), ("F", 1), ("B", 1), ("F", 2), ("B", 2), ("F", 3), ("B", 3)]


def test_the_default_balance_splits_parameters_evenly_and_gives_every_stage_a_layer():
    layers = [nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10)]
    assert _balance(layers, 2) == [2, 3]
    assert _balance([nn.ReLU(), nn.ReLU(), nn.ReLU()], 3) == [1, 1, 1]


def test_two_stages_give_one_process_gradients_with_both_schedules():
    assert run_job_ok("pipeline").splitlines() == ["ok gpipe", "ok 1f1b", "ok large activations"]
