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
        results[name] = (out.array, X.grad.array, W.grad.array)
    for numba_array, numpy_array in zip(*results.values()):
        np.testing.assert_allclose(numba_array, numpy_array, rtol=1e-5, atol=1e-5)


def test_the_weight_gradient_kernel_is_chosen_only_where_it_measured_faster():
    from tinygrad_maas.backend import _kernel_wins

    assert _kernel_wins(6, 75, 64 * 28 * 28, 4)  # lenet's first layer: few output tiles, a long shared axis
    assert not _kernel_wins(1024, 1024, 1024, 4)  # a large square product: BLAS
    assert not _kernel_wins(6, 9, 100, 4)  # too little work to start threads for
    assert not _kernel_wins(32, 75, 64 * 28 * 28, 4)  # Bt would be streamed too often


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_conv2d_weight_gradient_through_the_kernel_matches_the_numpy_backend(restore_backend, dtype):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((8, 3, 32, 32)).astype(dtype), rng.standard_normal((6, 3, 5, 5)).astype(dtype)
    grads = {}
    for name in tm.backend.BACKENDS:  # 6 x 75 x 6272: on the numba backend the kernel computes dL/dW
        tm.backend.use(name)
        W = tm.tensor(w, requires_grad=True)
        F.conv2d(tm.tensor(x), W).square().sum().backward()
        grads[name] = W.grad.array
    tolerance = {"rtol": 1e-4, "atol": 1e-2} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-9}
    np.testing.assert_allclose(grads["numba"], grads["numpy"], **tolerance)


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

    code = (
        "import sys, tinygrad_maas as tm, tinygrad_maas.nn.functional as F; "
        "before = 'numba' in sys.modules; F.max_pool2d(tm.ones(1, 1, 2, 2), 2); "
        "print(before, 'numba' in sys.modules)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "TINYGRAD_MAAS_BACKEND": "numba"},
    ).stdout
    assert output.split() == ["False", "True"]


@pytest.mark.parametrize("first_call", ["tm.get_num_threads()", "tm.set_num_threads(1)"])
def test_asking_for_threads_before_any_kernel_still_starts_numbas_pool_with_sleeping_workers(first_call):
    """numba starts its OpenMP pool at the first thread query; the wait policy must be set before that."""
    import os
    import subprocess
    import sys

    code = f"import os, tinygrad_maas as tm; {first_call}; print(os.environ.get('OMP_WAIT_POLICY'))"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert output.stdout.strip() == "PASSIVE"


@pytest.mark.parametrize(
    ("code", "preset", "expected"),
    [
        ("import tinygrad_maas", None, "19"),  # imported first: OpenBLAS will read our setting
        ("import tinygrad_maas", "25", "25"),  # the user's value wins
        ("import numpy, tinygrad_maas", None, "None"),  # NumPy loaded OpenBLAS already: left alone
    ],
)
def test_importing_before_numpy_lets_idle_openblas_threads_sleep_after_2_to_the_19_cycles(code, preset, expected):
    """OpenBLAS's idle threads spin for 2**OPENBLAS_THREAD_TIMEOUT cycles (2**28 by default) and take the
    core from numba's kernels meanwhile; the variable counts only before NumPy loads OpenBLAS."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if preset is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = preset
    program = f"import os; {code}; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    output = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, env=env)
    assert output.stdout.strip() == expected


def _tuned_in_subprocess(**environment):
    import os
    import subprocess
    import sys

    code = "import tinygrad_maas.memory as m, tinygrad_maas; print(m.tuned)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()


def test_malloc_is_tuned_at_import_on_glibc_unless_switched_off():
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc tuning applies to Linux with glibc only")
    assert _tuned_in_subprocess() == "True"
    assert _tuned_in_subprocess(TINYGRAD_MAAS_MALLOC_TUNING="0") == "False"
    assert _tuned_in_subprocess(MALLOC_MMAP_THRESHOLD_="1000000") == "False"  # the user's own setting wins
