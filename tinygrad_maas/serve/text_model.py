"""A text-embedding model version: strings in (a BYTES tensor), unit vectors out (FP32).

On disk it is a sentence-transformers folder (config.json, model.safetensors, tokenizer.json, modules.json,
1_Pooling/config.json, ...) with one small file of ours beside it, text_model.json:

    {"task": "embeddings"}                          or, with int8 Linear layers (tm.quantization):
    {"task": "embeddings", "quantization": "dynamic_int8"}

Its signature: input "text" BYTES [-1], output "embedding" FP32 [-1, hidden_size]. Every string is checked
before it joins a batch (so one client's bad string fails only its own request): it must be UTF-8, and its
tokens must fit the model's max_length, or the request must ask for truncation (parameters.truncate, as
Hugging Face's text-embeddings-inference; OpenAI's API refuses over-long inputs too). A batch of merged
requests is embedded in chunks of similar token length, so short sentences are not padded to long ones.
"""

import json
import os

import numpy as np

from .errors import ApiError

TEXT_MODEL_FILE = "text_model.json"
TASKS = ("embeddings",)
QUANTIZATIONS = (None, "dynamic_int8")
_CHUNK = 32  # sentences per forward pass inside a merged batch


def read_text_model_config(folder, max_bytes=64 * 1024):
    """The checked contents of <folder>/text_model.json."""
    path = os.path.join(folder, TEXT_MODEL_FILE)
    if os.path.getsize(path) > max_bytes:
        raise ValueError(f"{path} is larger than {max_bytes} bytes")
    try:
        with open(path, encoding="utf-8") as file:
            config = json.load(file)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    if (
        not isinstance(config, dict)
        or not {"task"} <= set(config) <= {"task", "quantization"}
        or config["task"] not in TASKS
        or config.get("quantization") not in QUANTIZATIONS
    ):
        raise ValueError(
            f'{path} must be {{"task": one of {list(TASKS)}, optionally "quantization": "dynamic_int8"}}, '
            f"got {config!r:.200}"
        )
    return config


class TextEmbeddingModel:
    """Served like LoadedModel (serve/model.py): inputs, outputs, nbytes, scheduler, warm_up, predict."""

    def __init__(self, name, version, folder, max_texts):
        from ..models import SentenceEmbedder

        config = read_text_model_config(folder)
        self.name, self.version, self.max_texts = name, version, max_texts
        self.embedder = SentenceEmbedder.from_folder(folder)
        if config.get("quantization") == "dynamic_int8":
            from ..quantization import quantize_dynamic

            self.embedder.model = quantize_dynamic(self.embedder.model, inplace=True)
        self.module = self.embedder.model
        self.module.requires_grad_(False)
        self.nbytes = sum(value.numpy().nbytes for value in self.module.state_dict().values())
        self.inputs = [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
        self.outputs = [{"name": "embedding", "datatype": "FP32", "shape": [-1, self.embedder.dimension]}]
        self.max_length = self.embedder.tokenizer.max_length
        self.scheduler = None

    def warm_up(self):
        self.embedder.encode(["warm up"])

    def texts(self, elements, truncate=False, where="input 'text'"):
        """(the elements as str, their token count after truncation); bytes must be UTF-8. A 400 names the
        element that is not text, or too long without truncate."""
        if len(elements) > self.max_texts:
            raise ApiError(400, f"{where}: {len(elements)} strings, more than the {self.max_texts} allowed per request")
        texts = []
        for index, element in enumerate(elements):
            if isinstance(element, bytes):
                try:
                    element = element.decode("utf-8")
                except UnicodeDecodeError as error:
                    problem = f"{error.reason} at byte {error.start}"
                    raise ApiError(400, f"{where}: element {index} is not valid UTF-8 ({problem})") from None
            texts.append(element)
        if not texts:
            raise ApiError(400, f"{where}: no strings to embed")
        counts, truncated = self.embedder.tokenizer.count_tokens(texts, with_truncation=True)
        if not truncate and any(truncated):
            index = truncated.index(True)
            raise ApiError(
                400,
                f"{where}: element {index} is longer than the model's {self.max_length} tokens; shorten it or "
                "ask for truncation (truncate: true)",
            )
        return texts, sum(counts)

    def check_inputs(self, arrays, parameters):
        """The request's arrays with the strings checked and decoded (before the request joins a batch)."""
        truncate = parameters.get("truncate", False)
        if not isinstance(truncate, bool):
            raise ApiError(400, f"parameters.truncate must be true or false, got {truncate!r:.40}")
        ((name, array),) = arrays.items()
        if array.ndim != 1:
            shape = list(array.shape)
            raise ApiError(400, f"input {name!r}: expected a list of strings (shape [n]), got shape {shape}")
        texts, _ = self.texts(list(array), truncate, f"input {name!r}")
        checked = np.empty(len(texts), dtype=object)
        checked[:] = texts
        return {name: checked}

    def predict(self, inputs):
        ((_, texts),) = inputs.items()
        return {"embedding": self.embedder.encode(list(texts), batch_size=_CHUNK)}

    def explain(self, sample, options):
        raise ApiError(400, f"model {self.name!r} embeds text; explanations are for models of numeric inputs")
