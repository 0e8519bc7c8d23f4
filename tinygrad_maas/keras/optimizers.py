"""Keras optimizer names with Keras' argument names and defaults, e.g. Adam(learning_rate=1e-3). Each is a
factory: compile() calls it with the model's parameters once they exist. A factory keeps its name and
arguments (get_config), so a compiled model saves its optimizer as data (keras/saving.py)."""

from .. import optim


class OptimizerFactory:
    """params -> optimizer, remembering the Keras name and arguments it was made with."""

    def __init__(self, class_name, config, build):
        self.class_name, self.config, self._build = class_name, config, build

    def __call__(self, params):
        return self._build(params, **self.config)

    def get_config(self):
        return dict(self.config)

    def __repr__(self):
        return f"keras.optimizers.{self.class_name}({', '.join(f'{k}={v!r}' for k, v in self.config.items())})"


def Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    def build(params, learning_rate, beta_1, beta_2, epsilon, amsgrad):
        return optim.Adam(params, lr=learning_rate, betas=(beta_1, beta_2), eps=epsilon, amsgrad=amsgrad)

    config = dict(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad)
    return OptimizerFactory("Adam", config, build)


def AdamW(learning_rate=1e-3, weight_decay=4e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    def build(params, learning_rate, weight_decay, beta_1, beta_2, epsilon):
        return optim.AdamW(params, lr=learning_rate, betas=(beta_1, beta_2), eps=epsilon, weight_decay=weight_decay)

    config = dict(learning_rate=learning_rate, weight_decay=weight_decay, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
    return OptimizerFactory("AdamW", config, build)


def SGD(learning_rate=1e-2, momentum=0.0, nesterov=False):
    def build(params, learning_rate, momentum, nesterov):
        return optim.SGD(params, lr=learning_rate, momentum=momentum, nesterov=nesterov)

    return OptimizerFactory("SGD", dict(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov), build)


def RMSprop(learning_rate=1e-3, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    def build(params, learning_rate, rho, momentum, epsilon, centered):
        return optim.RMSprop(params, lr=learning_rate, alpha=rho, momentum=momentum, eps=epsilon, centered=centered)

    config = dict(learning_rate=learning_rate, rho=rho, momentum=momentum, epsilon=epsilon, centered=centered)
    return OptimizerFactory("RMSprop", config, build)


def Adagrad(learning_rate=1e-3, initial_accumulator_value=0.1, epsilon=1e-7):
    def build(params, learning_rate, initial_accumulator_value, epsilon):
        return optim.Adagrad(params, lr=learning_rate, initial_accumulator_value=initial_accumulator_value, eps=epsilon)

    config = dict(learning_rate=learning_rate, initial_accumulator_value=initial_accumulator_value, epsilon=epsilon)
    return OptimizerFactory("Adagrad", config, build)


FACTORIES = {"Adam": Adam, "AdamW": AdamW, "SGD": SGD, "RMSprop": RMSprop, "Adagrad": Adagrad}
