"""Keras' API on tinygrad_maas: Sequential, Input, layers (channels-last), compile / fit / evaluate /
predict / summary / save, callbacks and optimizers with Keras' names and defaults."""

from . import callbacks, layers, optimizers  # noqa: F401
from .layers import Input  # noqa: F401
from .models import Sequential, load_model  # noqa: F401


class models:  # noqa: N801  (keras.models.load_model / keras.models.Sequential, as in Keras)
    Sequential = Sequential
    load_model = staticmethod(load_model)
