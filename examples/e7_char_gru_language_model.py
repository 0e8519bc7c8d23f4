"""Example 7: a character-level language model, Embedding + GRU + Linear (softmax over characters), on the
English prose of the standard library's pydoc_data topics; validation loss against a unigram baseline
(each character predicted by its frequency alone), then sampled text.

python examples/e7_char_gru_language_model.py [--fast] [--seconds 90]
"""

import argparse
import math
import time

import numpy as np

import tinygrad_maas as tm
from tinygrad_maas import nn
from tinygrad_maas.data import datasets
from tinygrad_maas.nn import functional as F

WINDOW, BATCH = 64, 32


def corpus():
    train, test = datasets.load_text_corpus("train"), datasets.load_text_corpus("test")
    alphabet = sorted(set(train))
    index = {c: i for i, c in enumerate(alphabet)}
    encode = lambda text: np.array([index.get(c, 0) for c in text], dtype=np.int64)  # noqa: E731
    return alphabet, encode(train), encode(test)


def unigram_baseline(train, test, vocabulary):
    """Cross-entropy (nats per character) of the test text under the training text's character frequencies."""
    counts = np.bincount(train, minlength=vocabulary) + 1.0
    return float(-np.log(counts / counts.sum())[test].mean())


def windows(codes, rng, count):
    starts = rng.integers(0, len(codes) - WINDOW - 1, count)
    block = np.stack([codes[s : s + WINDOW + 1] for s in starts])
    return tm.tensor(block[:, :-1]), tm.tensor(block[:, 1:])


class CharGRU(nn.Module):
    def __init__(self, vocabulary, embedding=64, hidden=128):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, embedding)
        self.gru = nn.GRU(embedding, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocabulary)

    def forward(self, tokens, state=None):
        output, state = self.gru(self.embedding(tokens), state)
        return self.head(output), state


def next_character_loss(model, inputs, targets):
    logits = model(inputs)
    logits = logits[0] if isinstance(logits, tuple) else logits
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def validation_loss(model, test, batches=8):
    rng = np.random.default_rng(123)  # the same validation windows for every model and run
    model.eval()
    with tm.no_grad():
        losses = [next_character_loss(model, *windows(test, rng, BATCH)).item() for _ in range(batches)]
    model.train()
    return float(np.mean(losses))


def train_for(model, train, seconds, lr=3e-3, log=print):
    """Adam on random windows until `seconds` have passed; returns the number of steps."""
    optimizer = tm.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(0)
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        optimizer.zero_grad()
        loss = next_character_loss(model, *windows(train, rng, BATCH))
        loss.backward()
        tm.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        steps += 1
        if steps % 100 == 0:
            log(f"step {steps:5d}  {time.perf_counter() - start:5.1f}s  training loss {loss.item():.3f}")
    return steps


def sample(model, alphabet, prompt="The ", length=200, temperature=0.8, seed=0):
    index = {c: i for i, c in enumerate(alphabet)}
    rng = np.random.default_rng(seed)
    model.eval()
    text, state = prompt, None
    tokens = tm.tensor([[index.get(c, 0) for c in prompt]])
    with tm.no_grad():
        for _ in range(length):
            logits, state = model(tokens, state)
            probabilities = (logits[0, -1] / temperature).softmax(-1).numpy().astype(np.float64)
            choice = int(rng.choice(len(alphabet), p=probabilities / probabilities.sum()))
            text += alphabet[choice]
            tokens = tm.tensor([[choice]])
    model.train()
    return text


def main(fast=False, seconds=None):
    tm.manual_seed(0)
    alphabet, train, test = corpus()
    baseline = unigram_baseline(train, test, len(alphabet))
    model = CharGRU(len(alphabet))
    steps = train_for(model, train, seconds or (8 if fast else 90))
    loss = validation_loss(model, test)
    print(
        f"{steps} steps; validation loss {loss:.3f} nats/char ({loss / math.log(2):.2f} bits) against the unigram "
        f"baseline {baseline:.3f}"
    )
    print("sample:", repr(sample(model, alphabet, length=80 if fast else 200)))
    return {"validation_loss": loss, "unigram_baseline": baseline, "steps": steps}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a short run (for the tests)")
    parser.add_argument("--seconds", type=float, default=None, help="training time budget")
    arguments = parser.parse_args()
    main(arguments.fast, arguments.seconds)
