"""Sampling text from a causal language model (models/causal_lm.py), one token at a time.

    p = softmax(logits / temperature)         temperature 0: always the most likely token (greedy)
    top_p: keep the most likely tokens whose probabilities first add up to top_p (nucleus sampling),
           renormalise, sample among them

`Generator` yields text pieces as they become final. A stop sequence ends the text before it; a piece that
might be the start of a stop sequence is held back until the next tokens decide, so a streamed answer never
shows the beginning of a stop sequence it then ends on.
"""

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import as_tensor


def next_token(logits, temperature, top_p, rng):
    """One token id from a 1-D array of logits."""
    if temperature == 0:
        return int(np.argmax(logits))
    scaled = logits.astype(np.float64) / temperature
    probabilities = np.exp(scaled - scaled.max())
    probabilities /= probabilities.sum()
    if top_p < 1.0:
        order = np.argsort(-probabilities, kind="stable")
        # keep token k when the tokens more likely than it add up to less than top_p
        keep = order[np.cumsum(probabilities[order]) - probabilities[order] < top_p]
        kept = np.zeros_like(probabilities)
        kept[keep] = probabilities[keep]
        probabilities = kept / kept.sum()
    return int(rng.choice(len(probabilities), p=probabilities))


class Generator:
    """for piece in Generator(model, prompt, ...): text as it is decided. After the loop, finish_reason is
    "stop" (a stop sequence came) or "length" (max_tokens or the model's max_length reached), and
    completion_tokens counts the tokens made. step() makes one token, for callers that pace the work."""

    def __init__(self, model, prompt, max_tokens=16, temperature=1.0, top_p=1.0, stop=(), seed=None):
        self.model, self.max_tokens, self.temperature, self.top_p = model, max_tokens, temperature, top_p
        self.stop = [s for s in stop if s]
        self.rng = np.random.default_rng(seed)
        self.prompt_ids = model.encode(prompt)
        if not len(self.prompt_ids):
            raise ValueError("the prompt is empty: give at least one character")
        limit = model.max_length
        if limit is not None and len(self.prompt_ids) >= limit:
            raise ValueError(f"the prompt has {len(self.prompt_ids)} tokens; the model reads at most {limit - 1}")
        self.room = max_tokens if limit is None else min(max_tokens, limit - len(self.prompt_ids))
        self.text, self.sent, self.cache, self.last = "", 0, None, None  # last: the latest token id
        self.completion_tokens, self.finish_reason = 0, None

    @no_grad()
    def step(self):
        """Make one token; returns the text that became final ("" while a stop sequence may be starting),
        or None once generation has finished."""
        if self.finish_reason is not None:
            return None
        if self.completion_tokens >= self.room:
            return self._finish("length")
        if self.cache is None:  # the prompt, all at once
            logits, self.cache = self.model.step(as_tensor(self.prompt_ids[None]), None)
        else:
            logits, self.cache = self.model.step(as_tensor(np.array([[self.last]], dtype=np.int64)), self.cache)
        self.last = next_token(logits.numpy()[0], self.temperature, self.top_p, self.rng)
        self.completion_tokens += 1
        self.text += self.model.decode([self.last])
        for stop in self.stop:
            found = self.text.find(stop)
            if found >= 0:
                self.text = self.text[:found]
                return self._finish("stop")
        final = len(self.text) - self._held_back()
        piece, self.sent = self.text[self.sent : final], max(self.sent, final)
        return piece

    def _finish(self, reason):
        self.finish_reason = reason
        piece, self.sent = self.text[self.sent :], len(self.text)
        return piece

    def _held_back(self):
        """Characters at the end of the text that begin some stop sequence."""
        longest = 0
        for stop in self.stop:
            for size in range(min(len(stop) - 1, len(self.text)), longest, -1):
                if self.text.endswith(stop[:size]):
                    longest = size
                    break
        return longest

    def __iter__(self):
        while (piece := self.step()) is not None:
            if piece:
                yield piece
