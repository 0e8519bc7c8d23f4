"""Optimizers: three steps on f(p) = p^2 / 2 (gradient p) from p = 1, per option, values written out.

The SGD rows can be checked by hand: plain SGD multiplies p by (1 - lr) each step; with momentum 0.9 the
buffer is 1, 0.9 * 1 + 0.9 = 1.8, 0.9 * 1.8 + 0.72 = 2.34, so p = 0.9, 0.72, 0.486. Every row also matches
torch.optim 2.13 to 10 digits.
"""

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas.optim import SGD, Adagrad, Adam, AdamW, RMSprop

TRAJECTORIES = {
    "sgd": (SGD, {"lr": 0.1}, [0.9, 0.81, 0.729]),
    "sgd_momentum": (SGD, {"lr": 0.1, "momentum": 0.9}, [0.9, 0.72, 0.486]),
    "sgd_nesterov": (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}, [0.81, 0.5751, 0.327321]),
    "sgd_dampening": (SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}, [0.9, 0.765, 0.60525]),
    "sgd_weight_decay": (SGD, {"lr": 0.1, "weight_decay": 0.1}, [0.89, 0.7921, 0.704969]),
    "sgd_maximize": (SGD, {"lr": 0.1, "maximize": True}, [1.1, 1.21, 1.331]),
    "adam": (Adam, {"lr": 0.1}, [0.900000001, 0.8004122297, 0.7015862745]),
    "adam_weight_decay": (Adam, {"lr": 0.1, "weight_decay": 0.5}, [0.9000000007, 0.800412229, 0.7015862735]),
    "adam_amsgrad": (
        Adam,
        {"lr": 0.1, "betas": (0.5, 0.5), "amsgrad": True},
        [0.900000001, 0.8001273096, 0.7010501745],
    ),
    "adamw": (AdamW, {"lr": 0.1, "weight_decay": 0.5}, [0.850000001, 0.7082484444, 0.5749739323]),
    "adagrad": (Adagrad, {"lr": 0.1}, [0.9, 0.8331035269, 0.7804561814]),
    "adagrad_lr_decay": (
        Adagrad,
        {"lr": 0.1, "lr_decay": 0.5, "initial_accumulator_value": 1.0},
        [0.9292893219, 0.8926788666, 0.8693497781],
    ),
    "rmsprop": (RMSprop, {"lr": 0.01}, [0.90000001, 0.8329179753, 0.779982282]),
    "rmsprop_momentum": (RMSprop, {"lr": 0.01, "momentum": 0.9}, [0.90000001, 0.7429179843, 0.5529149532]),
    "rmsprop_centered": (RMSprop, {"lr": 0.01, "centered": True}, [0.8994962286, 0.8317593871, 0.7780684196]),
}


def _three_steps(optimizer_class, options):
    p = tm.tensor([1.0], dtype=tm.float64, requires_grad=True)
    optimizer = optimizer_class([p], **options)
    values = []
    for _ in range(3):
        optimizer.zero_grad()
        (p * p * 0.5).sum().backward()
        optimizer.step()
        values.append(p.item())
    return values


@pytest.mark.parametrize("name", TRAJECTORIES)
def test_reference_trajectory(name):
    optimizer_class, options, expected = TRAJECTORIES[name]
    assert _three_steps(optimizer_class, options) == pytest.approx(expected, rel=1e-9)


def test_defaults_match_pytorch():
    p = [tm.zeros(1, requires_grad=True)]
    assert SGD(p).defaults["lr"] == 1e-3
    assert Adam(p).defaults == {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0,
        "amsgrad": False,
        "maximize": False,
    }
    assert AdamW(p).defaults["weight_decay"] == 1e-2
    assert Adagrad(p).defaults["lr"] == 1e-2 and Adagrad(p).defaults["eps"] == 1e-10
    assert RMSprop(p).defaults["alpha"] == 0.99 and RMSprop(p).defaults["lr"] == 1e-2


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda p: SGD(p, lr=-1), "Invalid learning rate: -1"),
        (lambda p: SGD(p, lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda p: SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
        (lambda p: Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
        (lambda p: Adam(p, eps=-1e-8), "Invalid epsilon value"),
        (lambda p: AdamW(p, weight_decay=-0.1), "Invalid weight decay value: -0.1"),
        (lambda p: RMSprop(p, alpha=-0.1), "Invalid alpha value"),
        (lambda p: SGD([], lr=0.1), "empty parameter list"),
        (lambda p: SGD([tm.zeros(2)], lr=0.1), "does not require grad"),
    ],
)
def test_bad_hyper_parameters_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build([tm.zeros(2, requires_grad=True)])


def test_parameter_groups_have_their_own_options():
    a, b = tm.tensor([1.0], requires_grad=True), tm.tensor([1.0], requires_grad=True)
    optimizer = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    (a.sum() + b.sum()).backward()
    optimizer.step()
    assert a.item() == pytest.approx(0.9) and b.item() == pytest.approx(0.5)
    assert [group["lr"] for group in optimizer.param_groups] == [0.1, 0.5]


def test_parameters_without_gradients_are_skipped():
    a, b = tm.tensor([1.0], requires_grad=True), tm.tensor([1.0], requires_grad=True)
    optimizer = Adam([a, b], lr=0.1)
    a.sum().backward()
    optimizer.step()
    assert b.item() == 1.0 and b not in optimizer.state


def test_state_dict_round_trip_continues_the_same_trajectory():
    p = tm.tensor([1.0], dtype=tm.float64, requires_grad=True)
    first = Adam([p], lr=0.1)
    for _ in range(2):
        first.zero_grad()
        (p * p * 0.5).sum().backward()
        first.step()
    q = tm.tensor(p.array.copy(), requires_grad=True)
    second = Adam([q], lr=0.5)
    second.load_state_dict(first.state_dict())
    for optimizer, param in ((first, p), (second, q)):
        optimizer.zero_grad()
        (param * param * 0.5).sum().backward()
        optimizer.step()
    assert q.item() == p.item() == pytest.approx(0.7015862745, rel=1e-9)
    assert second.param_groups[0]["lr"] == 0.1


def test_a_step_after_forward_makes_that_forward_stale():
    w = tm.tensor([1.0, 2.0], requires_grad=True)
    optimizer = SGD([w], lr=0.1)
    (w * w).sum().backward()
    loss = (w * w).sum()  # saves w's array
    optimizer.step()  # changes it in place
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_zero_grad_sets_to_none_by_default_or_to_zeros():
    p = tm.tensor([1.0], requires_grad=True)
    optimizer = SGD([p], lr=0.1)
    p.sum().backward()
    optimizer.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0]
    optimizer.zero_grad()
    assert p.grad is None


def test_sgd_on_float32_parameters_keeps_float32():
    p = tm.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    optimizer = SGD([p], lr=0.1, momentum=0.9)
    (p * p).sum().backward()
    optimizer.step()
    assert p.dtype == tm.float32 and optimizer.state[p]["momentum_buffer"].dtype == np.float32
