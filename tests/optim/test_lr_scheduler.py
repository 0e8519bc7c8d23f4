"""Learning-rate schedules (the lr after each scheduler.step(), from lr = 0.1) and gradient clipping."""

import math

import pytest

import tinygrad_maas as tm
from tinygrad_maas.nn.utils import clip_grad_norm_, clip_grad_value_
from tinygrad_maas.optim import SGD
from tinygrad_maas.optim import lr_scheduler as schedules


def _lrs(build, steps=8, metrics=None):
    p = tm.zeros(1, requires_grad=True)
    optimizer = SGD([p], lr=0.1)
    scheduler = build(optimizer)
    values = []
    for i in range(steps):
        optimizer.step()
        scheduler.step(metrics[i]) if metrics else scheduler.step()
        values.append(optimizer.param_groups[0]["lr"])
    return values


SCHEDULES = {
    "step": (lambda o: schedules.StepLR(o, step_size=3, gamma=0.5), [0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025]),
    "multistep": (
        lambda o: schedules.MultiStepLR(o, milestones=[2, 5], gamma=0.1),
        [0.1, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001, 0.001],
    ),
    "exponential": (lambda o: schedules.ExponentialLR(o, gamma=0.9), [0.1 * 0.9**k for k in range(1, 9)]),
    "cosine": (
        lambda o: schedules.CosineAnnealingLR(o, T_max=4, eta_min=0.01),
        [0.01 + 0.09 * (1 + math.cos(math.pi * k / 4)) / 2 for k in range(1, 9)],
    ),
    "lambda": (lambda o: schedules.LambdaLR(o, lambda epoch: 1 / (epoch + 1)), [0.1 / (k + 1) for k in range(1, 9)]),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule(name):
    build, expected = SCHEDULES[name]
    assert _lrs(build) == pytest.approx(expected, rel=1e-12)


def test_reduce_on_plateau_waits_patience_epochs_then_cuts():
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.85]
    lrs = _lrs(lambda o: schedules.ReduceLROnPlateau(o, patience=1, factor=0.5), metrics=metrics)
    assert lrs == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025])


def test_scheduler_state_dict_resumes_the_schedule():
    p = tm.zeros(1, requires_grad=True)
    optimizer = SGD([p], lr=0.1)
    scheduler = schedules.StepLR(optimizer, step_size=2, gamma=0.5)
    for _ in range(3):
        scheduler.step()
    state = scheduler.state_dict()
    resumed = schedules.StepLR(SGD([p], lr=0.1), step_size=2, gamma=0.5)
    resumed.load_state_dict(state)
    assert resumed.last_epoch == 3 and resumed.get_last_lr() == pytest.approx([0.05])


def test_clip_grad_norm_scales_all_gradients_together():
    a, b = tm.tensor([0.0, 0.0], requires_grad=True), tm.tensor([0.0], requires_grad=True)
    a.grad, b.grad = tm.tensor([3.0, 4.0]), tm.tensor([12.0])
    total = clip_grad_norm_([a, b], max_norm=1.0)
    assert total.item() == pytest.approx(13.0)  # sqrt(9 + 16 + 144)
    assert a.grad.tolist() == pytest.approx([3 / 13, 4 / 13], rel=1e-5)
    assert b.grad.tolist() == pytest.approx([12 / 13], rel=1e-5)


def test_clip_grad_norm_leaves_small_gradients_and_can_refuse_nan():
    a = tm.tensor([0.0], requires_grad=True)
    a.grad = tm.tensor([0.5])
    clip_grad_norm_([a], 1.0)
    assert a.grad.tolist() == [0.5]
    a.grad = tm.tensor([float("nan")])
    with pytest.raises(RuntimeError, match="total norm"):
        clip_grad_norm_([a], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_each_element():
    a = tm.tensor([0.0, 0.0, 0.0], requires_grad=True)
    a.grad = tm.tensor([-3.0, 0.5, 2.0])
    clip_grad_value_([a], 1.0)
    assert a.grad.tolist() == [-1.0, 0.5, 1.0]


def test_scheduler_argument_errors():
    optimizer = SGD([tm.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        schedules.StepLR(optimizer, step_size=0)
    with pytest.raises(ValueError, match="factor should be < 1.0"):
        schedules.ReduceLROnPlateau(optimizer, factor=1.5)
