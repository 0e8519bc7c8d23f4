"""Looking at a graph: the order backward visits it, and a printable description of each node."""

from . import engine


def topological_order(tensor):
    """The nodes behind `tensor` in the order backward runs them (the output's node first, leaves last)."""
    if tensor.grad_fn is None:
        return []
    return engine.topological_order([tensor.grad_fn])


def describe_graph(tensor):
    """One line per node, in the order backward runs them: its number, its name, the shape and dtype of
    what it produced, the numbers of the nodes its inputs came from, and how many arrays it saved for
    backward (or "freed" after backward).

        0 MulBackward      (2,) float32      <- 1, 1   saved 2 arrays
        1 AccumulateGrad   into tensor([1., 2.], requires_grad=True)
    """
    order = topological_order(tensor)
    number = {node: i for i, node in enumerate(order)}
    lines = []
    for i, node in enumerate(order):
        if hasattr(node, "variable"):
            lines.append(f"{i} {'AccumulateGrad':<16} into {node.variable!r}")
            continue
        inputs = ", ".join("-" if n is None else str(number[n]) for n in node.next_nodes)
        saved = node.saved_tensors
        count = "freed" if saved is None else f"saved {len(saved)} array{'s' * (len(saved) != 1)}" if saved else ""
        made = f"{tuple(node.output_shape)} {node.output_dtype}"
        lines.append(f"{i} {node.name():<16} {made:<17} <- {inputs:<7} {count}".rstrip())
    return "\n".join(lines)
