"""Keras callbacks: hooks that fit calls at the start and end of training, of each epoch and of each
batch (on_train_batch_end gets the running means of the epoch so far), and the History it returns."""

import csv
import math
import os
import warnings

import numpy as np


class Callback:
    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


class LambdaCallback(Callback):
    """A callback from functions: LambdaCallback(on_epoch_end=lambda epoch, logs: ...), and likewise
    on_epoch_begin, on_train_batch_begin / _end (batch, logs), on_train_begin / _end (logs)."""

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
    ):
        given = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name, function in given.items():
            if function is not None:
                setattr(self, name, function)


def _writes_files():
    """Under mpiexec only rank 0 writes files (every rank holds the same model and the same averaged logs):
    Keras' "chief only" rule for checkpoints and logs."""
    import sys

    distributed = sys.modules.get("tinygrad_maas.distributed")  # loaded only if this process uses it
    return distributed is None or not distributed.is_initialized() or distributed.get_rank() == 0


class CSVLogger(Callback):
    """One CSV row per epoch: the epoch and every logged value (columns sorted, as Keras writes them).
    append=True continues an existing file without repeating its header. Under mpiexec, rank 0 writes."""

    def __init__(self, filename, separator=",", append=False):
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self.file = self.writer = None

    def on_train_begin(self, logs=None):
        if not _writes_files():
            return
        header_needed = not (self.append and os.path.exists(self.filename) and os.path.getsize(self.filename))
        self.file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer, self.keys, self.header_needed = None, None, header_needed

    def on_epoch_end(self, epoch, logs=None):
        if self.file is None:  # another rank than 0 under mpiexec
            return
        logs = logs or {}
        if self.writer is None:
            self.keys = sorted(logs)
            self.writer = csv.writer(self.file, delimiter=self.separator)
            if self.header_needed:
                self.writer.writerow(["epoch"] + self.keys)
        self.writer.writerow([epoch] + [logs.get(key, "NA") for key in self.keys])
        self.file.flush()

    def on_train_end(self, logs=None):
        if self.file is not None:
            self.file.close()
            self.file = None


class History(Callback):
    """history.history["loss"][e] is the loss of epoch e; likewise every metric and its val_ twin."""

    def on_train_begin(self, logs=None):
        self.epoch, self.history = [], {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)

    def plot(self, path, metrics=None):
        """Write a PNG of the curves, each metric with its val_ twin (matplotlib: the `plot` extra)."""
        from ..plotting import plot_curves

        names = metrics or [n for n in self.history if not n.startswith("val_")]
        return plot_curves({k: v for k, v in self.history.items() if k in names or k[4:] in names}, path)


def _better(mode, monitor):
    if mode == "auto":
        mode = "max" if "acc" in monitor else "min"
    return (lambda a, b: a < b) if mode == "min" else (lambda a, b: a > b)


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by min_delta for `patience` epochs."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto", restore_best_weights=False):
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.mode, self.restore_best_weights = mode, restore_best_weights

    def on_train_begin(self, logs=None):
        self.wait, self.best, self.best_weights, self.stopped_epoch = 0, None, None, 0
        self.improved = _better(self.mode, self.monitor)
        self.sign = 1 if self.improved(0, 1) else -1  # +1: lower is better

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            raise KeyError(f"EarlyStopping: {self.monitor!r} is not among the logged values {sorted(logs or {})}")
        if self.best is None or self.improved(current + self.sign * self.min_delta, self.best):
            self.best, self.wait = current, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.array.copy() for k, v in self.model.state_dict().items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.model.stop_training, self.stopped_epoch = True, epoch
                if self.restore_best_weights and self.best_weights is not None:
                    self.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model to `filepath` (may contain {epoch}) after each epoch, or only when `monitor` improves.
    Under mpiexec, rank 0 saves."""

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, mode="auto"):
        self.filepath, self.monitor, self.save_best_only, self.mode = filepath, monitor, save_best_only, mode

    def on_train_begin(self, logs=None):
        self.best, self.improved = None, _better(self.mode, self.monitor)

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if self.save_best_only:
            if current is None:
                warnings.warn(
                    f"ModelCheckpoint: can save best model only with {self.monitor} available, skipping "
                    f"(logged: {sorted(logs or {})})",
                    stacklevel=2,
                )
                return
            if self.best is not None and not self.improved(current, self.best):
                return
            self.best = current
        if _writes_files():
            self.model.save(str(self.filepath).format(epoch=epoch + 1, **(logs or {})))


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to schedule(epoch, current_lr)."""

    def __init__(self, schedule):
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(self.schedule(epoch, self.model.learning_rate))
        if not math.isfinite(lr) or lr < 0:
            raise ValueError(f"LearningRateScheduler: the schedule returned {lr} at epoch {epoch}")
        self.model.learning_rate = lr


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by `factor` after `patience` epochs without improvement of `monitor`."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, min_delta=1e-4, min_lr=0.0, mode="auto"):
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau: factor must be < 1.0")
        self.monitor, self.factor, self.patience = monitor, factor, patience
        self.min_delta, self.min_lr, self.mode = min_delta, min_lr, mode

    def on_train_begin(self, logs=None):
        self.best, self.wait = None, 0
        self.improved = _better(self.mode, self.monitor)
        self.sign = 1 if self.improved(0, 1) else -1

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            return
        if self.best is None or self.improved(current + self.sign * self.min_delta, self.best):
            self.best, self.wait = current, 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.model.learning_rate = max(self.model.learning_rate * self.factor, self.min_lr)
                self.wait = 0
        if logs is not None:
            logs["learning_rate"] = float(np.float32(self.model.learning_rate))
