"""The character language models: a cached step equals the full forward pass, sampling follows its
parameters, the saved form is checked data, and the recipe trains a model that generates."""

import json

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas.models.causal_lm import CharGRU, CharTransformer, build
from tinygrad_maas.models.generation import Generator, next_token
from tinygrad_maas.nn.architecture import load_model, save_model

ALPHABET = "ab c."


def model_of(kind):
    tm.manual_seed(1)
    model = CharGRU(5, 8, 12) if kind == "gru" else CharTransformer(5, width=8, heads=2, layers=2, max_length=40)
    model.alphabet = ALPHABET
    return model.eval()


@pytest.mark.parametrize("kind", ["gru", "transformer"])
def test_stepping_with_the_cache_gives_the_logits_of_the_whole_sequence(kind):
    model = model_of(kind)
    tokens = tm.tensor(np.random.default_rng(0).integers(0, 5, (3, 25)))
    with tm.no_grad():
        full = model(tokens).numpy()
        logits, cache = model.step(tokens[:, :4])
        steps = [logits.numpy()]
        for position in range(4, 25):
            logits, cache = model.step(tokens[:, position : position + 1], cache)
            steps.append(logits.numpy())
    assert np.abs(np.stack(steps, axis=1) - full[:, 3:]).max() < 1e-5


def test_temperature_zero_is_argmax_and_a_tiny_top_p_keeps_only_the_likeliest_token():
    logits = np.array([0.1, 2.0, 1.9, -3.0])
    rng = np.random.default_rng(0)
    assert next_token(logits, 0, 1.0, rng) == 1
    assert {next_token(logits, 1.0, 0.01, rng) for _ in range(50)} == {1}
    assert {next_token(logits, 1.0, 1.0, rng) for _ in range(200)} >= {0, 1, 2}  # full sampling reaches others


def test_a_stop_sequence_is_held_back_until_decided_and_never_shown():
    model = model_of("gru")
    full = "".join(Generator(model, "a", max_tokens=60, seed=4))
    stop = full[20:23]
    generator = Generator(model, "a", max_tokens=60, seed=4, stop=[stop])
    pieces = list(generator)
    assert "".join(pieces) == full[: full.find(stop)] and generator.finish_reason == "stop"
    assert all(stop not in "".join(pieces[: i + 1]) for i in range(len(pieces)))


def test_prompts_are_checked_against_the_alphabet_and_the_context_length():
    with pytest.raises(ValueError, match="does not know: 'xz'"):
        Generator(model_of("gru"), "axz")
    with pytest.raises(ValueError, match="the model reads at most 39"):
        Generator(model_of("transformer"), "a" * 40)
    generator = Generator(model_of("transformer"), "a" * 30, max_tokens=50)
    assert len("".join(generator)) == 10 and generator.finish_reason == "length"  # 40 positions in all


def test_the_saved_form_round_trips_and_refuses_sizes_out_of_bounds(tmp_path):
    model = model_of("transformer")
    save_model(model, tmp_path / "m")
    loaded, _ = load_model(tmp_path / "m")
    tokens = tm.tensor([[0, 1, 2, 3]])
    with tm.no_grad():
        assert np.array_equal(loaded(tokens).numpy(), model(tokens).numpy())
    architecture = json.loads((tmp_path / "m" / "architecture.json").read_text())["architecture"]
    with pytest.raises(ValueError, match="max_length must be an integer from 1 to 65536"):
        build({**architecture, "max_length": 10**9})
    with pytest.raises(ValueError, match="alphabet must be a string of vocabulary_size distinct characters"):
        build({**architecture, "alphabet": "aab c"})


def test_the_char_gru_recipe_learns_within_one_epoch():
    from tinygrad_maas.recipes import train

    model, metrics, metadata = train("char_gru", epochs=1, log=lambda *a: None)
    assert metrics["test_loss"] < 2.6  # a unigram model of the text scores about 3.2 nats per character
    assert metadata["task"] == "language_model"
    assert len("".join(Generator(model, "The ", max_tokens=20, seed=0))) == 20
