"""GRU(128, 64) and LSTM(128, 64) over 100 steps, batch 32, forward + backward, float32: the recurrent
part of the `gru` reference workload (DESIGN.md)."""

import numpy as np

STEPS, BATCH, INPUT, HIDDEN = 100, 32, 128, 64


def arrays(gates, seed=0):
    """x, h0, c0, w_ih, w_hh, b_ih, b_hh with PyTorch's default init scale (uniform +-1/sqrt(hidden))."""
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(HIDDEN)
    uniform = lambda *shape: rng.uniform(-bound, bound, shape).astype(np.float32)  # noqa: E731
    return (
        rng.standard_normal((STEPS, BATCH, INPUT)).astype(np.float32),
        np.zeros((BATCH, HIDDEN), np.float32),
        np.zeros((BATCH, HIDDEN), np.float32),
        uniform(gates * HIDDEN, INPUT),
        uniform(gates * HIDDEN, HIDDEN),
        uniform(gates * HIDDEN),
        uniform(gates * HIDDEN),
    )
