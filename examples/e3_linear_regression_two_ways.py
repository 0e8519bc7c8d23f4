"""Example 3: linear regression fitted twice on the diabetes data: by gradient descent with the gradient
derived by hand, then with autograd computing it. Same start, same steps: the same parameters.

    loss(w, b) = mean((X w + b - y)^2)
    d loss / d w = 2/N X^T (X w + b - y)          d loss / d b = 2/N sum(X w + b - y)

python examples/e3_linear_regression_two_ways.py [--fast]
"""

import argparse

import numpy as np

import tinygrad_maas as tm
from tinygrad_maas.data import datasets


def main(fast=False):
    x, y = datasets.load_diabetes("train")
    x, y = x.astype(np.float64) * 20, (y.astype(np.float64) - y.mean()) / y.std()
    steps, lr = (100 if fast else 1000), 0.05

    # 1. by hand: NumPy and the derivative written above
    w, b = np.zeros(10), 0.0
    for _ in range(steps):
        residual = x @ w + b - y
        w -= lr * 2 / len(y) * (x.T @ residual)
        b -= lr * 2 / len(y) * residual.sum()

    # 2. with autograd: only the loss is written; backward() derives the rest
    w_auto = tm.zeros(10, dtype=tm.float64, requires_grad=True)
    b_auto = tm.zeros(1, dtype=tm.float64, requires_grad=True)
    xt, yt = tm.tensor(x), tm.tensor(y)
    for _ in range(steps):
        loss = ((xt @ w_auto + b_auto - yt) ** 2).mean()
        w_auto.grad = b_auto.grad = None
        loss.backward()
        with tm.no_grad():
            w_auto -= lr * w_auto.grad
            b_auto -= lr * b_auto.grad

    difference = max(np.abs(w - w_auto.detach().numpy()).max(), abs(b - b_auto.item()))
    print("by hand:      w =", np.round(w, 4), " b =", round(b, 6))
    print("by autograd:  w =", np.round(w_auto.detach().numpy(), 4), " b =", round(b_auto.item(), 6))
    print(f"largest difference {difference:.2e}; final loss {loss.item():.4f}")
    return {"max_difference": float(difference), "loss": loss.item()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a short run (for the tests)")
    main(parser.parse_args().fast)
