import numpy as np
import pytest

import tinygrad_maas as tm


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def leaf(array, requires_grad=True):
    """A float64 leaf tensor for gradchecks."""
    return tm.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)
