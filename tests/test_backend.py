"""Backend switching: the numba kernels and the NumPy reference path are interchangeable."""

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn.functional as F


@pytest.fixture
def restore_backend():
    previous = tm.backend.current()
    yield
    tm.backend.use(previous)


def test_both_backends_give_the_same_conv2d_forward_and_backward(restore_backend):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 8, 7)).astype(np.float32), rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    results = {}
    for name in tm.backend.BACKENDS:
        tm.backend.use(name)
        X, W = tm.tensor(x, requires_grad=True), tm.tensor(w, requires_grad=True)
        out = F.conv2d(X, W, stride=2, padding=1)
        (out * out).sum().backward()
        results[name] = (out.data, X.grad.data, W.grad.data)
    for numba_array, numpy_array in zip(*results.values()):
        np.testing.assert_allclose(numba_array, numpy_array, rtol=1e-5, atol=1e-5)


def test_unknown_backend_is_refused(restore_backend):
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        tm.backend.use("cuda")


def test_set_num_threads_validates_and_sets():
    with pytest.raises(ValueError, match="positive integer"):
        tm.set_num_threads(0)
    with pytest.raises(ValueError, match="NUMBA_NUM_THREADS"):
        tm.set_num_threads(10_000)
    previous = tm.get_num_threads()
    try:
        tm.set_num_threads(1)
        assert tm.get_num_threads() == 1
    finally:
        tm.set_num_threads(previous)


def test_the_matmul_kernel_refuses_mismatched_shapes_before_running():
    from tinygrad_maas.kernels import matmul

    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(4, 2\) cannot be multiplied"):
        matmul.matmul(np.ones((2, 3)), np.ones((4, 2)))


def test_importing_the_package_leaves_numba_unloaded_until_a_kernel_runs():
    import subprocess
    import sys

    code = ("import sys, tinygrad_maas as tm, tinygrad_maas.nn.functional as F; "
            "before = 'numba' in sys.modules; F.max_pool2d(tm.ones(1, 1, 2, 2), 2); "
            "print(before, 'numba' in sys.modules)")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**__import__('os').environ, "TINYGRAD_MAAS_BACKEND": "numba"}).stdout
    assert output.split() == ["False", "True"]


def _tuned_in_subprocess(**environment):
    import os
    import subprocess
    import sys

    code = "import tinygrad_maas.memory as m, tinygrad_maas; print(m.tuned)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(environment)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=env).stdout.strip()


def test_malloc_is_tuned_at_import_on_glibc_unless_switched_off():
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc tuning applies to Linux with glibc only")
    assert _tuned_in_subprocess() == "True"
    assert _tuned_in_subprocess(TINYGRAD_MAAS_MALLOC_TUNING="0") == "False"
    assert _tuned_in_subprocess(MALLOC_MMAP_THRESHOLD_="1000000") == "False"  # the user's own setting wins
