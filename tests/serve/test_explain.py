"""Explanations: saliency is the input gradient, integrated gradients add up to the change of the output
(completeness), and the :explain endpoint answers KServe v1 requests with them."""

import json

import numpy as np
import pytest

import tinygrad_maas as tm
import tinygrad_maas.nn as nn
from tinygrad_maas.serve import explain

WEIGHTS = np.arange(12, dtype=np.float32).reshape(3, 4) - 5


def linear_model():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3)).eval()
    with tm.no_grad():
        model[1].weight.array[...] = WEIGHTS
        model[1].bias.array[...] = [1, 2, 3]
    return model


def test_saliency_of_a_linear_model_is_its_weight_row():
    sample = np.array([[[1.0, -2.0], [3.0, 0.5]]], dtype=np.float32)
    np.testing.assert_allclose(explain.saliency(linear_model(), sample, 2), WEIGHTS[2].reshape(1, 2, 2))


def test_integrated_gradients_of_a_linear_model_are_exact():
    sample, baseline = np.array([[[1.0, -2.0], [3.0, 0.5]]], np.float32), np.full((1, 2, 2), 0.5, np.float32)
    attributions, delta = explain.integrated_gradients(linear_model(), sample, baseline, 1, steps=4)
    np.testing.assert_allclose(attributions, (sample - baseline) * WEIGHTS[1].reshape(1, 2, 2), rtol=1e-6)
    assert abs(delta) < 1e-5


def test_saliency_equals_finite_differences_on_a_smooth_model():
    tm.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double().eval()
    sample = np.random.default_rng(0).standard_normal((1, 5))
    gradient = explain.saliency(model, sample, 1)[0]
    step, numeric = 1e-6, np.zeros(5)
    for i in range(5):
        plus, minus = sample.copy(), sample.copy()
        plus[0, i] += step
        minus[0, i] -= step
        numeric[i] = (explain.predict_scores(model, plus)[1] - explain.predict_scores(model, minus)[1]) / (2 * step)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-9)


@pytest.fixture(scope="module")
def digits_cnn():
    pytest.importorskip("sklearn", reason="the digits data set comes with scikit-learn (the data extra)")
    from tinygrad_maas.recipes import train

    model, _, metadata = train("digits_cnn", epochs=2, seed=0, log=lambda line: None)
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model, metadata


def test_integrated_gradients_add_up_to_the_change_of_the_output_within_one_percent(digits_cnn):
    from tinygrad_maas.data import datasets

    model, metadata = digits_cnn
    images, _ = datasets.load_digits("test")
    for image in images[:12]:
        sample = image.reshape([1] + metadata["input_shape"]).astype(np.float32)
        baseline = np.zeros_like(sample)
        target = int(explain.predict_scores(model, sample).argmax())
        attributions, delta = explain.integrated_gradients(model, sample, baseline, target, steps=128)
        change = explain.predict_scores(model, sample)[target] - explain.predict_scores(model, baseline)[target]
        assert abs(attributions.sum() - change) <= 0.01 * abs(change)
        assert delta == pytest.approx(float(attributions.astype(np.float64).sum() - change), abs=1e-4)


def test_the_explain_endpoint_answers_saliency_and_integrated_gradients(repository_root, start_server):
    pytest.importorskip("uvicorn", reason="serving needs the serve extra")
    server = start_server(repository_root)
    instance = [[1.0, 2.0], [3.0, 4.0]]
    weights = np.arange(12, dtype=np.float32).reshape(3, 4) * 2.0  # version 2 of the tiny model
    status, _, body = server.request("POST", "/v1/models/tiny:explain", {"instances": [instance]})
    (explanation,) = json.loads(body)["explanations"]
    assert status == 200 and explanation["method"] == "saliency" and explanation["target"] == 2
    np.testing.assert_allclose(explanation["attributions"], weights[2].reshape(2, 2))
    status, _, body = server.request(
        "POST",
        "/v1/models/tiny/versions/1:explain",
        {
            "instances": [instance, instance],
            "parameters": {
                "method": "integrated_gradients",
                "target": 0,
                "steps": 16,
                "baseline": [[1.0, 1.0], [1.0, 1.0]],
            },
        },
    )
    explanations = json.loads(body)["explanations"]
    assert status == 200 and len(explanations) == 2
    np.testing.assert_allclose(
        explanations[0]["attributions"], (np.array(instance) - 1) * np.arange(4).reshape(2, 2), atol=1e-5
    )
    assert abs(explanations[0]["convergence_delta"]) < 1e-4
    assert explanations[0]["score"] - explanations[0]["baseline_score"] == pytest.approx(
        0 * 0 + 1 * 1 + 2 * 2 + 3 * 3, abs=1e-4
    )


@pytest.mark.parametrize(
    "parameters, field",
    [
        ({"method": "shap"}, "parameters.method must be one of"),
        ({"steps": 0}, "parameters.steps must be an integer from 1 to 256"),
        ({"steps": 100000}, "parameters.steps must be an integer from 1 to 256"),
        ({"target": 3}, "parameters.target 3 is not an output index"),
        ({"target": -1}, "parameters.target must be a non-negative integer"),
        ({"method": "integrated_gradients", "baseline": [1.0, 2.0]}, "parameters.baseline has shape [2]"),
        ([], "request.parameters must be an object"),
    ],
)
def test_explain_mistakes_are_400(repository_root, start_server, parameters, field):
    pytest.importorskip("uvicorn", reason="serving needs the serve extra")
    server = start_server(repository_root)
    status, _, body = server.request(
        "POST", "/v1/models/tiny:explain", {"instances": [[[1.0, 2.0], [3.0, 4.0]]], "parameters": parameters}
    )
    assert status == 400 and field in json.loads(body)["error"]


def test_too_many_instances_to_explain_is_400(repository_root, start_server):
    pytest.importorskip("uvicorn", reason="serving needs the serve extra")
    server = start_server(repository_root)
    status, _, body = server.request("POST", "/v1/models/tiny:explain", {"instances": [[[0.0] * 2] * 2] * 17})
    assert status == 400 and "at most 16 instances" in json.loads(body)["error"]
