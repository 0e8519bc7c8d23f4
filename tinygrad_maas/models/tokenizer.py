"""Text to token ids with Hugging Face's `tokenizers` library (Rust; the `text` extra), from tokenizer.json.

The file carries the whole pipeline (normalisation such as lower-casing, splitting into words, WordPiece
into sub-words, [CLS] ... [SEP] around the sentence). The file's own padding and truncation settings are
replaced by ours: pad each batch to its longest sentence only, cut every sentence at max_length tokens.
"""

import pathlib

import numpy as np


def tokenizers_package():
    try:
        import tokenizers
    except ImportError:
        raise ImportError(
            "tokenising text needs Hugging Face's tokenizers: pip install 'tinygrad_maas[text]' "
            "(or pip install tokenizers)"
        ) from None
    return tokenizers


class Tokenizer:
    """Tokenizer(path_to_tokenizer_json, max_length) ; tokenizer(texts) -> dict of int64 arrays
    input_ids, attention_mask (1 for a real token, 0 for padding) and token_type_ids, each (batch, length)."""

    def __init__(self, path, max_length):
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 2:
            raise ValueError(f"Tokenizer: max_length must be an integer >= 2, got {max_length!r}")
        path = pathlib.Path(path)
        tokenizers = tokenizers_package()
        try:
            self._tokenizer = tokenizers.Tokenizer.from_file(str(path))
        except Exception as error:  # the Rust side raises its own Exception type for a bad file
            raise ValueError(f"Tokenizer: cannot read {path}: {error}") from None
        padding = self._tokenizer.padding or {}
        self.pad_id = padding.get("pad_id", 0)
        self.pad_token = padding.get("pad_token", "[PAD]")
        self.max_length = max_length
        self._tokenizer.enable_truncation(max_length)
        self._tokenizer.enable_padding(pad_id=self.pad_id, pad_token=self.pad_token)

    def __call__(self, texts):
        encodings = self._tokenizer.encode_batch(check_texts(texts))
        rows = lambda field: np.array([getattr(e, field) for e in encodings], dtype=np.int64)
        return {"input_ids": rows("ids"), "attention_mask": rows("attention_mask"), "token_type_ids": rows("type_ids")}

    def count_tokens(self, texts, with_truncation=False):
        """Tokens per text after truncation, special tokens included (what the model reads); with
        with_truncation, also whether each text was cut."""
        encodings = self._tokenizer.encode_batch(check_texts(texts))
        counts = [sum(e.attention_mask) for e in encodings]
        return (counts, [bool(e.overflowing) for e in encodings]) if with_truncation else counts


def check_texts(texts):
    """A list of str (one str is a list of one); anything else is a TypeError naming the culprit."""
    if isinstance(texts, str):
        return [texts]
    if not isinstance(texts, (list, tuple)):
        raise TypeError(f"Tokenizer: expected a string or a list of strings, got {type(texts).__name__}")
    if not texts:
        raise ValueError("Tokenizer: expected at least one text, got an empty list")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"Tokenizer: text {index} is a {type(text).__name__}, not a string")
    return list(texts)
