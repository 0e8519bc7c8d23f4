"""`with tm.autograd.trace():` prints backward as it runs, one node at a time.

    x = tm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = tm.tensor(2.0, requires_grad=True)
    y = (x * w).sum()
    with tm.autograd.trace():
        y.backward()

For each node, in the order the engine runs them: the gradient that arrived (its shape and values, or a
summary for large ones), the op's local rule (the first paragraph of its docstring), every broadcast
reduction its backward did (unbroadcast), and what it sent to each of its inputs. Leaves show what was
added into their `.grad`. Tensors are named after the variables of the code that opened the block (or
`names=`); the rest by shape.
"""

import inspect
import sys

import numpy as np

from . import observe


class trace:
    """Print each step of every backward run inside the block (to `file`, default stdout)."""

    def __init__(self, file=None, names=None):
        self.file = file
        self.names = dict(names or {})
        self.step = 0
        self.reductions = []

    def __enter__(self):
        self.names = caller_names(self.names)
        self.label = {id(t): name for name, t in self.names.items()}
        self.by_node = {id(t.grad_fn): name for name, t in self.names.items() if t.grad_fn is not None}
        observe.listeners.append(self)
        return self

    def __exit__(self, *exc_info):
        observe.listeners.remove(self)
        self.names = self.label = self.by_node = None  # hold no tensor after the block

    def on_unbroadcast(self, grad_shape, shape, axes):
        self.reductions.append(f"unbroadcast: summed {grad_shape} over axes {axes} down to {shape}")

    def on_backward(self, node, grad, grads, seconds):
        self.step += 1
        print_line = self._printer()
        if node.name() == "AccumulateGrad":
            leaf = node.variable
            print_line(f"[{self.step}] AccumulateGrad: {summary(grad)} added into {self._leaf(leaf)}.grad")
            return
        made = f" (made {self.by_node[id(node)]})" if id(node) in self.by_node else ""
        print_line(f"[{self.step}] {node.name()}{made}: gradient in {summary(grad)}")
        print_line(f"    rule: {rule(node)}")
        for reduction in self.reductions:
            print_line(f"    {reduction}")
        self.reductions = []
        grads = grads if isinstance(grads, tuple) else (grads,)
        for i, child in enumerate(node.next_nodes):
            if child is None:
                continue
            sent = grads[i] if i < len(grads) else None
            target = self._leaf(child.variable) if child.name() == "AccumulateGrad" else self._node(child)
            print_line(f"    -> input {i}, {target}: {'nothing' if sent is None else summary(sent)}")

    def _printer(self):
        stream = self.file or sys.stdout
        return lambda text: print(text, file=stream)

    def _leaf(self, leaf):
        return self.label.get(id(leaf), f"a leaf of shape {tuple(leaf.shape)}")

    def _node(self, node):
        name = self.by_node.get(id(node))
        return f"{node.name()} ({name})" if name else node.name()


def caller_names(names=None, depth=2):
    """{name: tensor} for the tensors among the local variables of the code `depth` frames up (the caller of
    trace or to_dot), with `names` given explicitly taking precedence."""
    from ..tensor import Tensor

    frame = inspect.currentframe()
    for _ in range(depth):
        frame = frame.f_back
    found = {name: value for name, value in frame.f_locals.items() if isinstance(value, Tensor) and name[0] != "_"}
    found.update(names or {})
    return found


def rule(node):
    """The op's rule: the first paragraph of its class docstring, on one line."""
    for cls in type(node).__mro__:
        doc = cls.__dict__.get("__doc__")
        if doc:
            return " ".join(doc.strip().split("\n\n")[0].split())
    return "(no docstring)"


def summary(value):
    """Shape and values of a small gradient; shape, mean and norm of a large one."""
    array = np.asarray(getattr(value, "data", value))
    shape = tuple(array.shape)
    if array.size <= 6:
        numbers = np.array2string(array, precision=4, suppress_small=True, separator=", ").replace("\n", "")
        return f"shape {shape} {numbers}"
    norm = float(np.sqrt(np.sum(np.square(array, dtype=np.float64))))
    return f"shape {shape}, mean {float(array.mean()):.4g}, norm {norm:.4g}"
