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
