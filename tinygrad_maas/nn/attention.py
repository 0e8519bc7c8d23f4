"""MultiheadAttention, as torch.nn.MultiheadAttention.

    Q = query W_q^T + b_q,  K = key W_k^T + b_k,  V = value W_v^T + b_v      (W_q, W_k, W_v stacked in
                                                                                 in_proj_weight (3E, E))
    split E into num_heads heads of E/num_heads;  per head: softmax(Q K^T / sqrt(E/num_heads) + masks) V
    concatenate the heads;  output = concat W_o^T + b_o                       (out_proj)

Masks follow PyTorch: attn_mask (L, S) or (N * num_heads, L, S), bool True = NOT allowed or float added;
key_padding_mask (N, S), bool True = ignore that key. Gradients come from the composed tensor ops.
"""

import numpy as np

from ..creation import empty_for_parameters as _empty
from ..creation import parameter_dtype
from ..tensor import Tensor
from . import functional as F
from . import init
from .linear import Linear
from .module import Module, Parameter


class MultiheadAttention(Module):
    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, *, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads {num_heads}")
        dtype = parameter_dtype(device, dtype, "MultiheadAttention")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.dropout, self.batch_first = dropout, batch_first
        self.in_proj_weight = Parameter(_empty((3 * embed_dim, embed_dim), dtype))
        if bias:
            self.in_proj_bias = Parameter(_empty((3 * embed_dim,), dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's: xavier_uniform_ for in_proj_weight, zero biases; out_proj.weight keeps Linear's init."""
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
        is_causal=False,
    ):
        """Returns (attn_output, attn_weights); attn_weights is (N, L, S) averaged over heads, (N, heads, L, S)
        with average_attn_weights=False, or None with need_weights=False."""
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        length, batch, embed = query.shape
        source = key.shape[0]
        if embed != self.embed_dim or key.shape[-1] != embed or value.shape[-1] != embed:
            raise ValueError(
                f"MultiheadAttention: expected embed_dim {self.embed_dim} in query, key and value, "
                f"got {query.shape}, {key.shape}, {value.shape}"
            )
        w = self.in_proj_weight
        b = self.in_proj_bias
        pieces = [
            (w[i * embed : (i + 1) * embed], None if b is None else b[i * embed : (i + 1) * embed]) for i in range(3)
        ]
        q, k, v = (F.linear(x, weight, bias) for x, (weight, bias) in zip((query, key, value), pieces))
        # (L, N, E) -> (N, heads, L, head_dim)
        q, k, v = (t.reshape(t.shape[0], batch, self.num_heads, self.head_dim).permute(1, 2, 0, 3) for t in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) * (1.0 / np.sqrt(self.head_dim))  # (N, heads, L, S)
        if is_causal and attn_mask is None:
            attn_mask = Tensor(np.triu(np.ones((length, source), dtype=bool), k=1))
        if attn_mask is not None:
            mask = attn_mask if attn_mask.ndim == 2 else attn_mask.reshape(batch, self.num_heads, length, source)
            scores = F._apply_attention_mask(scores, mask, allowed_is_true=False)
        if key_padding_mask is not None:
            if key_padding_mask.shape != (batch, source):
                raise ValueError(
                    f"MultiheadAttention: key_padding_mask must have shape {(batch, source)}, got "
                    f"{key_padding_mask.shape}"
                )
            scores = F._apply_attention_mask(
                scores, key_padding_mask.reshape(batch, 1, 1, source), allowed_is_true=False
            )
        weights = scores.softmax(-1)
        attended = F.dropout(weights, self.dropout, self.training) @ v  # (N, heads, L, head_dim)
        output = self.out_proj(attended.permute(2, 0, 1, 3).reshape(length, batch, embed))
        if unbatched:
            output = output.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        if not need_weights:
            return output, None
        weights = weights.mean(1) if average_attn_weights else weights
        return output, (weights.squeeze(0) if unbatched else weights)

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
