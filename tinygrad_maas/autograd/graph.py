"""Looking at a graph: the order backward visits it, and a printable description of each node."""

from . import engine


def topological_order(tensor):
    """The nodes behind `tensor` in the order backward runs them (the output's node first, leaves last)."""
    if tensor.grad_fn is None:
        return []
    return engine.topological_order([tensor.grad_fn])


def describe_graph(tensor):
    """One line per node, in backward order: the node, what it saved, and which nodes feed it.

        >>> print(tm.autograd.describe_graph(loss))
        0 MeanBackward    <- 1
        1 MulBackward     saved (3,) (3,)  <- 2, leaf x
        ...
    """
    order = topological_order(tensor)
    number = {node: i for i, node in enumerate(order)}
    lines = []
    for i, node in enumerate(order):
        if hasattr(node, "variable"):
            lines.append(f"{i} AccumulateGrad  -> leaf of shape {node.variable.shape}")
            continue
        saved = node.saved_tensors
        saved_text = "freed" if saved is None else " ".join(str(getattr(a, "shape", "()")) for a in saved)
        inputs = ", ".join("const" if n is None else str(number[n]) for n in node.next_nodes)
        lines.append(f"{i} {node.name():<16} saved [{saved_text}]  <- {inputs}")
    return "\n".join(lines)
