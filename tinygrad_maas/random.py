"""The random number generator behind rand/randn/randint and (later) init and dropout."""

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Make every following random draw repeatable. Returns the generator, like PyTorch."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed(): seed must be a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator():
    return _generator
