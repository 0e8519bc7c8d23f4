"""Sentences to unit vectors, as a sentence-transformers folder describes (its modules.json).

    h = BertModel(tokens)                                   (batch, length, hidden)
    mean pooling:  e = sum_t mask_t h_t / max(sum_t mask_t, 1e-9)    padding contributes nothing
    normalise:     e = e / max(||e||_2, 1e-12)              so cosine similarity is a dot product

Sentences are embedded in batches sorted by length, so a batch pads to similar lengths.
"""

import json
import pathlib

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import as_tensor
from ..nn import functional as F
from .bert import BertModel
from .tokenizer import Tokenizer, check_texts

_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"
_POOLING_MODES = ("cls_token", "mean_tokens", "max_tokens")


class SentenceEmbedder:
    """SentenceEmbedder(model, tokenizer, pooling="mean_tokens", normalize=True); encode(sentences) ->
    float32 array (n, hidden)."""

    def __init__(self, model, tokenizer, pooling="mean_tokens", normalize=True):
        if pooling not in _POOLING_MODES:
            raise ValueError(f"SentenceEmbedder: pooling must be one of {_POOLING_MODES}, got {pooling!r}")
        self.model, self.tokenizer, self.pooling, self.normalize = model, tokenizer, pooling, normalize
        self.dimension = model.config.hidden_size

    @classmethod
    def from_folder(cls, folder):
        """The encoder, tokenizer, pooling and normalisation a sentence-transformers folder lists in
        modules.json; max length from sentence_bert_config.json's max_seq_length."""
        folder = pathlib.Path(folder)
        modules = _read_json(folder / "modules.json")
        if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
            raise ValueError(f"{folder / 'modules.json'}: expected a list of module objects")
        kinds = [m.get("type") for m in modules]
        unknown = [kind for kind in kinds if kind not in (_TRANSFORMER, _POOLING, _NORMALIZE)]
        if unknown or kinds[:2] != [_TRANSFORMER, _POOLING]:
            raise ValueError(
                f"{folder / 'modules.json'}: supported is a Transformer, a Pooling and optionally a Normalize "
                f"module, got {kinds}"
            )
        encoder = folder / modules[0].get("path", "")
        pooling = _pooling_mode(_read_json(folder / modules[1].get("path", "") / "config.json"))
        model = BertModel.from_pretrained(encoder)
        settings = encoder / "sentence_bert_config.json"
        limit = _read_json(settings).get("max_seq_length") if settings.is_file() else None
        max_length = min(limit or model.config.max_position_embeddings, model.config.max_position_embeddings)
        tokenizer = Tokenizer(encoder / "tokenizer.json", max_length)
        return cls(model, tokenizer, pooling=pooling, normalize=_NORMALIZE in kinds)

    def encode(self, sentences, batch_size=32):
        """Embeddings of the sentences, in their order: float32 (n, hidden)."""
        sentences = check_texts(sentences)
        if len(sentences) <= batch_size:  # one batch: nothing to group by length (counting re-tokenises)
            return self.embed_tokens(self.tokenizer(sentences))
        lengths = self.tokenizer.count_tokens(sentences)
        order = np.argsort(lengths, kind="stable")
        out = np.empty((len(sentences), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            out[chosen] = self.embed_tokens(self.tokenizer([sentences[i] for i in chosen]))
        return out

    def rank(self, query, candidates):
        """[(cosine similarity, candidate)] of each candidate to the query, most similar first."""
        vectors = self.encode([query, *check_texts(candidates)])
        scores = _unit(vectors[1:]) @ _unit(vectors[0])
        return sorted(zip(scores.tolist(), candidates), key=lambda pair: -pair[0])

    @no_grad()
    def embed_tokens(self, batch):
        """Embeddings of one tokenised batch (the Tokenizer's dict), as a float32 array."""
        return self.forward(batch).numpy().astype(np.float32, copy=False)

    def forward(self, batch):
        """The differentiable path (for fine-tuning): a Tensor (batch, hidden)."""
        hidden = self.model(batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"))
        mask = as_tensor(batch["attention_mask"][..., None].astype(hidden.dtype))
        if self.pooling == "cls_token":
            pooled = hidden[:, 0]
        elif self.pooling == "max_tokens":
            pooled = hidden.masked_fill(mask == 0, float("-inf")).amax(1)
        else:
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        if self.normalize:
            pooled = F.normalize(pooled, dim=1)  # sentence-transformers' Normalize module: the same call
        return pooled


def _unit(vectors):
    """Rows scaled to length 1 (a no-op for a normalising model), so dot products are cosines."""
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def _pooling_mode(config):
    chosen = [mode for mode in _POOLING_MODES if config.get(f"pooling_mode_{mode}")]
    others = [k for k, v in config.items() if k.startswith("pooling_mode_") and v and k[13:] not in _POOLING_MODES]
    if len(chosen) != 1 or others:
        raise ValueError(f"Pooling config: exactly one of {_POOLING_MODES} is supported, got {config}")
    return chosen[0]


def _read_json(path):
    try:
        return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
