"""Character-level causal language models that generate text one token at a time, with a cache.

Both answer the same two calls:

    logits, cache = model.step(tokens, cache)   tokens (batch, n) int64: the next n tokens; cache None at
                                                the start. Returns the logits after the last of them
                                                (batch, vocabulary) and the cache to pass next time.
    model(tokens) -> logits (batch, length, vocabulary)    the whole sequence at once, for training

- CharGRU: Embedding -> GRU -> Linear. Its cache is the GRU's hidden state h: one step reads h and the new
  token, whatever came before, so every token costs the same.
- CharTransformer: token embedding + fixed sinusoidal positions -> pre-norm decoder blocks (causal
  self-attention, GELU MLP) -> LayerNorm -> Linear. Its cache is each block's keys and values of every past
  position (a key-value cache): a new token computes its own query, key and value only, and attends over
  the cached ones. Without the cache each token would rerun the whole prefix, so its cost would grow with the
  context; with it only the attention over past keys grows (one dot product per past token), which is small
  beside the block's matrix products at the lengths these models take (max_length).

Sinusoidal positions (sin/cos of position / 10000^(2i/width)) need no training, so a model trained on short
windows still has an encoding for every position up to max_length.
"""

import numpy as np

from .. import nn
from ..creation import as_tensor
from ..nn import functional as F
from ..nn.architecture import register_architecture

ARCHITECTURE_TYPE = "tinygrad_maas.char_lm"
_LIMITS = {
    "vocabulary_size": 65536,
    "embedding": 4096,
    "hidden": 4096,
    "width": 4096,
    "heads": 64,
    "layers": 64,
    "max_length": 65536,
}


class CharLanguageModel(nn.Module):
    """What both models share: their alphabet (token i is the character alphabet[i]) and their description
    as JSON for saved models (nn/architecture.py): {"type": ARCHITECTURE_TYPE, "kind", sizes, "alphabet"}."""

    alphabet = None

    def encode(self, text):
        """The token ids of text; a character outside the alphabet is a ValueError naming it."""
        index = {c: i for i, c in enumerate(self.alphabet)}
        unknown = sorted({c for c in text if c not in index})
        if unknown:
            raise ValueError(f"the text holds characters the model does not know: {''.join(unknown)[:40]!r}")
        return np.array([index[c] for c in text], dtype=np.int64)

    def decode(self, ids):
        return "".join(self.alphabet[i] for i in ids)

    def architecture_config(self):
        return {"type": ARCHITECTURE_TYPE, **self.config(), "alphabet": self.alphabet}


def build(architecture):
    """The model an architecture_config describes (fresh weights), every size checked first."""
    kinds = {
        "gru": (CharGRU, ("vocabulary_size", "embedding", "hidden")),
        "transformer": (CharTransformer, ("vocabulary_size", "width", "heads", "layers", "max_length")),
    }
    kind = architecture.get("kind")
    if kind not in kinds:
        raise ValueError(f"{ARCHITECTURE_TYPE}: kind must be one of {list(kinds)}, got {kind!r:.40}")
    cls, fields = kinds[kind]
    expected = {"type", "kind", "alphabet", *fields}
    if set(architecture) != expected:
        raise ValueError(f"{ARCHITECTURE_TYPE}: a {kind} model has exactly the fields {sorted(expected)}")
    for field in fields:
        value = architecture[field]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _LIMITS[field]:
            raise ValueError(
                f"{ARCHITECTURE_TYPE}: {field} must be an integer from 1 to {_LIMITS[field]}, got {value!r:.40}"
            )
    alphabet = architecture["alphabet"]
    if (
        not isinstance(alphabet, str)
        or len(alphabet) != architecture["vocabulary_size"]
        or len(set(alphabet)) != len(alphabet)
    ):
        raise ValueError(f"{ARCHITECTURE_TYPE}: alphabet must be a string of vocabulary_size distinct characters")
    model = cls(**{field: architecture[field] for field in fields})
    model.alphabet = alphabet
    return model


class CharGRU(CharLanguageModel):
    def __init__(self, vocabulary_size, embedding=64, hidden=128):
        super().__init__()
        self.vocabulary_size, self.embedding_size, self.hidden_size = vocabulary_size, embedding, hidden
        self.embedding = nn.Embedding(vocabulary_size, embedding)
        self.gru = nn.GRU(embedding, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocabulary_size)
        self.max_length = None  # no limit: the state does not grow

    def forward(self, tokens):
        output, _ = self.gru(self.embedding(tokens))
        return self.head(output)

    def step(self, tokens, cache=None):
        output, state = self.gru(self.embedding(tokens), cache)
        return self.head(output[:, -1]), state

    def config(self):
        return {
            "kind": "gru",
            "vocabulary_size": self.vocabulary_size,
            "embedding": self.embedding_size,
            "hidden": self.hidden_size,
        }


def sinusoidal_positions(length, width):
    """(length, width): column 2i is sin(p / 10000^(2i/width)), column 2i+1 its cos."""
    position = np.arange(length, dtype=np.float64)[:, None]
    frequency = 1.0 / 10000 ** (np.arange(0, width, 2, dtype=np.float64) / width)
    table = np.zeros((length, width))
    table[:, 0::2] = np.sin(position * frequency)
    table[:, 1::2] = np.cos(position * frequency)[:, : width // 2]
    return table.astype(np.float32)


class DecoderBlock(nn.Module):
    """x = x + Attention(LayerNorm(x));  x = x + W2 GELU(W1 LayerNorm(x)) (pre-norm, as GPT-2)."""

    def __init__(self, width, heads):
        super().__init__()
        if width % heads:
            raise ValueError(f"DecoderBlock: width {width} is not divisible by heads {heads}")
        self.heads = heads
        self.attention_norm = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.attention_output = nn.Linear(width, width)
        self.mlp_norm = nn.LayerNorm(width)
        self.mlp_in = nn.Linear(width, 4 * width)
        self.mlp_out = nn.Linear(4 * width, width)

    def forward(self, x, cache=None):
        """x (batch, n, width) at positions past..past+n-1, past = the cached length. Returns (x, cache):
        the cache holds (keys, values) of all positions so far, each (batch, heads, past + n, head_dim)."""
        batch, n, width = x.shape
        q, k, v = (
            t.reshape(batch, n, self.heads, width // self.heads).transpose(1, 2)
            for t in self.qkv(self.attention_norm(x)).chunk(3, dim=-1)
        )
        if cache is not None:  # generation runs without gradients: the cache is plain arrays underneath
            k = as_tensor(np.concatenate([cache[0].numpy(), k.numpy()], axis=2))
            v = as_tensor(np.concatenate([cache[1].numpy(), v.numpy()], axis=2))
        past = k.shape[2] - n
        # query i (position past + i) may see keys 0 .. past + i
        allowed = np.arange(past + n)[None, :] <= (past + np.arange(n))[:, None]
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=as_tensor(allowed))
        x = x + self.attention_output(context.transpose(1, 2).reshape(batch, n, width))
        x = x + self.mlp_out(F.gelu(self.mlp_in(self.mlp_norm(x))))
        return x, (k.detach(), v.detach())


class CharTransformer(CharLanguageModel):
    def __init__(self, vocabulary_size, width=64, heads=4, layers=2, max_length=512):
        super().__init__()
        self.vocabulary_size, self.width, self.heads_count = vocabulary_size, width, heads
        self.layers_count, self.max_length = layers, max_length
        self.embedding = nn.Embedding(vocabulary_size, width)
        self.register_buffer("positions", as_tensor(sinusoidal_positions(max_length, width)), persistent=False)
        self.blocks = nn.ModuleList(DecoderBlock(width, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocabulary_size)

    def _run(self, tokens, caches):
        past = 0 if caches is None else caches[0][0].shape[2]
        length = tokens.shape[1]
        if past + length > self.max_length:
            raise ValueError(f"CharTransformer: {past + length} tokens is more than max_length {self.max_length}")
        x = self.embedding(tokens) + self.positions[past : past + length]
        new_caches = []
        for index, block in enumerate(self.blocks):
            x, cache = block(x, None if caches is None else caches[index])
            new_caches.append(cache)
        return self.head(self.norm(x)), new_caches

    def forward(self, tokens):
        return self._run(tokens, None)[0]

    def step(self, tokens, cache=None):
        logits, cache = self._run(tokens, cache)
        return logits[:, -1], cache

    def config(self):
        return {
            "kind": "transformer",
            "vocabulary_size": self.vocabulary_size,
            "width": self.width,
            "heads": self.heads_count,
            "layers": self.layers_count,
            "max_length": self.max_length,
        }


register_architecture(ARCHITECTURE_TYPE, build)
