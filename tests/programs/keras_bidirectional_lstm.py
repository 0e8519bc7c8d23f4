"""Keras' example "Bidirectional LSTM on IMDB", as written there: the functional API with a
variable-length integer Input, Embedding, two Bidirectional LSTMs and a sigmoid output, trained with
binary cross-entropy.

The texts are short lines of Python's own source code and documentation prose (labelled 1 and 0), made
into word ids and padded with pad_sequences, as the example does with IMDB reviews. `--quick` uses
smaller layers and 2 epochs on 2,000 lines; `--real` runs Keras itself. The last line printed is the
validation accuracy.
"""

import argparse
import collections

import numpy as np

from tinygrad_maas.data.datasets import load_text_lines

parser = argparse.ArgumentParser()
parser.add_argument("--quick", action="store_true")
parser.add_argument("--real", action="store_true", help="run with Keras itself")
args = parser.parse_args()

if args.real:
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 runs on PyTorch when TensorFlow is absent
    import keras
    from keras import layers
else:
    from tinygrad_maas import keras
    from tinygrad_maas.keras import layers

max_features = 2000  # Only consider the top 2k words
maxlen = 30  # Only consider the first 30 words of each line
width, units, epochs = (16, 16, 2) if args.quick else (128, 64, 2)


def word_ids(texts, vocabulary=None):
    tokenized = [text.replace("(", " ( ").replace(")", " ) ").split() for text in texts]
    if vocabulary is None:
        counts = collections.Counter(word for words in tokenized for word in words)
        vocabulary = {word: i + 2 for i, (word, _) in enumerate(counts.most_common(max_features - 2))}
    return [[vocabulary.get(word, 1) for word in words] for words in tokenized], vocabulary


keras.utils.set_random_seed(1)
(train_texts, y_train), (val_texts, y_val) = load_text_lines("train"), load_text_lines("test")
if args.quick:
    rng = np.random.default_rng(0)
    keep, keep_val = rng.permutation(len(train_texts))[:2000], rng.permutation(len(val_texts))[:500]
    train_texts, y_train = [train_texts[i] for i in keep], y_train[keep]
    val_texts, y_val = [val_texts[i] for i in keep_val], y_val[keep_val]
x_train, vocabulary = word_ids(train_texts)
x_val, _ = word_ids(val_texts, vocabulary)
print(len(x_train), "Training sequences")
print(len(x_val), "Validation sequences")
# Use pad_sequence to standardize sequence length:
# this will truncate sequences longer than maxlen
# and pad sequences shorter than maxlen.
x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)

# Input for variable-length sequences of integers
inputs = keras.Input(shape=(None,), dtype="int32")
# Embed each integer in a vector
x = layers.Embedding(max_features, width)(inputs)
# Add 2 bidirectional LSTMs
x = layers.Bidirectional(layers.LSTM(units, return_sequences=True))(x)
x = layers.Bidirectional(layers.LSTM(units))(x)
# Add a classifier
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.summary()

model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_data=(x_val, y_val), verbose=2)
print(f"METRIC accuracy {history.history['val_accuracy'][-1]:.4f}")
