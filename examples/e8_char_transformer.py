"""Example 8: a small causal Transformer character model on the same text as example 7, trained for the
same wall-clock time as example 7's GRU, both then measured on the same validation windows.

token + learned position embeddings -> 2 x TransformerEncoderLayer (causal mask, pre-norm) -> LayerNorm
-> Linear to characters.   python examples/e8_char_transformer.py [--fast] [--seconds 90]
"""

import argparse
import os
import sys

import numpy as np

import tinygrad_maas as tm
from tinygrad_maas import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e7_char_gru_language_model import WINDOW, CharGRU, corpus, train_for, unigram_baseline, validation_loss  # noqa: E402


class CharTransformer(nn.Module):
    def __init__(self, vocabulary, width=64, heads=4, layers=2):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, width)
        self.position = nn.Parameter(tm.randn(WINDOW, width) * 0.02)
        self.blocks = nn.ModuleList(
            [
                nn.TransformerEncoderLayer(
                    width, heads, dim_feedforward=2 * width, dropout=0.0, batch_first=True, norm_first=True
                )
                for _ in range(layers)
            ]
        )
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocabulary)
        self.register_buffer("causal", tm.tensor(np.triu(np.ones((WINDOW, WINDOW), dtype=bool), k=1)), persistent=False)

    def forward(self, tokens):
        length = tokens.shape[1]
        x = self.embedding(tokens) + self.position[:length]
        mask = self.causal[:length, :length]
        for block in self.blocks:
            x = block(x, src_mask=mask)
        return self.head(self.norm(x))


def main(fast=False, seconds=None):
    budget = seconds or (8 if fast else 90)
    alphabet, train, test = corpus()
    baseline = unigram_baseline(train, test, len(alphabet))
    results = {}
    for name, build in (
        ("gru", lambda: CharGRU(len(alphabet))),
        ("transformer", lambda: CharTransformer(len(alphabet))),
    ):
        tm.manual_seed(0)
        model = build()
        steps = train_for(model, train, budget, log=lambda line: None)
        results[name] = {"validation_loss": validation_loss(model, test), "steps": steps}
        print(f"{name:12s} {steps:5d} steps in {budget:.0f}s  validation loss {results[name]['validation_loss']:.3f}")
    better = results["transformer"]["validation_loss"] < results["gru"]["validation_loss"]
    print(
        f"unigram baseline {baseline:.3f}; at equal training time the Transformer is "
        f"{'better' if better else 'NOT better'} than the GRU"
    )
    return {**results, "unigram_baseline": baseline, "transformer_better": better}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a short run (for the tests)")
    parser.add_argument("--seconds", type=float, default=None, help="training time budget for each model")
    arguments = parser.parse_args()
    main(arguments.fast, arguments.seconds)
