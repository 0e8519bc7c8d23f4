"""Explanations of one prediction, computed with the autograd engine: which input values moved the output.

For a model f and one sample x, with f_t(x) the output the explanation is about (the target class):

- saliency: the input gradient, d f_t / d x. Large where a small change of the input changes the score
  most. One forward and one backward pass.
- integrated gradients (Sundararajan et al., 2017): the gradient averaged along the straight path from a
  baseline x' (no signal: all zeros by default) to x, times the distance travelled:

      IG_i(x) = (x_i - x'_i) * integral_0^1  d f_t / d x_i (x' + a (x - x'))  da

  By the fundamental theorem of calculus along that path, the attributions add up to the change of the
  output: sum_i IG_i(x) = f_t(x) - f_t(x') ("completeness"). The integral is computed with Gauss-Legendre
  quadrature on `steps` points (Captum's default rule). For a network of ReLUs and max-pools the integrand
  is piecewise constant along the path, so no rule is exact; the response reports how far from exact
  completeness the sum landed (convergence_delta), and a client can ask for more steps (docs/serving.md
  has the measured errors against the step count).

The gradients are taken with tm.autograd.grad, which returns d f_t / d x without touching any parameter's
.grad, so explanations can run beside inference on the same weights.
"""

import numpy as np

import tinygrad_maas as tm


def _scores(module, points, target):
    """f_t at each row of `points`, and the tensor the rows came in as (for the gradient)."""
    inputs = tm.tensor(points, requires_grad=True)
    with tm.enable_grad():
        outputs = module(inputs)
    rows = outputs.reshape(outputs.shape[0], -1)
    return rows[:, target], inputs


def predict_scores(module, sample):
    """The model's output row for one sample (1, ...) as a flat float64 array."""
    with tm.no_grad():
        return module(tm.tensor(sample)).numpy().reshape(-1).astype(np.float64)


def saliency(module, sample, target):
    """d f_target / d sample, for a sample of shape (1, ...)."""
    scores, inputs = _scores(module, sample, target)
    (gradient,) = tm.autograd.grad(scores.sum(), inputs)
    return gradient.numpy()


def integrated_gradients(module, sample, baseline, target, steps, chunk_rows=32):
    """(attributions shaped like the sample, convergence delta) for a sample of shape (1, ...).

    The path points are evaluated in chunks of chunk_rows rows: each chunk is one batched forward pass and
    one backward pass (the rows do not interact in eval mode, so the summed score's gradient is every row's
    own gradient).
    """
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    alphas, weights = (nodes + 1) / 2, weights / 2  # from [-1, 1] to [0, 1]
    difference = (sample - baseline).astype(np.float64)
    averaged = np.zeros(sample.shape[1:], dtype=np.float64)
    for start in range(0, steps, chunk_rows):
        alpha = alphas[start : start + chunk_rows].reshape((-1,) + (1,) * (sample.ndim - 1))
        points = (baseline + alpha * difference).astype(sample.dtype)
        scores, inputs = _scores(module, points, target)
        (gradient,) = tm.autograd.grad(scores.sum(), inputs)
        averaged += np.tensordot(weights[start : start + chunk_rows], gradient.numpy().astype(np.float64), axes=1)
    attributions = difference[0] * averaged
    change = predict_scores(module, sample)[target] - predict_scores(module, baseline)[target]
    return attributions[None].astype(sample.dtype), float(attributions.sum() - change)
