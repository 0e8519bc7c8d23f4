"""Keras layers that wrap another layer: Bidirectional (a recurrent layer run both ways) and
TimeDistributed (a layer applied to every time step)."""

from ..tensor import cat
from .layers import Layer

_MERGES = ("concat", "sum", "mul", "ave", None)


def _layer_from(spec):
    """A layer, or one rebuilt from its saved {"class_name", "config"} (architecture.json)."""
    if isinstance(spec, dict):
        from .layers import LAYER_TYPES

        return LAYER_TYPES[spec["class_name"]](**spec["config"])
    return spec


class Bidirectional(Layer):
    """Runs `layer` forward in time and a copy of it backward (go_backwards=True, its own weights), and
    merges the two outputs: concatenated on the last axis by default, or summed, multiplied, averaged,
    or returned as a list (merge_mode=None). With return_sequences the backward outputs are put back in
    time order first."""

    def __init__(self, layer, merge_mode="concat", backward_layer=None, input_shape=None, name=None):
        layer = _layer_from(layer)
        super().__init__(input_shape or layer.input_shape_argument, name)
        if merge_mode not in _MERGES:
            raise ValueError(f"Bidirectional: merge_mode must be one of {_MERGES}, got {merge_mode!r}")
        config = layer.get_config()
        self.forward_layer = layer
        self.backward_layer = _layer_from(backward_layer) or type(layer)(
            **{**config, "name": "backward_" + config["name"], "go_backwards": not config.get("go_backwards", False)}
        )
        self.merge_mode = merge_mode

    def forward(self, x):
        ahead, behind = self.forward_layer(x), self.backward_layer(x)
        if self.backward_layer.return_sequences:
            behind = behind.flip(1)
        if self.merge_mode == "concat":
            return cat([ahead, behind], dim=-1)
        if self.merge_mode == "sum":
            return ahead + behind
        if self.merge_mode == "mul":
            return ahead * behind
        if self.merge_mode == "ave":
            return (ahead + behind) * 0.5
        return [ahead, behind]

    def get_config(self):
        return {
            "name": self.name,
            "layer": {"class_name": type(self.forward_layer).__name__, "config": self.forward_layer.get_config()},
            "merge_mode": self.merge_mode,
        }


class TimeDistributed(Layer):
    """Applies `layer` to every step of a (batch, steps, ...) input: the steps are folded into the batch,
    the layer runs once, and the result is unfolded."""

    def __init__(self, layer, input_shape=None, name=None):
        layer = _layer_from(layer)
        super().__init__(input_shape, name)
        self.layer = layer

    def forward(self, x):
        if x.ndim < 3:
            raise ValueError(f"{self.name}: expected (batch, steps, ...), got shape {x.shape}")
        batch, steps = x.shape[:2]
        folded = self.layer(x.reshape(batch * steps, *x.shape[2:]))
        return folded.reshape(batch, steps, *folded.shape[1:])

    def get_config(self):
        return {
            "name": self.name,
            "layer": {"class_name": type(self.layer).__name__, "config": self.layer.get_config()},
        }
