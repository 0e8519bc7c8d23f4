"""kernels.threads.launch: small work runs on the calling thread alone, and the thread count comes back."""

import numba
import numpy as np
import pytest
from numba import njit, prange

from tinygrad_maas.kernels.threads import launch


@njit(parallel=True)
def _thread_counts(out):
    for i in prange(out.size):
        out[i] = numba.get_num_threads()


def test_work_below_the_threshold_runs_on_one_thread_and_from_it_on_all():
    threads = numba.get_num_threads()
    counts = np.zeros(8, np.int64)
    launch(_thread_counts, 999, 1000, counts)
    assert counts.tolist() == [1] * 8
    assert numba.get_num_threads() == threads
    launch(_thread_counts, 1000, 1000, counts)
    assert counts.tolist() == [threads] * 8


def test_the_thread_count_comes_back_when_the_kernel_fails():
    threads = numba.get_num_threads()
    with pytest.raises(numba.core.errors.TypingError):
        launch(_thread_counts, 1, 1000, "not an array")
    assert numba.get_num_threads() == threads


def test_a_numba_without_the_raw_setters_gets_the_public_ones(monkeypatch):
    """launch uses numba's own lock-free getter and setter where numba has them, the public functions
    otherwise; either way the kernel runs on one thread and the count comes back."""
    import types

    from tinygrad_maas.kernels import threads as module

    older_numba = types.SimpleNamespace(_launch_threads=lambda: None)  # no _get/_set_num_threads
    monkeypatch.setattr(module, "_count", module._thread_count(older_numba))
    assert module._count == (numba.get_num_threads, numba.set_num_threads)
    threads = numba.get_num_threads()
    counts = np.zeros(4, np.int64)
    launch(_thread_counts, 1, 1000, counts)
    assert counts.tolist() == [1] * 4 and numba.get_num_threads() == threads
