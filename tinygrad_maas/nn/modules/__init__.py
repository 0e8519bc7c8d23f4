"""torch.nn.modules' import paths for the layers in tinygrad_maas/nn/.

PyTorch programs import `from torch.nn.modules.loss import _Loss` or `torch.nn.modules.module.Module`;
each PyTorch submodule name maps to the module here that holds those classes, registered under
tinygrad_maas.nn.modules.<name> so that such imports work with the package name changed. No code lives
here.
"""

import sys as _sys

from .. import *  # noqa: F403  (every layer, as torch.nn.modules exports them)
from .. import (
    activation,
    containers,
    conv,
    distance,
    dropout,
    linear,
    loss,
    module,
    normalization,
    pooling,
    rnn,
    sparse,
    transformer,
    upsampling,
)

_PYTORCH_NAMES = {
    "activation": activation,
    "batchnorm": normalization,
    "container": containers,
    "conv": conv,
    "distance": distance,
    "dropout": dropout,
    "linear": linear,
    "loss": loss,
    "module": module,
    "normalization": normalization,
    "pooling": pooling,
    "rnn": rnn,
    "sparse": sparse,
    "transformer": transformer,
    "upsampling": upsampling,
}
_PYTORCH_NAMES["flatten"] = linear  # Flatten, Unflatten
for _name, _module in _PYTORCH_NAMES.items():
    _sys.modules[f"{__name__}.{_name}"] = _module
    globals()[_name] = _module
del _name, _module
