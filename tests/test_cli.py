"""The tinygrad-maas command: train a recipe on bundled data, predict with the saved model, clear errors."""

import subprocess
import sys

import numpy as np

from tinygrad_maas.__main__ import main
from tinygrad_maas.recipes import train


def test_a_short_digits_cnn_run_learns(capsys):
    model, metrics, metadata = train("digits_cnn", epochs=3, log=lambda line: None)
    assert metrics["accuracy"] > 0.8  # 10 classes: chance is 0.1
    assert metadata["input_shape"] == [1, 8, 8] and metadata["task"] == "classification"


def test_train_then_predict(tmp_path, capsys):
    output = tmp_path / "model"
    assert main(["train", "digits_mlp", "--epochs", "3", "--output", str(output)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    from tinygrad_maas.data import datasets

    x, y = datasets.load_digits("test")
    np.save(tmp_path / "batch.npy", x[:20].reshape(20, 64))
    assert main(["predict", str(output), str(tmp_path / "batch.npy")]) == 0
    predictions = [int(line) for line in capsys.readouterr().out.split()]
    assert len(predictions) == 20 and (np.array(predictions) == y[:20]).mean() > 0.7


def test_predict_refuses_a_wrong_shape(tmp_path):
    main(["train", "digits_mlp", "--epochs", "1", "--output", str(tmp_path / "model")])
    np.save(tmp_path / "wrong.npy", np.zeros((3, 8, 8), dtype=np.float32))
    result = subprocess.run(
        [sys.executable, "-m", "tinygrad_maas", "predict", str(tmp_path / "model"), str(tmp_path / "wrong.npy")],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "takes samples of shape (64,)" in result.stderr


def test_unknown_recipe_and_help(capsys):
    assert main(["train", "nope"]) == 2
    assert "unknown recipe 'nope'; choose from: digits_mlp" in capsys.readouterr().err
    result = subprocess.run([sys.executable, "-m", "tinygrad_maas", "train", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--epochs" in result.stdout
