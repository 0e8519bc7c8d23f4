"""Keras optimizer names with Keras' argument names and defaults, e.g. Adam(learning_rate=1e-3). Each is a
factory: compile() calls it with the model's parameters once they exist."""

from .. import optim


def Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    return lambda params: optim.Adam(params, lr=learning_rate, betas=(beta_1, beta_2), eps=epsilon, amsgrad=amsgrad)


def AdamW(learning_rate=1e-3, weight_decay=4e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    return lambda params: optim.AdamW(
        params, lr=learning_rate, betas=(beta_1, beta_2), eps=epsilon, weight_decay=weight_decay
    )


def SGD(learning_rate=1e-2, momentum=0.0, nesterov=False):
    return lambda params: optim.SGD(params, lr=learning_rate, momentum=momentum, nesterov=nesterov)


def RMSprop(learning_rate=1e-3, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    return lambda params: optim.RMSprop(
        params, lr=learning_rate, alpha=rho, momentum=momentum, eps=epsilon, centered=centered
    )


def Adagrad(learning_rate=1e-3, initial_accumulator_value=0.1, epsilon=1e-7):
    return lambda params: optim.Adagrad(
        params, lr=learning_rate, initial_accumulator_value=initial_accumulator_value, eps=epsilon
    )
