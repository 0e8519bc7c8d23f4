"""Keras layers without weights that reshape, pool, scale or join their inputs (channels-last)."""

from ..nn import functional as F
from ..ops.arguments import spatial
from ..tensor import cat
from .layers import Layer, _activation


class Activation(Layer):
    def __init__(self, activation, input_shape=None, name=None):
        super().__init__(input_shape, name)
        self.activation_name, self.activation = activation, _activation(activation)

    def forward(self, x):
        return self.activation(x)

    def get_config(self):
        return {"name": self.name, "activation": self.activation_name}


class Reshape(Layer):
    """Each sample to target_shape (one entry may be -1)."""

    def __init__(self, target_shape, input_shape=None, name=None):
        super().__init__(input_shape, name)
        self.target_shape = tuple(target_shape)

    def forward(self, x):
        return x.reshape(x.shape[0], *self.target_shape)

    def get_config(self):
        return {"name": self.name, "target_shape": list(self.target_shape)}


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features): the vector repeated n times (a decoder's input)."""

    def __init__(self, n, input_shape=None, name=None):
        super().__init__(input_shape, name)
        self.n = n

    def forward(self, x):
        if x.ndim != 2:
            raise ValueError(f"{self.name}: expected (batch, features), got shape {x.shape}")
        return x.unsqueeze(1).expand(x.shape[0], self.n, x.shape[1])

    def get_config(self):
        return {"name": self.name, "n": self.n}


class Rescaling(Layer):
    """x * scale + offset (pixels 0..255 to 0..1 with scale=1/255)."""

    def __init__(self, scale, offset=0.0, input_shape=None, name=None):
        super().__init__(input_shape, name)
        self.scale, self.offset = scale, offset

    def forward(self, x):
        return x.float() * self.scale + self.offset

    def get_config(self):
        return {"name": self.name, "scale": self.scale, "offset": self.offset}


class GlobalAveragePooling1D(Layer):
    """(batch, steps, channels) -> (batch, channels): the mean over steps."""

    def forward(self, x):
        return x.mean(dim=1)


class GlobalMaxPooling1D(Layer):
    def forward(self, x):
        return x.amax(dim=1)


class GlobalAveragePooling2D(Layer):
    """(batch, height, width, channels) -> (batch, channels): the mean over the image."""

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"{self.name}: expected (batch, height, width, channels), got shape {x.shape}")
        return x.mean(dim=(1, 2))


class AveragePooling2D(Layer):
    """Mean of each pool_size window of channels-last images; padding "valid" only."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", input_shape=None, name=None):
        super().__init__(input_shape, name)
        if padding != "valid":
            raise NotImplementedError("AveragePooling2D: only padding='valid' is supported")
        self.pool_size = spatial(pool_size, 2, "pool_size", "AveragePooling2D", 1)
        self.strides = self.pool_size if strides is None else spatial(strides, 2, "strides", "AveragePooling2D", 1)
        self.padding = padding

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"{self.name}: expected (batch, height, width, channels), got shape {x.shape}")
        return F.avg_pool2d(x.permute(0, 3, 1, 2), self.pool_size, self.strides).permute(0, 2, 3, 1)

    def get_config(self):
        return {"name": self.name, "pool_size": list(self.pool_size), "strides": list(self.strides)}


class Concatenate(Layer):
    """A list of tensors joined along `axis` (the last by default)."""

    def __init__(self, axis=-1, input_shape=None, name=None):
        super().__init__(input_shape, name)
        self.axis = axis

    def forward(self, inputs):
        return cat(list(inputs), dim=self.axis)

    def get_config(self):
        return {"name": self.name, "axis": self.axis}


class Add(Layer):
    """The elementwise sum of a list of tensors."""

    def forward(self, inputs):
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total
