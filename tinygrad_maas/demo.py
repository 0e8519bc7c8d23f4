"""The demo: fit y = sin(x) with a two-layer MLP, written with nothing but tensors and autograd.

    hidden = tanh(x W1 + b1)          (64 samples, 1 -> 32 features)
    y_hat  = hidden W2 + b2           (32 -> 1)
    loss   = mean((y_hat - y)^2)
    loss.backward()                   fills W1.grad, b1.grad, W2.grad, b2.grad
    p -= lr * p.grad                  a hand-written SGD step, under no_grad

The loss printed every few steps falls from about 0.5 towards 0.
"""

import time

import numpy as np

import tinygrad_maas as tm


def train_sine(steps=2000, hidden=32, lr=0.03, seed=0, report_every=None, log=print):
    """Train and return the list of losses; `log` receives one progress line every `report_every` steps."""
    tm.manual_seed(seed)
    x = tm.linspace(-np.pi, np.pi, 64).reshape(64, 1)
    y = x.sin()
    w1 = (tm.randn(1, hidden) * 1.0).requires_grad_()
    b1 = tm.zeros(hidden, requires_grad=True)
    w2 = (tm.randn(hidden, 1) * (1 / hidden**0.5)).requires_grad_()
    b2 = tm.zeros(1, requires_grad=True)
    parameters = [w1, b1, w2, b2]
    report_every = report_every or max(steps // 10, 1)
    losses = []
    for step in range(1, steps + 1):
        prediction = (x @ w1 + b1).tanh() @ w2 + b2
        loss = ((prediction - y) ** 2).mean()
        for p in parameters:
            p.grad = None
        loss.backward()
        with tm.no_grad():
            for p in parameters:
                p -= lr * p.grad
        losses.append(loss.item())
        if step == 1 or step % report_every == 0:
            log(f"step {step:5d}   loss {losses[-1]:.5f}")
    return losses


def main(steps=2000):
    print("tinygrad_maas demo: a 1-32-1 tanh MLP learns y = sin(x) on [-pi, pi] with plain gradient descent")
    start = time.perf_counter()
    losses = train_sine(steps=steps)
    seconds = time.perf_counter() - start
    print(f"loss fell from {losses[0]:.4f} to {losses[-1]:.5f} in {steps} steps ({seconds:.2f} s)")
    if not losses[-1] < losses[0] / 10:
        raise SystemExit("the loss did not fall tenfold: something is wrong with the engine")
