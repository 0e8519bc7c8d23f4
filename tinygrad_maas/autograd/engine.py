"""The backward engine: order the graph, then run each node's backward once, consumers before producers.

    loss.backward()
      1. order   = topological_order([loss.grad_fn])   every node after all the nodes that consume it
      2. pending = {loss.grad_fn: ones}                 gradient of loss w.r.t. each node's output
      3. for node in order:                             d loss/d input = d loss/d output * d output/d input
             grads = node.backward(node, pending[node])     (the chain rule, one local step)
             pending[child] += grad  for each input's node  (a value used twice gets both gradients)

The ordering is an iterative depth-first search (an explicit stack instead of recursion), so a graph of a
million nodes orders without a RecursionError. Leaves are nodes too (`AccumulateGrad`): the last step of a
path adds the summed gradient into `leaf.grad`.
"""

import numpy as np

from ..tensor import make_tensor
from . import checks, observe, versions
from .function import AccumulateGrad, _accumulator_of, _run_hooks
from .grad_mode import set_grad_enabled


def topological_order(roots):
    """All nodes reachable from `roots`, each one placed before every node it reads from.

    Depth-first post-order (a node is appended after all its inputs), reversed. The explicit stack holds
    (node, iterator over its inputs) pairs: where micrograd recurses, we push.
    """
    order = []
    visited = set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.next_nodes))]
        while stack:
            node, inputs = stack[-1]
            for child in inputs:
                if child is not None and child not in visited:
                    visited.add(child)
                    stack.append((child, iter(child.next_nodes)))
                    break
            else:  # every input of `node` is placed: place `node`
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def run_backward(roots, root_grads, retain_graph=False, capture=None, create_graph=False, stop_at_capture=False):
    """Propagate `root_grads` from `roots` (see _propagate); timed as a whole when tm.profile watches."""
    arguments = (roots, root_grads, retain_graph, capture, create_graph, stop_at_capture)
    if observe.listeners:
        return observe.observed_engine(_propagate, arguments)
    return _propagate(*arguments)


def _propagate(roots, root_grads, retain_graph, capture, create_graph, stop_at_capture):
    """Propagate `root_grads` from the nodes `roots` down to the leaves.

    Without `capture`, leaves accumulate into `.grad` (what `Tensor.backward` does). With `capture` (a dict
    whose keys are nodes), the total gradient reaching each such node is stored in the dict instead and no
    `.grad` is touched (what `tm.autograd.grad` does). With `create_graph`, the gradients are Tensors and
    every backward runs on Tensors with grad mode on, so the gradients come with a graph of their own.
    `stop_at_capture` goes no further than the captured nodes (partial derivatives, for replay.py).
    """
    pending = {}
    for root, grad in zip(roots, root_grads):
        pending[root] = pending[root] + grad if root in pending else grad

    # The plain first-order path runs node.backward(node, grad) and nothing else; create_graph (backward on
    # Tensors) and someone watching (tm.profile, tm.autograd.trace: autograd/observe.py) take _run_special.
    special = create_graph or bool(observe.listeners)
    # Hooks may compute with tensors: only a create_graph backward records what they do.
    with set_grad_enabled(create_graph):
        for node in topological_order(roots):
            grad = pending.pop(node, None)
            if grad is None:  # no path from the roots carried a gradient here
                continue
            if node.pre_hooks:
                grad = _run_hooks(node.pre_hooks, grad)
            if capture is not None:
                if node in capture:
                    capture[node] = grad
                    if stop_at_capture:
                        continue
                if type(node) is AccumulateGrad:
                    continue
            saved = node.saved_tensors
            if saved is None:
                raise RuntimeError(
                    f"Trying to backward through the graph a second time: {node.name()} already freed "
                    "the arrays it saved. Pass retain_graph=True to the first backward() to keep them."
                )
            if saved and versions.stale_array(saved, node.created_at) is not None:
                raise RuntimeError(
                    f"an array saved by {node.name()} for backward was modified by an in-place operation "
                    "after the forward pass, so its gradient would be wrong; compute it out of place "
                    "(x = x + y) or call backward before changing it"
                )
            if special:
                grads = _run_special(node, grad, create_graph)
            else:
                grads = node.backward(node, grad)
            if saved and not retain_graph:
                node.saved_tensors = None  # release the arrays: the point of freeing the graph
            if type(grads) is not tuple:
                grads = (grads,)
            if node.engine_checks:  # a Function written outside the framework's ops: check what it returned
                checks.verify(node, grads)
            for child, child_grad in zip(node.next_nodes, grads):
                if child is None or child_grad is None:
                    continue
                if child in pending:
                    pending[child] = pending[child] + child_grad
                else:
                    pending[child] = child_grad
            grads = child_grad = None  # pending holds them now: .grad may take an array no one else holds


def _run_special(node, grad, create_graph):
    """node's backward on Tensors (create_graph) and/or timed for a watcher."""
    ctx = _in_graph(node) if create_graph else node
    if observe.listeners:
        return observe.observed_backward(node, ctx, grad)
    return node.backward(ctx, grad)


def _in_graph(node):
    """The ctx a create_graph backward runs on: the node, with its saved arrays as Tensors in the graph."""
    view = object.__new__(type(node))
    view.__dict__.update(node.__dict__)
    view.saved_tensors = node.saved_in_graph()
    return view


def node_of(tensor):
    """The node whose gradient is the gradient of `tensor`: its grad_fn, or its accumulator for a leaf."""
    return tensor.grad_fn if tensor.grad_fn is not None else _accumulator_of(tensor)


def initial_gradient(output, gradient, where, create_graph=False):
    """The gradient to start from at `output`: ones for a one-element output, else `gradient`, checked.
    An array, or under create_graph a Tensor (the given one, which may itself be in a graph)."""
    if gradient is None:
        if output.array.size != 1:
            raise RuntimeError(
                f"{where}: grad can be implicitly created only for scalar outputs, but the output has "
                f"shape {output.array.shape}; pass gradient= (a tensor of that shape), or reduce it first "
                "(e.g. .sum())"
            )
        start = np.ones_like(output.array)
        return make_tensor(start, None) if create_graph else start
    data = gradient.array if hasattr(gradient, "grad_fn") else np.asarray(gradient)
    if data.shape != output.array.shape:
        raise RuntimeError(
            f"{where}: gradient has shape {data.shape} but the output has shape {output.array.shape}; they must match"
        )
    if not create_graph:
        return data.astype(output.array.dtype, copy=False)
    start = gradient if hasattr(gradient, "grad_fn") else make_tensor(data, None)
    return start if start.dtype == output.dtype else start.to(output.dtype)


def check_differentiable(output, where):
    if not output.requires_grad:
        raise RuntimeError(
            f"{where}: this tensor does not require grad and has no grad_fn, so there is nothing to "
            "differentiate; create the inputs with requires_grad=True (and not under tm.no_grad())"
        )
