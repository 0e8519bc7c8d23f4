"""Reverse-mode automatic differentiation: Function, the backward engine, grad mode, gradcheck, graph tools.

Read in this order: function.py (what a node is), engine.py (how backward runs), gradcheck.py (how we
know each op's backward is right).
"""

from . import functional
from .dot import render, to_dot
from .function import AccumulateGrad, Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .gradients import grad
from .graph import describe_graph, topological_order
from .trace import trace

__all__ = [
    "AccumulateGrad",
    "Function",
    "GradcheckError",
    "describe_graph",
    "enable_grad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "render",
    "to_dot",
    "topological_order",
    "trace",
]
