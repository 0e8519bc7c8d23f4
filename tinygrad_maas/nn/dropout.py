"""Dropout, Dropout1d and Dropout2d: random zeroing in training mode, the identity in eval mode.

Dropout zeroes single elements; Dropout1d and Dropout2d zero whole channels (one draw per sample and
channel), for inputs whose neighbouring elements are strongly correlated (feature maps).
"""

from . import functional as F
from .module import Module


class Dropout(Module):
    functional = staticmethod(F.dropout)

    def __init__(self, p=0.5, inplace=False):
        """`inplace` is accepted and ignored: the result is a new tensor (F.relu explains why)."""
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}(): p must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return self.functional(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Dropout1d(Dropout):
    functional = staticmethod(F.dropout1d)


class Dropout2d(Dropout):
    functional = staticmethod(F.dropout2d)
