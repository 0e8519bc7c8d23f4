"""Example 2: the same regression written PyTorch-style: an nn.Module, MSELoss, SGD(lr=0.01), and the
zero_grad / backward / step loop. Only the import differs from PyTorch.

Reports test R^2.   python examples/e2_diabetes_mlp_pytorch_style.py [--fast]
"""

import argparse

import tinygrad_maas as torch  # the point of this example: PyTorch code, unchanged but for this line
from tinygrad_maas import nn
from tinygrad_maas.data import DataLoader, TensorDataset, datasets


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 1))

    def forward(self, x):
        return self.layers(x)


def main(fast=False):
    torch.manual_seed(0)
    x_train, y_train = datasets.load_diabetes("train")
    x_test, y_test = datasets.load_diabetes("test")
    mean, scale = y_train.mean(), y_train.std()
    loader = DataLoader(
        TensorDataset(torch.tensor(x_train * 20), torch.tensor((y_train[:, None] - mean) / scale)),
        batch_size=16,
        shuffle=True,
    )
    model = Regressor()
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    epochs = 20 if fast else 200
    for epoch in range(1, epochs + 1):
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item()
        if epoch % (epochs // 5) == 0:
            print(f"epoch {epoch:4d}  training loss {total / len(loader):.4f}")
    model.eval()
    with torch.no_grad():
        prediction = model(torch.tensor(x_test * 20)).numpy()[:, 0] * scale + mean
    r2 = float(1 - ((prediction - y_test) ** 2).sum() / ((y_test - y_test.mean()) ** 2).sum())
    print(f"test R^2 {r2:.3f}")
    return {"r2": r2}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a short run (for the tests)")
    main(parser.parse_args().fast)
