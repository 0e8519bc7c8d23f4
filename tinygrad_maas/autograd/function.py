"""`Function`: one differentiable operation, its forward and its backward side by side.

A subclass writes two static methods on raw NumPy arrays:

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):            # d(a*b)/da = b, d(a*b)/db = a
            a, b = ctx.saved_tensors
            return unbroadcast(grad * b, a.shape), unbroadcast(grad * a, b.shape)

`Mul.apply(x, y)` runs forward and, when grad mode is on and some input requires grad, records the call as a
node of the graph: the instance itself is both the `ctx` that forward wrote to and the node that backward
runs on. `backward` returns one gradient per input (a tuple, or a single array for one input), or None for
an input that needs none; `ctx.needs_input_grad[i]` says whether input i needs one.

A node points back to the nodes that made its inputs (`next_nodes`), never to the input tensors
themselves: an intermediate array stays alive only while a node saved it, and the engine drops what nodes
saved once their backward has run.

Two rules every op keeps: forward and backward never write into the arrays they are given (inputs,
saved arrays, the incoming gradient may be shared or read-only views), and large arrays that backward
needs go through save_for_backward (so they are released), not onto other ctx attributes.

Higher-order gradients. A backward is written once, in operations that NumPy arrays and Tensors both
support (arithmetic, NumPy ufuncs such as np.cos, which Tensors take through NumPy's own protocol, and the
helpers of ops/either.py). A normal backward runs it on arrays: fast, and nothing is recorded. With
`create_graph=True` the engine runs the same code on Tensors, so the gradient is itself computed by ops
that record a graph, and can be differentiated again. For that the engine needs to know what each saved
array was, and the class says so in `saved_roles`, one name per saved array: a parameter of forward (that
input, as a Tensor in the graph), "output" (the op's result), or None (a constant: an index, a mask).

    class Mul(Function):
        saved_roles = ("a", "b")
"""

import inspect
import sys
import weakref

import numpy as np

from ..tensor import Tensor
from ..tensor import make_tensor as _wrap
from . import observe, versions
from .grad_mode import _state

_ndarray = np.ndarray
_new_object = object.__new__
_watchers = observe.listeners  # the same list, changed in place


class Function:
    """Base of every differentiable op. Subclasses define static `forward(ctx, *arrays, **kw)` and
    `backward(ctx, grad)`; users call the class method `apply(*tensors, **kw)`."""

    # Class-level defaults, so a node only stores what differs (creating nodes is the engine's per-op cost).
    saved_tensors = ()  # arrays saved by forward for backward; None once the engine freed them
    needs_input_grad = ()  # one bool per input: does it need a gradient? (a shared tuple, see _needs_for)
    next_nodes = ()  # one entry per input: the node that made it, a leaf's accumulator, or None
    pre_hooks = None  # hooks registered on the output tensor (non-leaf `register_hook`)
    created_at = 0  # the in-place clock when this node saved its arrays (see versions.py)
    output_shape = output_dtype = None  # of the op's result: the gradient that reaches this node must match
    saved_roles = None  # what each saved array is, for create_graph (see the module docstring)
    engine_checks = True  # the engine checks what backward returns (autograd/checks.py): see __init_subclass__

    def __init_subclass__(cls, **kwargs):
        """A Function written outside the framework (yours) has what its backward returns checked by the
        engine; the framework's own ops are checked by their tests instead, and skip that cost."""
        super().__init_subclass__(**kwargs)
        if "engine_checks" not in cls.__dict__:
            cls.engine_checks = not cls.__module__.startswith("tinygrad_maas.")

    def save_for_backward(self, *arrays):
        """Keep arrays that backward needs. Everything large belongs here, so the engine can free it."""
        self.saved_tensors = arrays

    @staticmethod
    def forward(ctx, *arrays, **kwargs):
        raise NotImplementedError("a Function subclass must define a static forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("a Function subclass must define a static backward(ctx, grad)")

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Run forward on the inputs' arrays; record a node if any input requires grad and grad mode is on.

        Inputs may be Tensors or constants (Python numbers, arrays), which never receive a gradient.
        This is the hot path of every op (about a microsecond of Python per call), hence the plain loops.
        """
        if _watchers:  # tm.profile or tm.autograd.trace is watching (observe.listeners)
            return observe.observed_apply(cls, inputs, kwargs)
        ctx = _new_object(cls)
        arrays = []
        any_requires_grad = False
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.array)
                if x.requires_grad:
                    any_requires_grad = True
            else:
                arrays.append(x)
        out = cls.forward(ctx, *arrays, **kwargs)
        if type(out) is not _ndarray:
            out = np.asarray(out)  # NumPy returns scalars from 0-d ufuncs and full reductions
        if not (any_requires_grad and _state.enabled):
            return _wrap(out, None)
        nodes = []
        pattern = 1  # which inputs need a gradient, as bits after a leading 1: (True, False) is 0b110
        for x in inputs:
            if isinstance(x, Tensor) and x.requires_grad:
                nodes.append(x.grad_fn or _accumulator_of(x))
                pattern = 2 * pattern + 1
            else:
                nodes.append(None)
                pattern *= 2
        ctx.next_nodes = nodes
        needs = _NEEDS.get(pattern)
        ctx.needs_input_grad = needs if needs is not None else _needs_for(pattern)
        ctx.output_shape = out.shape
        ctx.output_dtype = out.dtype
        if ctx.saved_tensors:
            ctx.created_at = versions.clock
        return _wrap(out, ctx)

    def name(self):
        return type(self).__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"

    def saved_in_graph(self):
        """The saved arrays as Tensors wired into the graph (what backward sees under create_graph): an
        input as the input itself, the output as this node's result, anything else as a constant."""
        saved = self.saved_tensors
        if not saved:
            return saved
        positions = _role_positions(type(self))
        if len(positions) != len(saved):
            raise RuntimeError(
                f"{self.name()} saved {len(saved)} arrays but {type(self).__name__}.saved_roles names "
                f"{len(positions)}: say what each saved array is, so create_graph=True can use it"
            )
        tensors = []
        nodes = self.next_nodes
        for array, position in zip(saved, positions):
            if position == "output":
                tensors.append(_wrap(np.asarray(array), self))
            elif position is None:
                tensors.append(array)  # an intermediate (an index, a mask, a buffer): a constant
            elif position < len(nodes) and nodes[position] is not None:
                tensors.append(_wrap(np.asarray(array), nodes[position]))
            elif isinstance(array, _ndarray) and array.dtype.kind == "f":
                tensors.append(_wrap(array, None))  # an input that needs no gradient: a constant Tensor
            else:
                tensors.append(array)  # a keyword argument (an index, a number): stays what forward saw
        return tuple(tensors)


class AccumulateGrad(Function):
    """The node at a leaf tensor: adds the gradient that reaches it into `leaf.grad`.

    One accumulator per leaf, shared by every op that reads the leaf, so the engine sums all paths into
    the leaf before this runs once (hooks on a leaf see the total gradient, as in PyTorch).
    """

    def __init__(self, leaf):
        self.variable = leaf

    def name(self):
        return "AccumulateGrad"

    @property
    def output_shape(self):
        return self.variable.array.shape

    @property
    def output_dtype(self):
        return self.variable.array.dtype

    @staticmethod
    def backward(ctx, grad):
        leaf = ctx.variable
        if grad.shape != leaf.array.shape:  # the last line of defence for the framework's own ops
            raise RuntimeError(
                f"gradient of shape {grad.shape} reached a leaf of shape {leaf.array.shape}: "
                "an op's backward returned a gradient of the wrong shape"
            )
        hooks = leaf._hooks
        if hooks:
            grad = _run_hooks(hooks, grad)
        if isinstance(grad, Tensor):  # create_graph: the gradient is a Tensor in a graph; keep it so
            leaf.grad = grad if leaf.grad is None else leaf.grad + grad
        elif leaf.grad is None:
            # .grad must own its array: the same array may also be on its way to another leaf, or be a view
            # of one. An array only the engine holds (a weight gradient fresh from its op) is taken as it
            # is, as PyTorch takes a gradient nothing else references; anything else is copied.
            if grad.dtype == leaf.array.dtype and _only_the_engine_holds(grad):
                leaf.grad = _wrap(grad, None)
            else:
                leaf.grad = _wrap(np.array(grad, dtype=leaf.array.dtype, copy=True), None)
        elif leaf.grad.grad_fn is not None:  # the last backward had create_graph=True: do not write into it
            leaf.grad = _wrap(leaf.grad.array + grad, None)
        else:
            # In place, as PyTorch does: a reference to `leaf.grad` taken earlier sees the sum.
            np.add(leaf.grad.array, grad, out=leaf.grad.array, casting="unsafe")
        if hooks is not None and hooks.post:
            for hook in list(hooks.post):
                hook(leaf)
        return ()


# References to a gradient array that only the engine holds, as sys.getrefcount sees them from
# _only_the_engine_holds: its own argument and parameter, AccumulateGrad.backward's `grad` and the
# engine's `grad` (engine._propagate drops every other name for a gradient before the next node runs).
_ENGINE_REFERENCES = 4


def _only_the_engine_holds(array):
    """Whether `array` is writable and contiguous, nothing but the engine refers to it (no other pending
    gradient, saved tensor, hook or user variable), and it owns its memory or is a reshaped view of a whole
    array that nothing else refers to (a convolution's weight gradient): then .grad may take it as it is."""
    if not (
        type(array) is _ndarray
        and array.flags.writeable
        and array.flags.c_contiguous
        and sys.getrefcount(array) <= _ENGINE_REFERENCES
    ):
        return False
    owner = array.base
    # 3: the view's own reference to its base, `owner` here, and getrefcount's argument
    return owner is None or (
        type(owner) is _ndarray and owner.base is None and owner.size == array.size and sys.getrefcount(owner) <= 3
    )


_NEEDS = {}  # needs_input_grad tuples by pattern, shared by every node: creating none keeps the GC idle


def _needs_for(pattern):
    """The needs_input_grad tuple of a bit pattern (see Function.apply), made once per pattern."""
    bits = bin(pattern)[3:]  # drop "0b" and the leading 1
    needs = tuple(bit == "1" for bit in bits)
    if len(needs) <= 16:
        _NEEDS[pattern] = needs
    return needs


def _role_positions(cls):
    """saved_roles as positions: an input's index among forward's parameters, "output", or None."""
    positions = cls.__dict__.get("_role_positions")
    if positions is None:
        if cls.saved_roles is None:
            raise NotImplementedError(
                f"{cls.__name__} does not support create_graph=True: it does not declare saved_roles"
            )
        parameters = list(inspect.signature(cls.forward).parameters)[1:]  # after ctx
        positions = tuple(
            role if role in ("output", None) else _parameter_index(cls, parameters, role) for role in cls.saved_roles
        )
        cls._role_positions = positions
    return positions


def _parameter_index(cls, parameters, role):
    if role not in parameters:
        raise TypeError(f"{cls.__name__}.saved_roles names {role!r}, which is not a parameter of its forward")
    return parameters.index(role)


def _accumulator_of(leaf):
    """The leaf's AccumulateGrad node, created on first use. The leaf holds it weakly: the graph keeps
    it alive, and a leaf with no graph holds no node."""
    reference = leaf._accumulator
    node = reference() if reference is not None else None
    if node is None:
        node = AccumulateGrad(leaf)
        leaf._accumulator = weakref.ref(node)
    return node


def _run_hooks(hooks, grad):
    """Call each hook with the gradient as a Tensor; a hook that returns a tensor replaces it.
    (Under create_graph the gradient already is a Tensor in the graph, and stays one.)"""
    in_graph = isinstance(grad, Tensor)
    for hook in hooks:
        replaced = hook(grad if in_graph else _wrap(grad, None))
        if replaced is not None:
            if in_graph:
                grad = replaced if isinstance(replaced, Tensor) else _wrap(np.asarray(replaced), None)
            else:
                grad = replaced.array if isinstance(replaced, Tensor) else np.asarray(replaced)
    return grad
