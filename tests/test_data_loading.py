"""DataLoader as PyTorch programs use it: samplers, batch samplers, worker processes, PyTorch's import
paths, and errors that name the mistake."""

import os

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    get_worker_info,
)


class Squares(Dataset):
    """sample i = (i, i^2, a random draw): the draw shows which generator a worker used."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return tm.tensor([float(i)]), i * i, float(np.random.random())


def rows(loader):
    return [batch[1].tolist() for batch in loader]


def test_pytorch_import_paths_work():
    import tinygrad_maas.nn.modules.loss as loss_module
    from tinygrad_maas.nn.modules.module import Module

    assert Module is tm.nn.Module and loss_module._Loss is tm.nn.loss._Loss
    assert tm.utils.data.DataLoader is tm.data.DataLoader and tm.nn.modules.Linear is tm.nn.Linear


def test_samplers_and_batch_samplers():
    assert list(SequentialSampler(range(3))) == [0, 1, 2]
    tm.manual_seed(0)
    assert sorted(RandomSampler(range(5))) == [0, 1, 2, 3, 4]
    assert len(list(RandomSampler(range(5), replacement=True, num_samples=12))) == 12
    assert sorted(SubsetRandomSampler([7, 8, 9])) == [7, 8, 9]
    assert set(WeightedRandomSampler([0.0, 1.0, 0.0], 20)) == {1}
    assert list(BatchSampler(range(5), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(range(5), 2, drop_last=True)) == [[0, 1], [2, 3]]


def test_sampler_batch_sampler_and_no_batching():
    data = Squares()
    assert rows(DataLoader(data, batch_size=3, sampler=[9, 0, 4])) == [[81, 0, 16]]
    assert rows(DataLoader(data, batch_sampler=[[1, 2], [3]])) == [[1, 4], [9]]
    single = list(DataLoader(range(3), batch_size=None))
    assert single == [0, 1, 2]  # no batching: samples as they are, as PyTorch
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(data, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(data, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        DataLoader(data, batch_size=0)


def test_a_seeded_shuffle_repeats_and_a_generator_decides_the_order():
    tm.manual_seed(5)
    first = rows(DataLoader(Squares(), batch_size=4, shuffle=True))
    tm.manual_seed(5)
    assert rows(DataLoader(Squares(), batch_size=4, shuffle=True)) == first
    g = tm.Generator().manual_seed(1)
    again = tm.Generator().manual_seed(1)
    assert rows(DataLoader(Squares(), batch_size=4, shuffle=True, generator=g)) == rows(
        DataLoader(Squares(), batch_size=4, shuffle=True, generator=again)
    )


def test_ragged_samples_are_named():
    ragged = [tm.ones(2), tm.ones(3)]
    with pytest.raises(ValueError, match=r"one shape.*\(2,\) at entry 0 and \(3,\) at entry 1"):
        list(DataLoader(ragged, batch_size=2))


def test_concat_dataset():
    both = ConcatDataset([TensorDataset(tm.arange(3)), TensorDataset(tm.arange(10, 12))])
    assert len(both) == 5 and both[3][0].item() == 10 and both[-1][0].item() == 11


def record_worker(worker_id):
    info = get_worker_info()
    np.random.seed(info.seed % 2**32)  # what PyTorch programs do for NumPy augmentations


def test_workers_give_the_same_batches_in_the_same_order():
    serial = rows(DataLoader(Squares(), batch_size=3))
    parallel = DataLoader(Squares(), batch_size=3, num_workers=2, pin_memory=True)
    assert rows(parallel) == serial and len(parallel) == 4
    labels = [batch[0].tolist() for batch in DataLoader(Squares(), batch_size=5, num_workers=2)]
    assert labels == [[[0.0], [1.0], [2.0], [3.0], [4.0]], [[5.0], [6.0], [7.0], [8.0], [9.0]]]


def test_worker_randomness_is_deterministic_under_a_seed():
    def draws():
        tm.manual_seed(3)
        loader = DataLoader(Squares(), batch_size=2, num_workers=2, worker_init_fn=record_worker)
        return [batch[2].tolist() for batch in loader]

    first = draws()
    assert draws() == first and len({tuple(b) for b in first}) == 5


def test_persistent_workers_survive_epochs_and_an_early_break():
    loader = DataLoader(Squares(), batch_size=2, num_workers=2, persistent_workers=True, prefetch_factor=1)
    for _batch in loader:
        break  # abandoned epoch: its outstanding batches must not leak into the next
    pids = [w.pid for w in loader._pool.workers]
    assert rows(loader) == [[0, 1], [4, 9], [16, 25], [36, 49], [64, 81]]
    assert [w.pid for w in loader._pool.workers] == pids
    loader._pool.shutdown()


class Failing(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise KeyError("sample 2 is broken")
        return i


class Dying(Failing):
    def __getitem__(self, i):
        os._exit(3)


def test_an_error_in_a_worker_is_raised_with_its_traceback():
    with pytest.raises(RuntimeError, match="(?s)worker 1 raised KeyError while loading batch 1.*sample 2 is broken"):
        list(DataLoader(Failing(), batch_size=2, num_workers=2))


def test_a_dead_worker_is_an_error_not_a_hang():
    with pytest.raises(RuntimeError, match="exited unexpectedly with exit code 3"):
        list(DataLoader(Dying(), batch_size=2, num_workers=1))


def test_worker_arguments_are_checked():
    with pytest.raises(ValueError, match="num_workers > 0"):
        DataLoader(Squares(), persistent_workers=True)
    with pytest.raises(ValueError, match="num_workers must be a non-negative integer"):
        DataLoader(Squares(), num_workers=-1)


class Countdown(tm.utils.data.IterableDataset):
    def __iter__(self):
        return iter(tm.tensor([float(i)]) for i in range(5, 0, -1))


def test_an_iterable_dataset_is_batched_in_its_own_order():
    assert [b.tolist() for b in DataLoader(Countdown(), batch_size=2)] == [[[5.0], [4.0]], [[3.0], [2.0]], [[1.0]]]
    assert len(list(DataLoader(Countdown(), batch_size=2, drop_last=True))) == 2
    with pytest.raises(ValueError, match="gives its own order"):
        DataLoader(Countdown(), shuffle=True)


def test_workers_exit_when_the_main_process_dies(tmp_path):
    import subprocess
    import sys
    import time

    script = tmp_path / "orphan.py"
    script.write_text(
        "import os, tinygrad_maas as tm\n"
        "loader = tm.utils.data.DataLoader(list(range(8)), batch_size=2, num_workers=2, persistent_workers=True)\n"
        "next(iter(loader))\n"
        "print(' '.join(str(w.pid) for w in loader._pool.workers), flush=True)\n"
        "os._exit(0)\n"  # no clean-up: the workers are left waiting for work
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=30)
    pids = [int(pid) for pid in result.stdout.split()]
    assert len(pids) == 2, result.stderr
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{pid}") for pid in pids):
        time.sleep(0.2)
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)
