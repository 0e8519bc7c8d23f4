"""Neural-network building blocks. For now the functional forms; Module and the layers come next."""

from . import functional  # noqa: F401
