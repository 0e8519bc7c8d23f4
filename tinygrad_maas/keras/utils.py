"""keras.utils and keras.preprocessing.sequence: to_categorical, set_random_seed, pad_sequences."""

import random

import numpy as np

from .. import random as _random


def to_categorical(y, num_classes=None, dtype="float32"):
    """Class indices -> one-hot rows (float32), shape y.shape + (num_classes,) (a trailing 1 dropped)."""
    y = np.asarray(y)
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        raise ValueError("to_categorical(): y must hold class indices (whole numbers)")
    y = y.astype(np.int64)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    classes = int(y.max()) + 1 if num_classes is None else num_classes
    if y.size and (y.min() < 0 or y.max() >= classes):
        raise ValueError(f"to_categorical(): class {int(y.max())} does not fit num_classes={classes}")
    return np.eye(classes, dtype=dtype)[y]


def set_random_seed(seed):
    """Seed Python's, NumPy's and the framework's generators at once (keras.utils.set_random_seed)."""
    random.seed(seed)
    np.random.seed(seed)
    _random.manual_seed(seed)


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Lists of token ids -> one (n, maxlen) array: shorter ones padded with `value`, longer ones cut, at
    the start ("pre", Keras' default) or the end ("post")."""
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(
            f"pad_sequences(): padding and truncating must be 'pre' or 'post', got {padding!r}, {truncating!r}"
        )
    sequences = [list(s) for s in sequences]
    length = maxlen if maxlen is not None else max((len(s) for s in sequences), default=0)
    out = np.full((len(sequences), length), value, dtype=dtype)
    for row, sequence in enumerate(sequences):
        kept = sequence[-length:] if truncating == "pre" else sequence[:length]
        if not length or not kept:
            continue
        if padding == "post":
            out[row, : len(kept)] = kept
        else:
            out[row, -len(kept) :] = kept
    return out


class sequence:  # noqa: N801  (keras.preprocessing.sequence.pad_sequences)
    pad_sequences = staticmethod(pad_sequences)
