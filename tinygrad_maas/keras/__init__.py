"""Keras' API on tinygrad_maas: Sequential and the functional Model (keras.Input, layers called on it),
layers (channels-last), compile / fit / evaluate / predict / summary / save, callbacks, losses, optimizers
and utils with Keras' names and defaults."""

from . import callbacks, initializers, layers, losses, metrics, optimizers, utils  # noqa: F401
from .functional import Input, KerasTensor  # noqa: F401
from .models import Model, Sequential, load_model  # noqa: F401
from .utils import sequence as _sequence


class models:  # noqa: N801  (keras.models.load_model / keras.models.Sequential, as in Keras)
    Model = Model
    Sequential = Sequential
    load_model = staticmethod(load_model)


class preprocessing:  # noqa: N801  (keras.preprocessing.sequence.pad_sequences)
    sequence = _sequence


regularizers = initializers  # keras.regularizers.l2(0.01) lives beside the initializers (initializers.py)
