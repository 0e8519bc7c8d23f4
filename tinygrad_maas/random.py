"""Random numbers: PyTorch's Generator and the default one behind rand/randn/randint, init, dropout,
shuffling and random_split.

A Generator wraps a NumPy `np.random.Generator` (PCG64); seeding one makes its draws repeatable.
`tm.manual_seed(s)` seeds the default generator; functions that take `generator=` (randperm,
random_split, DataLoader) draw from the one they are given instead.
"""

import numpy as np


def _check_seed(seed, where):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{where}: seed must be a non-negative integer, got {seed!r}")
    return int(seed)


class Generator:
    """PyTorch's torch.Generator on the CPU: `g = tm.Generator().manual_seed(0)`."""

    def __init__(self, device="cpu"):
        from .device import require_cpu

        require_cpu(device, "Generator")
        self.seed()

    def manual_seed(self, seed):
        """Restart the generator's sequence from `seed`; returns the generator."""
        self._seed = _check_seed(seed, "manual_seed()")
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))
        return self._seed

    def initial_seed(self):
        return self._seed

    @property
    def device(self):
        from .device import CPU

        return CPU


default_generator = Generator()


def manual_seed(seed):
    """Make every following random draw from the default generator repeatable; returns that generator."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def generator(chosen=None):
    """The NumPy generator to draw from: `chosen` (a tm.Generator or an np.random.Generator) or the
    default one."""
    if chosen is None:
        return default_generator.rng
    if isinstance(chosen, Generator):
        return chosen.rng
    if isinstance(chosen, np.random.Generator):
        return chosen
    raise TypeError(f"generator must be a tm.Generator, got {type(chosen).__name__}")
