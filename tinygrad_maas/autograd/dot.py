"""Drawing the graph: `tm.autograd.to_dot(y)` writes it in Graphviz's DOT language (plain text, no dependency).

    print(tm.autograd.to_dot(loss))                      # paste into any Graphviz viewer
    tm.autograd.render(tm.autograd.to_dot(loss), "graph.svg")   # with Graphviz's `dot` program installed

One box per node, in the order backward runs them: the op, the shape and dtype of what it produced, and
with gradients=True the gradient that reaches it in a backward from `tensor` (its shape and norm, computed
without touching any .grad; the graph must not have been freed yet). Leaves are ellipses named after the
caller's variables, with their .grad once a backward has filled it. Edges follow the data, input to op.
"""

import shutil
import subprocess

import numpy as np

from . import engine
from .function import AccumulateGrad
from .trace import caller_names


def to_dot(tensor, gradients=False, names=None):
    """The graph that made `tensor`, as DOT text."""
    if tensor.grad_fn is None:
        raise ValueError("to_dot(): this tensor was not computed by any op that records a graph (it has no grad_fn)")
    named = caller_names(names).items()
    labels = {id(t): name for name, t in named}  # leaves by tensor, computed tensors by their node
    labels.update({id(t.grad_fn): name for name, t in named if t.grad_fn is not None})
    order = engine.topological_order([tensor.grad_fn])
    reached = _gradients_reaching(tensor, order) if gradients else {}
    number = {node: i for i, node in enumerate(order)}
    lines = ["digraph autograd {", '  node [fontname="monospace", fontsize=10];']
    for node, i in number.items():
        lines.append(f"  n{i} [{_node_attributes(node, labels, reached.get(node))}];")
    for node, i in number.items():
        for child in node.next_nodes:
            if child is not None:
                lines.append(f"  n{number[child]} -> n{i};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_attributes(node, labels, reaching):
    if type(node) is AccumulateGrad:
        leaf = node.variable
        rows = [labels.get(id(leaf), "leaf"), f"{tuple(leaf.shape)} {leaf.dtype}"]
        if leaf.grad is not None:
            rows.append(f"grad {_shape_and_norm(leaf.grad.array)}")
        shape = "ellipse"
    else:
        name = labels.get(id(node))
        rows = [node.name() + (f" ({name})" if name else ""), f"out {tuple(node.output_shape)} {node.output_dtype}"]
        shape = "box"
    if reaching is not None:
        rows.append(f"grad in {_shape_and_norm(reaching)}")
    text = "\\n".join(row.replace('"', "'") for row in rows)
    return f'shape={shape}, label="{text}"'


def _shape_and_norm(array):
    array = np.asarray(getattr(array, "data", array))
    return f"{tuple(array.shape)} norm {float(np.sqrt(np.sum(np.square(array, dtype=np.float64)))):.4g}"


def _gradients_reaching(tensor, order):
    """The gradient that reaches every node in a backward from `tensor` (ones for one element), no .grad
    touched: a capture of every node."""
    if tensor.array.size != 1:
        raise ValueError(f"to_dot(gradients=True): needs a tensor with one element, got shape {tensor.shape}")
    capture = {node: None for node in order}
    engine.run_backward([tensor.grad_fn], [np.ones_like(tensor.array)], retain_graph=True, capture=capture)
    return {node: grad for node, grad in capture.items() if grad is not None}


def render(dot_text, path, timeout=30):
    """Write `dot_text` as an image to `path` (its suffix picks the format: .svg, .png, .pdf) with
    Graphviz's `dot` program."""
    program = shutil.which("dot")
    if program is None:
        raise RuntimeError(
            "render(): Graphviz's `dot` program is not installed (apt install graphviz, brew install graphviz, "
            "or conda install graphviz); the DOT text itself needs nothing: paste it into any Graphviz viewer"
        )
    image_format = str(path).rsplit(".", 1)[-1] if "." in str(path) else "svg"
    subprocess.run(
        [program, f"-T{image_format}", "-o", str(path)], input=dot_text.encode(), check=True, timeout=timeout
    )
    return path
