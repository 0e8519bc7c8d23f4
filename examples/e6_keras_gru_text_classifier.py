"""Example 6: is a line of text Python source or English prose? A Keras-style Embedding + GRU + Dense(1,
sigmoid) over characters, trained on lines from the standard library (its own .py files; pydoc_data's
topics). Goal: test accuracy >= 0.95.

python examples/e6_keras_gru_text_classifier.py [--fast]
"""

import argparse

import numpy as np

import tinygrad_maas as tm
from tinygrad_maas import keras
from tinygrad_maas.data import datasets

LENGTH = 48  # characters per line (cut or padded with 0)


def encode(lines, alphabet):
    """Each character as its index in the alphabet (+1; 0 pads, and stands for characters not seen)."""
    codes = np.zeros((len(lines), LENGTH), dtype=np.int64)
    for row, line in enumerate(lines):
        for column, character in enumerate(line[:LENGTH]):
            codes[row, column] = alphabet.get(character, 0)
    return codes


def main(fast=False):
    tm.manual_seed(0)
    train_lines, y_train = datasets.load_text_lines("train")
    test_lines, y_test = datasets.load_text_lines("test")
    alphabet = {c: i + 1 for i, c in enumerate(sorted(set("".join(train_lines))))}
    x_train, x_test = encode(train_lines, alphabet), encode(test_lines, alphabet)
    if fast:
        x_train, y_train = x_train[:600], y_train[:600]
    model = keras.Sequential(
        [
            keras.Input(shape=(LENGTH,)),
            keras.layers.Embedding(len(alphabet) + 1, 16),
            keras.layers.GRU(64),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(keras.optimizers.Adam(learning_rate=3e-3), "binary_crossentropy", ["accuracy"])
    model.fit(x_train, y_train[:, None].astype(np.float32), batch_size=32, epochs=2 if fast else 30)
    loss, accuracy = model.evaluate(x_test, y_test[:, None].astype(np.float32), verbose=0)
    for line, probability in zip(test_lines[:4], model.predict(x_test[:4])[:, 0]):
        print(f"{'python' if probability > 0.5 else 'prose ':6s} {probability:.2f}  {line[:60]!r}")
    print(f"test accuracy {accuracy:.4f} (loss {loss:.4f})")
    return {"accuracy": accuracy}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a short run (for the tests)")
    main(parser.parse_args().fast)
