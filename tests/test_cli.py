"""The tinygrad-maas command: train a recipe on bundled data, predict with the saved model, clear errors."""

import subprocess
import sys

import numpy as np

import tinygrad_maas as tm
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


def test_predict_prints_every_output_of_a_model_that_is_not_a_classifier(tmp_path, capsys):
    from tinygrad_maas import nn
    from tinygrad_maas.nn.architecture import save_model

    model = nn.Sequential(nn.Linear(3, 2))
    with tm.no_grad():
        model[0].weight.copy_(tm.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]))
        model[0].bias.zero_()
    save_model(model, tmp_path / "two_outputs", {"input_shape": [3]})
    np.save(tmp_path / "x.npy", np.array([[1.0, 5.0, 3.0], [2.0, 0.0, -1.0]], dtype=np.float32))
    assert main(["predict", str(tmp_path / "two_outputs"), str(tmp_path / "x.npy")]) == 0
    assert capsys.readouterr().out.split("\n")[:2] == ["1.0 6.0", "2.0 -2.0"]
