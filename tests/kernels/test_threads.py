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


def _dispatchers(value):
    """The numba dispatchers in a kernel module's global: itself, or those inside a dict or tuple."""
    from numba.core.registry import CPUDispatcher

    if isinstance(value, CPUDispatcher):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _dispatchers(item)
    elif isinstance(value, tuple):
        for item in value:
            yield from _dispatchers(item)


def test_every_kernel_is_cached_on_disk_and_found_again_by_the_next_process():
    """cache=True on every kernel, and no jitted function held in a kernel's closure: numba keys its disk
    cache by the closure's contents, and a dispatcher there differs in every process, so the kernel would
    compile again on every start (seconds each). Kernels made per block size or row count close over
    integers only."""
    import importlib
    import pkgutil

    from numba.core.registry import CPUDispatcher

    import tinygrad_maas.kernels as package

    checked = 0
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, value in vars(module).items():
            for dispatcher in _dispatchers(value):
                if dispatcher.py_func.__module__ != module.__name__:
                    continue  # imported from another kernel module: checked there
                inlined = dispatcher.targetoptions.get("inline") == "always"  # cached as part of its callers
                assert inlined or type(dispatcher._cache).__name__ != "NullCache", f"{name} has no disk cache"
                cells = dispatcher.py_func.__closure__ or ()
                held = [cell.cell_contents for cell in cells if isinstance(cell.cell_contents, CPUDispatcher)]
                assert not held, f"{module.__name__}.{name} holds jitted functions in its closure: {held}"
                checked += 1
    assert checked > 40
