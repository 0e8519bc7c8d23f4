"""Keras fit under mpiexec, the script unchanged: 2 ranks take the steps one process takes (shuffle=False),
so the weights equal a single process's train_on_batch on the global batches. Prints on rank 0 only."""

import os
import sys

import numpy as np

import tinygrad_maas as tm
from tinygrad_maas import keras

rng = np.random.default_rng(4)
x = rng.standard_normal((16, 5)).astype(np.float32)
y = rng.standard_normal((16, 2)).astype(np.float32)


def build():
    tm.manual_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    return model


model = build()
saves = []
model.save = lambda path: saves.append(path)  # counts what ModelCheckpoint asks for, on each rank
folder = sys.argv[1]
callbacks = [
    keras.callbacks.ModelCheckpoint(os.path.join(folder, "m{epoch}.keras"), save_best_only=False),
    keras.callbacks.CSVLogger(os.path.join(folder, "log.csv")),
]
history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=2, callbacks=callbacks)

reference = build()  # one process, by hand: the global batches in order
for _ in range(3):
    for start in (0, 8):
        reference.train_on_batch(x[start : start + 8], y[start : start + 8])
for ours, theirs in zip(model.get_weights(), reference.get_weights()):
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)

import tinygrad_maas.distributed as dist  # noqa: E402  (fit joined the group by itself)

losses = tm.tensor(np.array(history.history["loss"]))
everyone = [tm.zeros(3, dtype=tm.float64) for _ in range(dist.get_world_size())]
dist.all_gather(everyone, losses)
assert all(np.array_equal(e.numpy(), losses.numpy()) for e in everyone)  # the same epoch logs on every rank
counts = [tm.zeros(1, dtype=tm.int64) for _ in range(dist.get_world_size())]
dist.all_gather(counts, tm.tensor([len(saves)]))
assert [int(c.item()) for c in counts] == [3, 0], counts  # rank 0 saves each epoch, rank 1 never
if dist.get_rank() == 0:
    with open(os.path.join(folder, "log.csv")) as file:
        assert len(file.read().splitlines()) == 4  # a header and three epochs, written once
    print("ok keras fit", flush=True)
