"""keras.initializers and keras.regularizers: weight initialisers by Keras' names and formulas (fans in
Keras' kernel layouts), and weight penalties added to the loss.

    glorot_uniform   U(-l, l), l = sqrt(6 / (fan_in + fan_out))     he_uniform     l = sqrt(6 / fan_in)
    glorot_normal    truncated N(0, s), s = sqrt(2 / (fan_in + fan_out)) / 0.8796   (the std of a normal
    he_normal        s = sqrt(2 / fan_in) / 0.8796                                   cut at 2 sigma is
    lecun_normal     s = sqrt(1 / fan_in) / 0.8796                                   0.8796 sigma)
    random_normal N(0, 0.05), random_uniform U(-0.05, 0.05), truncated_normal, zeros, ones, orthogonal
"""

import math

from ..nn import init

_TRUNCATION = 0.87962566103423978


def _truncated(std):
    return lambda p: init.trunc_normal_(p, 0.0, std, -2 * std, 2 * std)


_FORMULAS = {
    "glorot_uniform": lambda fi, fo: lambda p: init.uniform_(p, -math.sqrt(6 / (fi + fo)), math.sqrt(6 / (fi + fo))),
    "glorot_normal": lambda fi, fo: _truncated(math.sqrt(2 / (fi + fo)) / _TRUNCATION),
    "he_uniform": lambda fi, fo: lambda p: init.uniform_(p, -math.sqrt(6 / fi), math.sqrt(6 / fi)),
    "he_normal": lambda fi, fo: _truncated(math.sqrt(2 / fi) / _TRUNCATION),
    "lecun_uniform": lambda fi, fo: lambda p: init.uniform_(p, -math.sqrt(3 / fi), math.sqrt(3 / fi)),
    "lecun_normal": lambda fi, fo: _truncated(math.sqrt(1 / fi) / _TRUNCATION),
    "random_normal": lambda fi, fo: lambda p: init.normal_(p, 0.0, 0.05),
    "random_uniform": lambda fi, fo: lambda p: init.uniform_(p, -0.05, 0.05),
    "truncated_normal": lambda fi, fo: _truncated(0.05),
    "zeros": lambda fi, fo: init.zeros_,
    "ones": lambda fi, fo: init.ones_,
    "orthogonal": lambda fi, fo: init.orthogonal_,
}


def _snake(name):
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


class Initializer:
    """keras.initializers.HeNormal() and friends: the name of a formula above."""

    def __init__(self, **_):
        self.name = _snake(type(self).__name__)

    def filler(self, fan_in, fan_out):
        return _FORMULAS[self.name](fan_in, fan_out)


GlorotUniform = type("GlorotUniform", (Initializer,), {})
GlorotNormal = type("GlorotNormal", (Initializer,), {})
HeUniform = type("HeUniform", (Initializer,), {})
HeNormal = type("HeNormal", (Initializer,), {})
LecunNormal = type("LecunNormal", (Initializer,), {})
LecunUniform = type("LecunUniform", (Initializer,), {})
Zeros = type("Zeros", (Initializer,), {})
Ones = type("Ones", (Initializer,), {})
Orthogonal = type("Orthogonal", (Initializer,), {})


def filler(initializer, fan_in, fan_out):
    """An nn.init-style function filling a weight, from a name or an Initializer."""
    if isinstance(initializer, Initializer):
        return initializer.filler(fan_in, fan_out)
    if initializer not in _FORMULAS:
        raise ValueError(f"unknown initializer {initializer!r}; choose from {sorted(_FORMULAS)}")
    return _FORMULAS[initializer](fan_in, fan_out)


def name_of(initializer):
    return initializer.name if isinstance(initializer, Initializer) else initializer


class Regularizer:
    """A penalty on a weight added to the training loss: l1 * sum|w| + l2 * sum w^2."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = l1, l2

    def __call__(self, weight):
        penalty = 0.0
        if self.l1:
            penalty = penalty + weight.abs().sum() * self.l1
        if self.l2:
            penalty = penalty + (weight * weight).sum() * self.l2
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def L1(l1=0.01):
    return Regularizer(l1=l1)


def L2(l2=0.01):
    return Regularizer(l2=l2)


def L1L2(l1=0.0, l2=0.0):
    return Regularizer(l1=l1, l2=l2)


l1, l2, l1_l2 = L1, L2, L1L2


def regularizer(spec):
    """A Regularizer from None, a Regularizer, a saved config, or Keras' names "l1" / "l2" (0.01)."""
    if spec is None or isinstance(spec, Regularizer):
        return spec
    if isinstance(spec, dict):
        return Regularizer(**spec)
    if spec in ("l1", "l2"):
        return L1() if spec == "l1" else L2()
    raise ValueError(f"unknown regularizer {spec!r}; use keras.regularizers.l2(0.01) or 'l1' / 'l2'")
