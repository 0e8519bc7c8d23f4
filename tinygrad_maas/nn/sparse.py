"""Embedding: a lookup table of num_embeddings vectors of size embedding_dim."""

from ..autograd.grad_mode import no_grad
from ..creation import empty_for_parameters as _empty
from ..creation import parameter_dtype
from . import functional as F
from . import init
from .module import Module, Parameter


class Embedding(Module):
    """weight (num_embeddings, embedding_dim) ~ N(0, 1) as in PyTorch; the row at padding_idx starts at
    zero and never receives a gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, *, device=None, dtype=None):
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Embedding: {name} must be a positive integer, got {value!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for {num_embeddings} rows")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.weight = Parameter(_empty((num_embeddings, embedding_dim), parameter_dtype(device, dtype, "Embedding")))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight.array[self.padding_idx] = 0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
