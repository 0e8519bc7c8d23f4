"""The four reference workloads of DESIGN.md, written once against the PyTorch API that tinygrad_maas
shares: `build(framework, name)` makes the same model, optimizer and batch in either framework.

    mlp    Linear 784-256-128-10, ReLU, cross-entropy      batch 128 x 784            SGD lr 0.01 momentum 0.9
    lenet  Conv(3,6,5) pool Conv(6,16,5) pool 400-120-84-10 batch 64 x 3 x 32 x 32     Adam 1e-3
    cnn    Conv(1,32,3) pool Conv(32,64,3) pool 1600-64-10  batch 64 x 1 x 28 x 28     Adam 1e-3
    gru    Embedding(10000,128) GRU(128,64) Linear(64,2)   batch 32 x 100 tokens      Adam 1e-3
"""

import numpy as np

NAMES = ("mlp", "lenet", "cnn", "gru")


class Framework:
    """What build() needs from a framework: `tm` or `torch` itself."""

    def __init__(self, module):
        self.module, self.nn, self.optim = module, module.nn, module.optim
        self.F = module.nn.functional

    def tensor(self, array):
        return self.module.tensor(array)


def _batch(name, rng):
    if name == "mlp":
        return rng.standard_normal((128, 784)).astype(np.float32), rng.integers(0, 10, 128)
    if name == "lenet":
        return rng.standard_normal((64, 3, 32, 32)).astype(np.float32), rng.integers(0, 10, 64)
    if name == "cnn":
        return rng.standard_normal((64, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 64)
    return rng.integers(0, 10000, (32, 100)), rng.integers(0, 2, 32)


def _model(fw, name):
    nn = fw.nn
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "lenet":
        return nn.Sequential(
            nn.Conv2d(3, 6, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(400, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, 10),
        )
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(1600, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )

    class TokenClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(10000, 128)
            self.gru = nn.GRU(128, 64, batch_first=True)
            self.head = nn.Linear(64, 2)

        def forward(self, tokens):
            output, _ = self.gru(self.embedding(tokens))
            return self.head(output[:, -1])

    return TokenClassifier()


def build(fw, name, seed=0):
    """(step, model): step() runs one training step (zero_grad, forward, loss, backward, optimizer step)."""
    if name not in NAMES:
        raise ValueError(f"unknown workload {name!r}; one of {NAMES}")
    fw.module.manual_seed(seed)
    model = _model(fw, name)
    if name == "mlp":
        optimizer = fw.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:
        optimizer = fw.optim.Adam(model.parameters(), lr=1e-3)
    inputs, labels = _batch(name, np.random.default_rng(seed))
    x, y = fw.tensor(inputs), fw.tensor(labels)

    def step():
        optimizer.zero_grad()
        loss = fw.F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step, model
