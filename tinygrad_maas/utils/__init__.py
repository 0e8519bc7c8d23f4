"""tinygrad_maas.utils: where PyTorch programs look for `utils.data` (torch.utils.data)."""

from . import data  # noqa: F401
