"""The fused numba Adam and SGD updates agree with their NumPy twins, for every option and both dtypes."""

import numpy as np
import pytest

from tinygrad_maas import backend
from tinygrad_maas.kernels import optim as numba_optim
from tinygrad_maas.reference import optim as numpy_optim

# Rows of a parameter: a small one runs the serial build, a large one numba's threads.
BUILDS = {
    "serial build": 37,
    "threaded build": max(numba_optim.ADAM_THREADS_FROM, numba_optim.SGD_THREADS_FROM) // 3 + 1,
}


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "amsgrad, weight_decay, decoupled",
    [(False, 0.0, False), (True, 0.1, False), (False, 0.1, True), (True, 0.05, True)],
)
def test_adam_step_twins_agree_over_several_steps(amsgrad, weight_decay, decoupled, dtype, build):
    rng = np.random.default_rng(0)
    states = []
    for _ in range(2):
        param = rng.standard_normal((BUILDS[build], 5)).astype(dtype)
        states.append([param, np.zeros_like(param), np.zeros_like(param), np.zeros_like(param) if amsgrad else None])
    states[1][0][...] = states[0][0]
    for step in range(1, 4):
        grad = rng.standard_normal((BUILDS[build], 5)).astype(dtype)
        for module, (param, m, v, vmax) in zip((numpy_optim, numba_optim), states):
            module.adam_step(param, grad, m, v, vmax, 0.01, 0.9, 0.999, 1e-8, weight_decay, step, decoupled)
    tolerance = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-14}
    for expected, actual in zip(states[0], states[1]):
        if expected is not None:
            np.testing.assert_allclose(actual, expected, **tolerance)


def test_non_contiguous_parameters_take_the_numpy_path():
    param = np.ones((4, 6))[:, ::2]
    grad = np.ones_like(param)
    m, v = np.zeros_like(param), np.zeros_like(param)
    chosen = backend.optimizer_kernels(param, m, v)
    assert chosen is numpy_optim
    chosen.adam_step(param, grad, m, v, None, 0.1, 0.9, 0.999, 1e-8, 0.0, 1, False)
    np.testing.assert_allclose(param, 0.9)


def test_contiguous_float_parameters_take_the_numba_loops_on_the_numba_backend():
    arrays = (np.ones((4, 3), np.float32), np.zeros((4, 3), np.float32))
    expected = numba_optim if backend.current() == "numba" else numpy_optim
    assert backend.optimizer_kernels(*arrays) is expected


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "momentum, dampening, weight_decay, nesterov",
    [(0.0, 0.0, 0.0, False), (0.9, 0.0, 0.0, False), (0.9, 0.3, 0.1, False), (0.8, 0.0, 0.05, True)],
)
def test_sgd_step_twins_agree_over_several_steps(momentum, dampening, weight_decay, nesterov, dtype, build):
    rng = np.random.default_rng(1)
    param = rng.standard_normal((BUILDS[build], 3)).astype(dtype)
    states = [[param.copy(), np.empty_like(param) if momentum else None] for _ in range(2)]
    for step in range(1, 5):  # the first step puts the gradient itself into the momentum buffer
        grad = rng.standard_normal((BUILDS[build], 3)).astype(dtype)
        for module, (param, buffer) in zip((numpy_optim, numba_optim), states):
            module.sgd_step(param, grad, buffer, 0.05, momentum, dampening, weight_decay, nesterov, step == 1)
    tolerance = {"rtol": 1e-6, "atol": 1e-7} if dtype == np.float32 else {"rtol": 1e-13, "atol": 1e-15}
    for expected, actual in zip(states[0], states[1]):
        if expected is not None:
            np.testing.assert_allclose(actual, expected, **tolerance)
            assert actual.dtype == dtype


def test_a_transposed_gradient_is_read_correctly():
    param, grad = np.zeros((3, 4)), np.arange(12.0).reshape(4, 3).T  # grad is a strided view
    numba_optim.sgd_step(param, grad, None, 1.0, 0.0, 0.0, 0.0, False, False)
    np.testing.assert_array_equal(param, -grad)


@pytest.mark.parametrize("step", ["sgd", "adam"])
def test_float16_parameters_take_the_numpy_path(step):
    param = np.ones(4, np.float16)
    grad = np.full(4, 2, np.float16)
    chosen = backend.optimizer_kernels(param)
    assert chosen is numpy_optim
    if step == "sgd":
        chosen.sgd_step(param, grad, np.empty_like(param), 0.1, 0.9, 0.0, 0.0, False, True)
        np.testing.assert_allclose(param, 0.8, rtol=1e-3)
    else:
        chosen.adam_step(
            param, grad, np.zeros_like(param), np.zeros_like(param), None, 0.1, 0.9, 0.999, 1e-8, 0.0, 1, False
        )
        np.testing.assert_allclose(param, 0.9, rtol=1e-3)
    assert param.dtype == np.float16
