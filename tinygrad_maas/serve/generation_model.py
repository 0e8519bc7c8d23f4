"""A text-generation model version: a character language model trained here (models/causal_lm.py), saved
as a saved model (architecture.json of type tinygrad_maas.char_lm + weights.safetensors).

OpenAI's /v1/completions (routes_openai.py) drives it token by token: each token is one call on the model's
scheduler, so concurrent streams interleave a token at a time and share the model's worker threads and
queue limits like any request. The Open Inference Protocol endpoint takes BYTES "text_input" prompts and
returns BYTES "text_output" continuations of DEFAULT_OIP_TOKENS tokens, greedy.
"""

import numpy as np

from ..models.generation import Generator
from .errors import ApiError

DEFAULT_OIP_TOKENS = 16


class TextGenerationModel:
    """Served like LoadedModel (serve/model.py): inputs, outputs, nbytes, scheduler, warm_up, predict."""

    def __init__(self, name, version, module):
        self.name, self.version, self.module = name, version, module
        for parameter in module.parameters():
            parameter.requires_grad_(False)
        self.nbytes = sum(value.numpy().nbytes for value in module.state_dict().values())
        self.inputs = [{"name": "text_input", "datatype": "BYTES", "shape": [-1]}]
        self.outputs = [{"name": "text_output", "datatype": "BYTES", "shape": [-1]}]
        self.tokens_generated = 0  # every token made, for metrics and for tests of cancelled streams
        self.scheduler = None

    def warm_up(self):
        self.generator(self.module.alphabet[0], max_tokens=1, temperature=0).step()  # not counted

    def generator(self, prompt, max_tokens=16, temperature=1.0, top_p=1.0, stop=(), seed=None):
        """A models.generation.Generator over this model; a prompt it cannot read is a 400."""
        try:
            return Generator(self.module, prompt, max_tokens, temperature, top_p, stop, seed)
        except ValueError as error:
            raise ApiError(400, f"prompt: {error}") from None

    def step(self, generator):
        """generator.step(), counted (in the model's worker thread, through its scheduler)."""
        piece = generator.step()
        if piece is not None:
            self.tokens_generated += 1
        return piece

    def check_inputs(self, arrays, parameters):
        ((name, array),) = arrays.items()
        if array.ndim != 1:
            raise ApiError(400, f"input {name!r}: expected a list of prompts (shape [n]), got {list(array.shape)}")
        prompts = []
        for index, element in enumerate(array):
            try:
                prompt = element.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ApiError(400, f"input {name!r}: element {index} is not valid UTF-8 ({error.reason})") from None
            self.generator(prompt, max_tokens=DEFAULT_OIP_TOKENS)  # a 400 now for a prompt it cannot read
            prompts.append(prompt)
        checked = np.empty(len(prompts), dtype=object)
        checked[:] = prompts
        return {name: checked}

    def predict(self, inputs):
        ((_, prompts),) = inputs.items()
        out = np.empty(len(prompts), dtype=object)
        out[:] = [self._greedy(prompt).encode("utf-8") for prompt in prompts]
        return {"text_output": out}

    def _greedy(self, prompt):
        generator, text = self.generator(prompt, max_tokens=DEFAULT_OIP_TOKENS, temperature=0), ""
        while (piece := self.step(generator)) is not None:
            text += piece
        return text

    def explain(self, sample, options):
        raise ApiError(400, f"model {self.name!r} generates text; explanations are for models of numeric inputs")
