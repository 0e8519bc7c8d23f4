"""A BERT-family encoder (BERT, MiniLM, ...) from the framework's own layers, loading Hugging Face's files.

One layer, for hidden states x of shape (batch, length, hidden):

    Q, K, V = x W_q^T + b_q, x W_k^T + b_k, x W_v^T + b_v      split into heads of hidden/heads features
    A = softmax(Q K^T / sqrt(head_dim) + mask) V                  mask: 0 where a token is real, the float
                                                                  minimum where it is padding, so padding
                                                                  gets exactly zero attention weight
    x = LayerNorm(x + A W_o^T + b_o)                              (post-norm, as the original BERT)
    x = LayerNorm(x + GELU(x W_1^T + b_1) W_2^T + b_2)            W_1: hidden -> intermediate -> hidden

The input to the first layer is LayerNorm(word + position + token-type embeddings).

How Hugging Face's parameter names map onto ours (`hf_to_ours`): their module tree nests each Linear in a
wrapper (`encoder.layer.3.attention.self.query`), ours names each layer's parts flatly:

    embeddings.{word,position,token_type}_embeddings.*   ->  embeddings.{word,position,token_type}_embeddings.*
    embeddings.LayerNorm.*                               ->  embeddings.norm.*
    encoder.layer.i.attention.self.{query,key,value}.*   ->  layers.i.{query,key,value}.*
    encoder.layer.i.attention.output.dense.*             ->  layers.i.attention_output.*
    encoder.layer.i.attention.output.LayerNorm.*         ->  layers.i.attention_norm.*
    encoder.layer.i.intermediate.dense.*                 ->  layers.i.intermediate.*
    encoder.layer.i.output.dense.*                       ->  layers.i.output.*
    encoder.layer.i.output.LayerNorm.*                   ->  layers.i.output_norm.*
    pooler.dense.*                                       ->  pooler.*

A `bert.` prefix (checkpoints of BertFor... heads) is dropped, old `gamma`/`beta` LayerNorm names become
`weight`/`bias`, task heads (`cls.*`) and the `embeddings.position_ids` buffer (0, 1, 2, ...) are skipped.
"""

import dataclasses
import json
import pathlib
import re

import numpy as np

from .. import nn
from ..creation import as_tensor
from ..nn import functional as F
from ..serialization import load

_ACTIVATIONS = {"gelu": nn.GELU, "gelu_new": lambda: nn.GELU(approximate="tanh"), "relu": nn.ReLU}


@dataclasses.dataclass(frozen=True)
class BertConfig:
    """The fields of Hugging Face's BertConfig (config.json) that decide the architecture."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    pad_token_id: int = 0
    position_embedding_type: str = "absolute"

    def __post_init__(self):
        for field in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"BertConfig: {field} must be a positive integer, got {value!r}")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"BertConfig: hidden_size {self.hidden_size} is not divisible by num_attention_heads "
                f"{self.num_attention_heads}"
            )
        if self.hidden_act not in _ACTIVATIONS:
            raise ValueError(f"BertConfig: hidden_act {self.hidden_act!r} is not one of {list(_ACTIVATIONS)}")
        if self.position_embedding_type != "absolute":
            raise ValueError(
                f"BertConfig: position_embedding_type {self.position_embedding_type!r} is not supported "
                "(only 'absolute')"
            )

    @classmethod
    def from_dict(cls, fields, where="config"):
        """The architecture fields of a config.json; the others (architectures, transformers_version, ...) are
        ignored, as Hugging Face keeps them for its own bookkeeping."""
        if not isinstance(fields, dict):
            raise ValueError(f"{where}: expected a JSON object, got {type(fields).__name__}")
        model_type = fields.get("model_type", "bert")
        if model_type != "bert":
            raise ValueError(f"{where}: model_type {model_type!r} is not a BERT model (expected 'bert')")
        known = {field.name for field in dataclasses.fields(cls)}
        try:
            return cls(**{name: value for name, value in fields.items() if name in known})
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None

    @classmethod
    def from_file(cls, path):
        path = pathlib.Path(path)
        try:
            fields = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"BertConfig: cannot read {path}: {error}") from None
        return cls.from_dict(fields, where=str(path))


class BertEmbeddings(nn.Module):
    """LayerNorm(word_embeddings[ids] + position_embeddings[0..L-1] + token_type_embeddings[types])."""

    def __init__(self, config):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids):
        positions = as_tensor(np.arange(input_ids.shape[1]))
        summed = self.word_embeddings(input_ids) + self.position_embeddings(positions)
        summed = summed + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.norm(summed))


class BertLayer(nn.Module):
    """Self-attention then a feed-forward block, each added to its input and layer-normalised."""

    def __init__(self, config):
        super().__init__()
        hidden, eps = config.hidden_size, config.layer_norm_eps
        self.heads = config.num_attention_heads
        self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
        self.attention_output = nn.Linear(hidden, hidden)
        self.attention_norm = nn.LayerNorm(hidden, eps=eps)
        self.intermediate = nn.Linear(hidden, config.intermediate_size)
        self.activation = _ACTIVATIONS[config.hidden_act]()
        self.output = nn.Linear(config.intermediate_size, hidden)
        self.output_norm = nn.LayerNorm(hidden, eps=eps)
        self.attention_dropout_p = config.attention_probs_dropout_prob
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, x, mask=None):
        batch, length, hidden = x.shape
        q, k, v = (
            linear(x).reshape(batch, length, self.heads, hidden // self.heads).transpose(1, 2)
            for linear in (self.query, self.key, self.value)
        )
        dropout_p = self.attention_dropout_p if self.training else 0.0
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
        context = context.transpose(1, 2).reshape(batch, length, hidden)
        x = self.attention_norm(x + self.dropout(self.attention_output(context)))
        return self.output_norm(x + self.dropout(self.output(self.activation(self.intermediate(x)))))


class BertModel(nn.Module):
    """BERT's encoder: forward(input_ids, attention_mask=None, token_type_ids=None) -> the last hidden state
    (batch, length, hidden_size), as Hugging Face's BertModel(...).last_hidden_state. `pooled(hidden)` is
    its pooler_output: tanh(W h_[CLS] + b)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.layers = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        input_ids = _ids(input_ids, "input_ids", self.config.vocab_size)
        batch, length = input_ids.shape
        if length > self.config.max_position_embeddings:
            raise ValueError(
                f"BertModel: {length} tokens is more than max_position_embeddings "
                f"{self.config.max_position_embeddings}: truncate the input"
            )
        if token_type_ids is None:
            token_type_ids = as_tensor(np.zeros((batch, length), dtype=np.int64))
        token_type_ids = _ids(token_type_ids, "token_type_ids", self.config.type_vocab_size, (batch, length))
        x = self.embeddings(input_ids, token_type_ids)
        mask = None if attention_mask is None else _additive_mask(attention_mask, (batch, length), x.dtype)
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def pooled(self, hidden):
        return self.pooler(hidden[:, 0]).tanh()

    @classmethod
    def from_pretrained(cls, folder):
        """The model of a Hugging Face folder: config.json for the architecture, model.safetensors for the
        weights (read with tm.load's checks: never a pickle, so pytorch_model.bin is refused), in eval mode."""
        folder = pathlib.Path(folder)
        config = BertConfig.from_file(folder / "config.json")
        weights = folder / "model.safetensors"
        if not weights.is_file():
            raise FileNotFoundError(
                f"BertModel.from_pretrained: no model.safetensors in {folder} (pickled pytorch_model.bin files "
                "are never read: convert them to safetensors)"
            )
        model = cls(config)
        model.load_state_dict(hf_to_ours(load(weights), str(weights)))
        return model.eval()


def _ids(ids, name, limit, shape=None):
    ids = as_tensor(ids)
    if ids.dtype.kind not in "iu" or ids.ndim != 2:
        raise ValueError(f"BertModel: {name} must be integers of shape (batch, length), got {ids.dtype} {ids.shape}")
    if shape is not None and ids.shape != shape:
        raise ValueError(f"BertModel: {name} has shape {ids.shape}, input_ids {shape}")
    values = ids.numpy()
    if values.size and (values.min() < 0 or values.max() >= limit):
        raise ValueError(
            f"BertModel: {name} must lie in [0, {limit}), got values from {values.min()} to {values.max()}"
        )
    return ids


def _additive_mask(attention_mask, shape, dtype):
    """(batch, 1, 1, length): 0 for tokens to attend to, the dtype's minimum for padding (Hugging Face's
    choice: unlike -inf it cannot give nan when a row is all padding)."""
    mask = np.asarray(as_tensor(attention_mask).numpy())
    if mask.shape != shape:
        raise ValueError(f"BertModel: attention_mask has shape {mask.shape}, input_ids {shape}")
    blocked = (mask == 0)[:, None, None, :]
    return as_tensor(np.where(blocked, np.finfo(dtype).min, 0).astype(dtype))


_RENAMES = [
    (r"embeddings\.LayerNorm\.", "embeddings.norm."),
    (r"encoder\.layer\.(\d+)\.attention\.self\.(query|key|value)\.", r"layers.\1.\2."),
    (r"encoder\.layer\.(\d+)\.attention\.output\.dense\.", r"layers.\1.attention_output."),
    (r"encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\.", r"layers.\1.attention_norm."),
    (r"encoder\.layer\.(\d+)\.intermediate\.dense\.", r"layers.\1.intermediate."),
    (r"encoder\.layer\.(\d+)\.output\.dense\.", r"layers.\1.output."),
    (r"encoder\.layer\.(\d+)\.output\.LayerNorm\.", r"layers.\1.output_norm."),
    (r"pooler\.dense\.", "pooler."),
]
_SKIPPED = re.compile(r"^(cls\.|embeddings\.position_ids$)")


def hf_to_ours(state, where="state_dict"):
    """A Hugging Face BertModel state_dict renamed to ours (the table in this module's docstring), float16
    tensors widened to float32. A name that belongs to no BERT encoder is an error naming it."""
    renamed = {}
    for name, tensor in state.items():
        name = name.removeprefix("bert.")
        if _SKIPPED.match(name):
            continue
        name = re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", name))
        new = name
        if not name.startswith("embeddings.") or name.startswith("embeddings.LayerNorm."):
            for pattern, replacement in _RENAMES:
                new, found = re.subn("^" + pattern, replacement, name)
                if found:
                    break
            else:
                raise ValueError(f"{where}: parameter {name!r} is not part of a BERT encoder")
        renamed[new] = tensor.float() if tensor.dtype == np.float16 else tensor
    return renamed
