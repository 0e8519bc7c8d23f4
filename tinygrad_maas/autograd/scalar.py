"""Reverse mode on single numbers: the whole idea of the engine in sixty lines (course lesson 1).

    a, b = Scalar(2.0), Scalar(-3.0)
    y = (a * b + a).tanh()
    y.backward()
    a.grad, b.grad       # dy/da = (1 - y^2)(b + 1),  dy/db = (1 - y^2) a

Each Scalar remembers the Scalars it was made from and, for each, the local derivative d(self)/d(input).
backward orders the graph (every node after the nodes that use it, reversed) and applies the chain rule
once per node: grad[input] += local derivative * grad[node]. The leaves (the Scalars you made yourself) add
their total into `.grad`, as PyTorch's leaves do. The Tensor engine (engine.py) does the same with arrays,
one node per op instead of one per number.
"""

import math


class Scalar:
    def __init__(self, value, inputs=(), local_grads=(), op=""):
        self.value = float(value)
        self.grad = 0.0
        self.inputs = inputs  # the Scalars this one was computed from
        self.local_grads = local_grads  # d self / d input, one per input, known at forward time
        self.op = op

    def __add__(self, other):
        other = _scalar(other)
        return Scalar(self.value + other.value, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = _scalar(other)
        return Scalar(self.value * other.value, (self, other), (other.value, self.value), "*")

    def __pow__(self, exponent):  # a number exponent: d x^n / dx = n x^(n-1)
        return Scalar(self.value**exponent, (self,), (exponent * self.value ** (exponent - 1),), f"**{exponent}")

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-_scalar(other))

    def __truediv__(self, other):
        return self * _scalar(other) ** -1

    __radd__, __rmul__ = __add__, __mul__

    def __rsub__(self, other):
        return _scalar(other) - self

    def __rtruediv__(self, other):
        return _scalar(other) / self

    def tanh(self):
        y = math.tanh(self.value)
        return Scalar(y, (self,), (1 - y * y,), "tanh")

    def exp(self):
        y = math.exp(self.value)
        return Scalar(y, (self,), (y,), "exp")

    def log(self):
        return Scalar(math.log(self.value), (self,), (1 / self.value,), "log")

    def relu(self):
        return Scalar(max(self.value, 0.0), (self,), (float(self.value > 0),), "relu")

    def backward(self):
        """d self / d s for every Scalar s this one depends on, into s.grad (accumulated, as in PyTorch)."""
        order, seen = [], set()
        stack = [(self, False)]
        while stack:  # depth-first post-order without recursion: a node after all its inputs
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node.inputs)
        grads = {id(self): 1.0}  # d self / d node, filled in as backward reaches each node
        for node in reversed(order):  # consumers before producers: each node's gradient is complete here
            grad = grads.get(id(node), 0.0)
            if not node.inputs:  # a leaf: keep the total, adding to what earlier backward calls left
                node.grad += grad
            for child, local in zip(node.inputs, node.local_grads):
                grads[id(child)] = grads.get(id(child), 0.0) + local * grad

    def __repr__(self):
        return f"Scalar({self.value:.4g}, grad={self.grad:.4g})"


def _scalar(x):
    return x if isinstance(x, Scalar) else Scalar(x)
