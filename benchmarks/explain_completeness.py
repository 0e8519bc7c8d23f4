"""How close integrated gradients come to completeness (attributions adding up to f(x) - f(baseline)) for
the step counts a client may ask for, on the digits CNN trained here (scikit-learn's 8x8 digits, the data
extra) and on an untrained 28x28 CNN with random inputs. Prints the worst and the median relative error
|sum(attributions) - (f(x) - f(baseline))| / |f(x) - f(baseline)| over the samples, and the time per
explanation.

    python -m benchmarks.explain_completeness [--samples 30]
"""

import argparse
import time

import numpy as np


def _errors(model, samples, steps):
    from tinygrad_maas.serve import explain

    errors, started = [], time.perf_counter()
    for sample in samples:
        baseline = np.zeros_like(sample)
        scores = explain.predict_scores(model, sample)
        target = int(scores.argmax())
        change = scores[target] - explain.predict_scores(model, baseline)[target]
        _, delta = explain.integrated_gradients(model, sample, baseline, target, steps)
        errors.append(abs(delta) / abs(change))
    return np.array(errors), (time.perf_counter() - started) / len(samples)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args(argv)

    import tinygrad_maas as tm
    from tinygrad_maas import nn
    from tinygrad_maas.data import datasets
    from tinygrad_maas.recipes import train

    digits, _, metadata = train("digits_cnn", epochs=2, seed=0, log=lambda line: None)
    images, _ = datasets.load_digits("test")
    tm.manual_seed(0)
    untrained = nn.Sequential(
        nn.Conv2d(1, 8, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 32),
        nn.ReLU(),
        nn.Linear(32, 10),
    )
    rng = np.random.default_rng(0)
    cases = {
        "digits CNN (trained, 8x8)": (
            digits,
            [image.reshape([1] + metadata["input_shape"]).astype(np.float32) for image in images[: args.samples]],
        ),
        "untrained CNN (28x28, random inputs)": (
            untrained,
            [rng.random((1, 1, 28, 28)).astype(np.float32) for _ in range(args.samples)],
        ),
    }
    print(f"| model | steps | worst error | median error | ms per explanation |  ({args.samples} samples each)")
    print("|---|---:|---:|---:|---:|")
    for name, (model, samples) in cases.items():
        model.eval()
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        for steps in (32, 64, 128, 256):
            errors, seconds = _errors(model, samples, steps)
            print(f"| {name} | {steps} | {errors.max():.2%} | {np.median(errors):.3%} | {seconds * 1e3:.0f} |")


if __name__ == "__main__":
    main()
