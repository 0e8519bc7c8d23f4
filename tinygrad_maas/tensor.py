"""Tensor: a NumPy array plus what autograd needs (requires_grad, grad, grad_fn).

Every differentiable method builds its result through one `Function` in `ops/` (where the forward and the
backward sit side by side); this file only checks arguments, promotes dtypes and picks the op. Methods
follow PyTorch's names, arguments and semantics. One deliberate difference, for learners: `Tensor.data` is
the underlying `np.ndarray`.
"""

import numbers
from collections import namedtuple

import numpy as np

from . import dtypes

MinMaxResult = namedtuple("MinMaxResult", ["values", "indices"])  # what max(dim)/min(dim) return


class Tensor:
    __slots__ = ("data", "grad", "grad_fn", "requires_grad", "_accumulator", "_hooks", "__weakref__")

    # NumPy must not treat a Tensor as an array in `ndarray + tensor`: it returns NotImplemented and Python
    # calls Tensor.__radd__, which keeps the result in the graph.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, dtype=None):
        _init_slots(self, _to_array(data, dtype), None)
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def device(self):
        return "cpu"

    def dim(self):
        return self.data.ndim

    def size(self, dim=None):
        if dim is None:
            return self.data.shape
        return self.data.shape[_dim(dim, self.ndim, "size")] if self.ndim else 1

    def numel(self):
        return self.data.size

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __hash__(self):  # identity, as PyTorch: == is elementwise, so tensors hash by id
        return id(self)

    # ------------------------------------------------------------------ conversion
    def numpy(self):
        """The array itself (shares memory). Like PyTorch, refused while the tensor requires grad."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): only a tensor with one element can be converted to a Python number, "
                             f"this one has shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors of one element can be used as an index, got {self.dtype}")
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                               "use .any() or .all()")
        return bool(self.data.item())

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def to(self, dtype):
        """A tensor of `dtype` (itself when it already is). Float-to-float casts are differentiable;
        a cast to an integer or bool type gives a tensor outside the graph, as in PyTorch."""
        if isinstance(dtype, str) and dtype == "cpu":
            return self
        dtype = dtypes.to_dtype(dtype)
        if dtype == self.data.dtype:
            return self
        if dtypes.is_floating(dtype):
            return _ops.unary.ToDtype.apply(self, dtype=dtype)
        return Tensor._constant(self.data.astype(dtype))

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool_)

    def type_as(self, other):
        return self.to(other.dtype)

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) * gradient into `.grad` of every leaf that requires grad.

        `gradient` may be omitted for a one-element tensor (it is 1). The graph's saved arrays are freed
        afterwards unless `retain_graph=True`.
        """
        from .autograd import engine

        if create_graph:
            raise NotImplementedError("create_graph=True (higher-order gradients) is not supported: "
                                      "backward functions here compute on arrays, not on tensors")
        engine.check_differentiable(self, "backward()")
        start = engine.initial_gradient(self, gradient, "backward()")
        engine.run_backward([engine.node_of(self)], [start], retain_graph=bool(retain_graph))

    def detach(self):
        """A new tensor sharing this one's array, outside the graph (requires_grad=False)."""
        return Tensor._constant(self.data)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not dtypes.is_floating(self.data.dtype):
            raise RuntimeError(f"only floating point tensors can require gradients, this one is {self.dtype}; "
                               "convert it first with .float()")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) is only for leaf tensors; use .detach() on a computed one")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep `.grad` on a non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is None:
            return
        import weakref

        this = weakref.ref(self)

        def store(grad):
            tensor = this()
            if tensor is not None:
                # A copy: the engine's gradient arrays may be read-only broadcast views or shared.
                tensor.grad = Tensor._constant(np.array(grad.data) if tensor.grad is None else
                                               tensor.grad.data + grad.data)

        self.register_hook(store)

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor replaces the grad.

        Returns a handle whose `.remove()` unregisters the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self.grad_fn.pre_hooks is None:
                self.grad_fn.pre_hooks = []
            hooks = self.grad_fn.pre_hooks
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def zero_(self):
        return self._inplace(np.multiply, 0, "zero_")

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return _binary(_ops.binary.Add, self, other, "add")

    def __radd__(self, other):
        return _binary(_ops.binary.Add, other, self, "add")

    def __sub__(self, other):
        return _binary(_ops.binary.Sub, self, other, "sub")

    def __rsub__(self, other):
        return _binary(_ops.binary.Sub, other, self, "sub")

    def __mul__(self, other):
        return _binary(_ops.binary.Mul, self, other, "mul")

    def __rmul__(self, other):
        return _binary(_ops.binary.Mul, other, self, "mul")

    def __truediv__(self, other):
        return _binary(_ops.binary.Div, self, other, "div", floating=True)

    def __rtruediv__(self, other):
        return _binary(_ops.binary.Div, other, self, "div", floating=True)

    def __pow__(self, exponent):
        return _binary(_ops.binary.Pow, self, exponent, "pow")

    def __rpow__(self, base):
        return _binary(_ops.binary.Pow, base, self, "pow")

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __neg__(self):
        return _ops.unary.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    add, sub, mul, div, pow = __add__, __sub__, __mul__, __truediv__, __pow__
    subtract, multiply, divide = sub, mul, div

    def neg(self):
        return -self

    def maximum(self, other):
        return _binary(_ops.binary.Maximum, self, other, "maximum")

    def minimum(self, other):
        return _binary(_ops.binary.Minimum, self, other, "minimum")

    def matmul(self, other):
        return matmul(self, other)

    # in place: only outside the graph (under no_grad, or on tensors that do not require grad)
    def __iadd__(self, other):
        return self._inplace(np.add, other, "+=")

    def __isub__(self, other):
        return self._inplace(np.subtract, other, "-=")

    def __imul__(self, other):
        return self._inplace(np.multiply, other, "*=")

    def __itruediv__(self, other):
        return self._inplace(np.true_divide, other, "/=")

    def add_(self, other):
        return self._inplace(np.add, other, "add_")

    def sub_(self, other):
        return self._inplace(np.subtract, other, "sub_")

    def mul_(self, other):
        return self._inplace(np.multiply, other, "mul_")

    def div_(self, other):
        return self._inplace(np.true_divide, other, "div_")

    def fill_(self, value):
        self._check_inplace_allowed("fill_")
        self.data[...] = _plain(value)
        self._mark_written()
        return self

    def copy_(self, source):
        """Copy `source`'s values (broadcast to this shape, cast to this dtype) into this tensor."""
        self._check_inplace_allowed("copy_")
        value = _plain(source)
        try:
            np.copyto(self.data, value, casting="unsafe")
        except ValueError as error:
            raise ValueError(f"copy_(): a source of shape {np.shape(value)} cannot be copied into a tensor of "
                             f"shape {self.shape} ({error})") from None
        self._mark_written()
        return self

    def __setitem__(self, key, value):
        self._check_inplace_allowed("item assignment")
        key = _index_key(key, self.shape)
        try:
            self.data[key] = _plain(value)
        except IndexError as error:
            raise IndexError(f"index out of range for a tensor of shape {self.shape}: {error}") from None
        except ValueError as error:
            raise ValueError(f"cannot assign a value of shape {np.shape(_plain(value))} to a selection of a "
                             f"tensor of shape {self.shape}: {error}") from None
        self._mark_written()

    def _check_inplace_allowed(self, op):
        if self.requires_grad and grad_mode._state.enabled:
            if self.grad_fn is None:
                raise RuntimeError(
                    f"{op}: a leaf tensor that requires grad is being changed in place while gradients are "
                    "recorded; do the update inside `with tm.no_grad():` (as in `p -= lr * p.grad`)")
            raise RuntimeError(
                f"{op}: in-place changes to a tensor that is part of the autograd graph are not supported; "
                "compute a new tensor instead (x = x + y)")

    def _inplace(self, ufunc, other, op):
        self._check_inplace_allowed(op)
        value = _plain(other)
        try:
            ufunc(self.data, value, out=self.data, casting="same_kind")
        except TypeError:
            raise TypeError(f"{op}: the result of {np.result_type(self.data, value)} cannot be stored in this "
                            f"{self.dtype} tensor in place") from None
        except ValueError as error:
            raise ValueError(f"{op}: a value of shape {np.shape(value)} cannot update a tensor of shape "
                             f"{self.shape} in place ({error})") from None
        self._mark_written()
        return self

    def _mark_written(self):
        versions.mark_written(self.data)

    # ------------------------------------------------------------------ comparisons (no gradient)
    def __eq__(self, other):
        return _compare(np.equal, self, other)

    def __ne__(self, other):
        return _compare(np.not_equal, self, other)

    def __lt__(self, other):
        return _compare(np.less, self, other)

    def __le__(self, other):
        return _compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _compare(np.greater, self, other)

    def __ge__(self, other):
        return _compare(np.greater_equal, self, other)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __invert__(self):
        if self.dtype.kind not in "biu":
            raise TypeError(f"~ (logical not) needs a bool or integer tensor, got {self.dtype}")
        return Tensor._constant(~self.data)

    def __and__(self, other):
        return _compare(np.bitwise_and, self, other)

    def __or__(self, other):
        return _compare(np.bitwise_or, self, other)

    def __xor__(self, other):
        return _compare(np.bitwise_xor, self, other)

    def logical_not(self):
        return Tensor._constant(np.logical_not(self.data))

    def any(self, dim=None, keepdim=False):
        axes = _dims(dim, self.ndim, "any")
        return Tensor._constant(np.asarray(self.data.any(axis=axes, keepdims=keepdim)))

    def all(self, dim=None, keepdim=False):
        axes = _dims(dim, self.ndim, "all")
        return Tensor._constant(np.asarray(self.data.all(axis=axes, keepdims=keepdim)))

    def isnan(self):
        return Tensor._constant(np.isnan(self.data))

    def isfinite(self):
        return Tensor._constant(np.isfinite(self.data))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return bool(np.allclose(self.data, _plain(other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def equal(self, other):
        return self.shape == _plain(other).shape and bool(np.array_equal(self.data, _plain(other)))

    # ------------------------------------------------------------------ elementwise math
    def exp(self):
        return _ops.unary.Exp.apply(self._floating())

    def log(self):
        return _ops.unary.Log.apply(self._floating())

    def sqrt(self):
        return _ops.unary.Sqrt.apply(self._floating())

    def rsqrt(self):
        return 1 / self.sqrt()

    def abs(self):
        return _ops.unary.Abs.apply(self)

    def sin(self):
        return _ops.unary.Sin.apply(self._floating())

    def cos(self):
        return _ops.unary.Cos.apply(self._floating())

    def tanh(self):
        return _ops.unary.Tanh.apply(self._floating())

    def sigmoid(self):
        return _ops.unary.Sigmoid.apply(self._floating())

    def relu(self):
        return _ops.unary.Relu.apply(self)

    def square(self):
        return self * self

    def reciprocal(self):
        return 1 / self

    def sign(self):
        return Tensor._constant(np.sign(self.data))

    def clamp(self, min=None, max=None):
        """Limit each element to [min, max]; a bound may be None. Gradient 1 inside (bounds included)."""
        if min is None and max is None:
            raise ValueError("clamp(): at least one of min and max must be given")
        return _ops.unary.Clamp.apply(self, min=_plain(min), max=_plain(max))

    clip = clamp

    def where(self, condition, other):
        return where(condition, self, other)

    def _floating(self):
        """This tensor as a floating one: integer and bool tensors are promoted to float32 (PyTorch)."""
        return self if self.data.dtype.kind == "f" else self.to(dtypes.default_float)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        source = self if dtype is None else self.to(dtype)
        if source.dtype.kind in "biu":
            source = source.to(dtypes.int64)  # PyTorch sums bool and integer tensors as int64
        return _ops.reduce.Sum.apply(source, axes=_dims(dim, self.ndim, "sum"), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None):
        source = self if dtype is None else self.to(dtype)
        source._require_floating("mean")
        return _ops.reduce.Mean.apply(source, axes=_dims(dim, self.ndim, "mean"), keepdim=keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """Variance over `dim` with divisor N - correction (default 1, Bessel's correction; unbiased=False
        means correction=0)."""
        self._require_floating("var")
        correction = _correction(unbiased, correction)
        return _ops.reduce.Var.apply(self, axes=_dims(dim, self.ndim, "var"), correction=correction,
                                     keepdim=keepdim)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """sqrt(var): its gradient comes from composing Var and Sqrt."""
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    def prod(self, dim=None, keepdim=False):
        axis = None if dim is None else _dim(dim, self.ndim, "prod")
        source = self if self.dtype.kind == "f" else self.to(dtypes.int64)
        return _ops.reduce.Prod.apply(source, axis=axis, keepdim=keepdim)

    def amax(self, dim=None, keepdim=False):
        return self._extreme(_ops.reduce.AMax, dim, keepdim, "amax")

    def amin(self, dim=None, keepdim=False):
        return self._extreme(_ops.reduce.AMin, dim, keepdim, "amin")

    def max(self, dim=None, keepdim=False):
        """max() -> the largest element; max(dim) -> (values, indices) along dim; max(other) -> maximum."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return self._extreme(_ops.reduce.AMax, None, False, "max")
        return self._extreme_along(np.argmax, dim, keepdim, "max")

    def min(self, dim=None, keepdim=False):
        """min() -> the smallest element; min(dim) -> (values, indices) along dim; min(other) -> minimum."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return self._extreme(_ops.reduce.AMin, None, False, "min")
        return self._extreme_along(np.argmin, dim, keepdim, "min")

    def argmax(self, dim=None, keepdim=False):
        return self._arg_extreme(np.argmax, dim, keepdim, "argmax")

    def argmin(self, dim=None, keepdim=False):
        return self._arg_extreme(np.argmin, dim, keepdim, "argmin")

    def logsumexp(self, dim, keepdim=False):
        source = self._floating()
        return _ops.reduce.LogSumExp.apply(source, axes=_dims(dim, self.ndim, "logsumexp"), keepdim=keepdim)

    def softmax(self, dim):
        return _ops.softmax.Softmax.apply(self._floating(), axis=_dim(dim, self.ndim, "softmax"))

    def log_softmax(self, dim):
        return _ops.softmax.LogSoftmax.apply(self._floating(),
                                             axis=_dim(dim, self.ndim, "log_softmax"))

    def _require_floating(self, op):
        if self.data.dtype.kind != "f":
            raise TypeError(f"{op}(): needs a floating point tensor, got {self.dtype}; "
                            "convert it with .float() or pass dtype=tm.float32")

    def _check_nonempty(self, axes, op):
        if any(self.shape[a] == 0 for a in axes) or (self.data.size == 0 and not axes):
            raise IndexError(f"{op}(): cannot reduce over a dimension of size 0 (tensor shape {self.shape})")

    def _extreme(self, function, dim, keepdim, op):
        axes = _dims(dim, self.ndim, op)
        self._check_nonempty(axes, op)
        return function.apply(self, axes=axes, keepdim=keepdim)

    def _extreme_along(self, pick, dim, keepdim, op):
        axis = _dim(dim, self.ndim, op)
        if axis is None:  # a 0-d tensor: itself, at index 0
            return MinMaxResult(self, Tensor._constant(np.zeros((), dtype=np.int64)))
        self._check_nonempty((axis,), op)
        indices = np.asarray(pick(self.data, axis=axis, keepdims=True), dtype=np.int64)
        values = _ops.reduce.TakeAlongDim.apply(self, indices=indices, axis=axis, keepdim=keepdim)
        return MinMaxResult(values, Tensor._constant(indices if keepdim else np.squeeze(indices, axis=axis)))

    def _arg_extreme(self, pick, dim, keepdim, op):
        if dim is None:
            self._check_nonempty((), op)
            index = np.asarray(pick(self.data), dtype=np.int64)
            return Tensor._constant(index.reshape((1,) * self.ndim) if keepdim else index)
        axis = _dim(dim, self.ndim, op)
        if axis is None:
            return Tensor._constant(np.zeros((), dtype=np.int64))
        self._check_nonempty((axis,), op)
        return Tensor._constant(np.asarray(pick(self.data, axis=axis, keepdims=keepdim), dtype=np.int64))

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        new_shape = _resolve_shape(_shape_arg(shape), self.data.size, self.shape)
        if new_shape == self.data.shape:
            return self
        return _ops.shape.Reshape.apply(self, shape=new_shape)

    view = reshape

    def view_as(self, other):
        return self.reshape(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        start, end = _dim(start_dim, self.ndim, "flatten"), _dim(end_dim, self.ndim, "flatten")
        if start > end:
            raise ValueError(f"flatten(): start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.shape
        return self.reshape(shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:])

    def unflatten(self, dim, sizes):
        axis = _dim(dim, self.ndim, "unflatten")
        return self.reshape(self.shape[:axis] + tuple(sizes) + self.shape[axis + 1:])

    def squeeze(self, dim=None):
        """Drop size-1 dims (all of them, or those in `dim`); a named dim of another size stays (PyTorch)."""
        axes = _dims(dim, self.ndim, "squeeze")
        shape = tuple(n for axis, n in enumerate(self.shape) if not (axis in axes and n == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim):
        size = self.ndim + 1
        if isinstance(dim, bool) or not isinstance(dim, int) or not -size <= dim < size:
            raise IndexError(f"unsqueeze(): dim {dim} is out of range for a tensor with {self.ndim} dimension(s) "
                             f"(expected a value in [{-size}, {size - 1}])")
        axis = dim % size
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def permute(self, *dims):
        dims = _shape_arg(dims)
        axes = tuple(_dim(d, self.ndim, "permute") for d in dims) if self.ndim else ()
        if len(dims) != self.ndim or sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"permute(): dims {tuple(dims)} must name each of the {self.ndim} dims once")
        return _ops.shape.Permute.apply(self, dims=axes)

    def transpose(self, dim0, dim1):
        a, b = _dim(dim0, self.ndim, "transpose"), _dim(dim1, self.ndim, "transpose")
        if self.ndim == 0:
            return self
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return _ops.shape.Permute.apply(self, dims=tuple(axes))

    swapaxes = transpose

    @property
    def T(self):
        return _ops.shape.Permute.apply(self, dims=tuple(reversed(range(self.ndim)))) if self.ndim > 1 else self

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"t(): expects a tensor with at most 2 dimensions, got shape {self.shape}")
        return self.T

    def expand(self, *sizes):
        sizes = _shape_arg(sizes)
        if len(sizes) < self.ndim:
            raise RuntimeError(f"expand(): the number of sizes {len(sizes)} is smaller than the tensor's "
                               f"{self.ndim} dimensions (shape {self.shape})")
        leading = len(sizes) - self.ndim
        shape = tuple(self.shape[i - leading] if n == -1 and i >= leading else n for i, n in enumerate(sizes))
        for i, n in enumerate(self.shape):
            if n != 1 and n != shape[leading + i]:
                raise RuntimeError(f"expand(): the size {n} of dim {i} (tensor shape {self.shape}) must be 1 "
                                   f"or match the requested size {shape[leading + i]} (sizes {tuple(sizes)})")
        if shape == self.shape:
            return self
        return _ops.shape.Expand.apply(self, shape=shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    def broadcast_to(self, shape):
        return self.expand(shape)

    def repeat(self, *repeats):
        repeats = tuple(_shape_arg(repeats))
        if len(repeats) < self.ndim:
            raise RuntimeError(f"repeat(): {len(repeats)} repeat counts given for a tensor with {self.ndim} "
                               "dimensions; give at least one per dimension")
        if any(r < 0 for r in repeats):
            raise ValueError(f"repeat(): repeat counts must be >= 0, got {repeats}")
        return _ops.shape.Repeat.apply(self, repeats=repeats)

    def flip(self, *dims):
        dims = _shape_arg(dims)
        return _ops.shape.Flip.apply(self, axes=_dims(tuple(dims), self.ndim, "flip"))

    def chunk(self, chunks, dim=0):
        axis = _dim(dim, self.ndim, "chunk")
        step = -(-self.shape[axis] // chunks)
        return self.split(step, dim)

    def split(self, split_size, dim=0):
        axis = _dim(dim, self.ndim, "split")
        length = self.shape[axis]
        sizes = split_size if isinstance(split_size, (list, tuple)) else \
            [min(split_size, length - start) for start in range(0, length, split_size)]
        if sum(sizes) != length:
            raise ValueError(f"split(): sizes {list(sizes)} do not add up to the dim's size {length}")
        pieces, start = [], 0
        for size in sizes:
            key = (slice(None),) * axis + (slice(start, start + size),)
            pieces.append(self[key])
            start += size
        return tuple(pieces)

    # ------------------------------------------------------------------ selection
    def __getitem__(self, key):
        key = _index_key(key, self.shape)
        try:
            return _ops.indexing.Index.apply(self, key=key)
        except IndexError as error:
            raise IndexError(f"index out of range for a tensor of shape {self.shape}: {error}") from None

    def masked_fill(self, mask, value):
        """Elements where `mask` (a bool tensor broadcastable to this shape) is True become `value`."""
        mask = _plain(mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_fill(): mask must be a bool tensor, got {mask.dtype}")
        if not _broadcastable(mask.shape, self.shape) or np.broadcast_shapes(mask.shape, self.shape) != self.shape:
            raise ValueError(f"masked_fill(): mask of shape {mask.shape} does not broadcast to the tensor's "
                             f"shape {self.shape}")
        value = _plain(value)
        if np.ndim(value) != 0:
            raise ValueError(f"masked_fill(): value must be a number or a 0-d tensor, got shape {np.shape(value)}")
        return _ops.indexing.MaskedFill.apply(self, mask=mask, value=value)

    def gather(self, dim, index):
        """out[i][j] = self[index[i][j]][j] for dim 0, self[i][index[i][j]] for dim 1 (and so on)."""
        axis = _dim(dim, self.ndim, "gather")
        index = _plain(index)
        if index.dtype.kind not in "iu":
            raise TypeError(f"gather(): index must be an integer tensor (int64), got {index.dtype}")
        if index.ndim != self.ndim:
            raise ValueError(f"gather(): index has {index.ndim} dims but the tensor has {self.ndim} "
                             f"(shapes {index.shape} and {self.shape})")
        for d, (n_index, n_self) in enumerate(zip(index.shape, self.shape)):
            if d != axis and n_index > n_self:
                raise ValueError(f"gather(): index size {n_index} at dim {d} exceeds the tensor's size "
                                 f"{n_self} there (shapes {index.shape} and {self.shape})")
        if index.size and (index.min() < 0 or index.max() >= self.shape[axis]):
            bad = index.min() if index.min() < 0 else index.max()
            raise IndexError(f"gather(): index {bad} is out of bounds for dim {dim} with size {self.shape[axis]}")
        return _ops.indexing.Gather.apply(self, dim=axis, index=index.astype(np.int64, copy=False))

    # ------------------------------------------------------------------ printing
    def __repr__(self):
        data = self.data
        if data.size == 0 and data.ndim > 1:
            body = f"[], size={data.shape}"
        else:
            # Like PyTorch: whole numbers print as "3.", anything else with four decimals "1.5000".
            finite = data[np.isfinite(data)] if data.dtype.kind == "f" else data
            whole = data.dtype.kind != "f" or bool(np.all(finite == np.round(finite)))
            body = np.array2string(data, separator=", ", prefix="tensor(", precision=4,
                                   floatmode="maxprec" if whole else "fixed")
        extras = []
        if data.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool_):
            extras.append(f"dtype=tm.{data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ------------------------------------------------------------------ construction helpers
    @staticmethod
    def _constant(array):
        """A tensor outside any graph around an array (no copy)."""
        return make_tensor(array, None)


def _init_slots(tensor, data, grad_fn):
    tensor.data = data
    tensor.grad = None
    tensor.grad_fn = grad_fn
    tensor.requires_grad = grad_fn is not None
    tensor._accumulator = None  # weak reference to this leaf's AccumulateGrad node
    tensor._hooks = None  # hooks of a leaf (a non-leaf keeps them on its grad_fn)


def make_tensor(data, grad_fn):
    """A Tensor around `data` without copying or checking: an op's output (grad_fn set) or a constant."""
    tensor = object.__new__(Tensor)
    _init_slots(tensor, data, grad_fn)
    return tensor


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


# ---------------------------------------------------------------------- helpers used by the methods
def _to_array(data, dtype=None):
    """An ndarray for `data` with PyTorch's dtype inference: Python floats -> float32, ints -> int64,
    bools -> bool; an ndarray keeps its dtype unless `dtype` is given."""
    dtype = dtypes.to_dtype(dtype)
    if isinstance(data, Tensor):
        array = data.data.copy()
    elif isinstance(data, np.ndarray):
        array = data.copy()
    elif isinstance(data, np.generic):
        array = np.asarray(data).copy()
    else:
        try:
            array = np.array(_unwrap_nested(data))
        except ValueError as error:
            raise ValueError(f"tensor(): data must be a number or a regular nested list; {error}") from None
        if array.dtype == np.float64 and dtype is None:
            array = array.astype(dtypes.default_float)
        elif array.dtype.kind in "iu" and dtype is None:
            array = array.astype(np.int64)
        elif array.dtype == object or array.dtype.kind in "USV":
            raise TypeError(f"tensor(): cannot make a tensor from {type(data).__name__} data: {data!r:.80}")
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    dtypes.check_supported(array.dtype, "tensor()")
    return array


def _unwrap_nested(data):
    """Lists may contain 0-d tensors (e.g. [t.sum(), 1.0]); replace them by their values."""
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, (list, tuple)):
        return [_unwrap_nested(item) for item in data]
    return data


def _plain(value):
    """The NumPy value of a Tensor, array or number used as a constant (no gradient flows into it)."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return _to_array(value)
    return value


def _as_operand(value, op):
    """A Tensor or a Python number for a binary op; lists and arrays become constant tensors."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, (np.ndarray, list, tuple)):
        return Tensor._constant(_to_array(value))
    raise TypeError(f"{op}: unsupported operand of type {type(value).__name__}; use a tensor or a number")


def _promote(left, right, op, floating=False):
    """Cast the operands to PyTorch's result dtype (see dtypes.py); Python numbers stay numbers."""
    if isinstance(left, Tensor):  # fast paths: nothing to convert (most calls)
        kind = left.data.dtype.kind
        if isinstance(right, Tensor):
            if left.data.dtype == right.data.dtype and (kind == "f" or not floating):
                return left, right
        elif type(right) is float and kind == "f":
            return left, _scalar_array(right, left.data.dtype)
    left, right = _as_operand(left, op), _as_operand(right, op)
    left_is_tensor, right_is_tensor = isinstance(left, Tensor), isinstance(right, Tensor)
    if left_is_tensor and right_is_tensor:
        dtype = left.data.dtype
        if dtype != right.data.dtype:
            dtype = dtypes.promote_tensors(left.data, right.data)
    elif left_is_tensor:
        dtype = dtypes.promote_with_scalar(left.data.dtype, right)
    else:
        dtype = dtypes.promote_with_scalar(right.data.dtype, left)
    if floating and dtype.kind != "f":
        dtype = dtypes.default_float  # true division of integers gives float32, as in PyTorch
    left = left.to(dtype) if left_is_tensor else _scalar_array(left, dtype)
    right = right.to(dtype) if right_is_tensor else _scalar_array(right, dtype)
    return left, right


_scalar_arrays = {}


def _scalar_array(value, dtype):
    """A Python number as a 0-d array of `dtype`, cached: NumPy computes `array * array0d` in about half
    the time of `array * 1.5`, whose Python float it must convert on every call. The cached arrays are
    read-only (ops never write to their inputs)."""
    key = (type(value), value, dtype)
    array = _scalar_arrays.get(key)
    if array is None:
        if len(_scalar_arrays) > 512:  # bounded: many distinct constants just stop being cached
            _scalar_arrays.clear()
        array = _scalar_arrays[key] = np.array(value, dtype=dtype)
        array.flags.writeable = False
    return array


def _binary(function, left, right, op, floating=False):
    """Apply a broadcasting binary op; a shape mismatch names the op and both shapes."""
    left, right = _promote(left, right, op, floating)
    try:
        return function.apply(left, right)
    except ValueError as error:
        shapes = np.shape(_plain(left)), np.shape(_plain(right))
        if not _broadcastable(*shapes):
            raise ValueError(f"{op}: shapes {shapes[0]} and {shapes[1]} cannot be broadcast together "
                             "(trailing dimensions must be equal or 1)") from None
        raise error


def _broadcastable(shape_a, shape_b):
    try:
        np.broadcast_shapes(shape_a, shape_b)
        return True
    except ValueError:
        return False


def _compare(ufunc, left, right):
    """A comparison or logical op: a bool (or integer) tensor outside the graph."""
    a, b = _plain(left), _plain(_as_operand(right, ufunc.__name__))
    if not _broadcastable(np.shape(a), np.shape(b)):
        raise ValueError(f"{ufunc.__name__}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast together")
    return Tensor._constant(np.asarray(ufunc(a, b)))


def _dim(dim, ndim, op):
    return _ops.dims.normalize_dim(dim, ndim, op)


def _dims(dim, ndim, op):
    return _ops.dims.normalize_dims(dim, ndim, op)


def _shape_arg(args):
    """Accept f(2, 3) and f((2, 3)) alike, as PyTorch does."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for n in args:
        if isinstance(n, Tensor):
            n = n.item()
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"sizes must be integers, got {n!r} in {args}")
        out.append(int(n))
    return tuple(out)


def _resolve_shape(shape, size, current):
    """The target shape of a reshape, with one -1 inferred from the element count."""
    unknown = [i for i, n in enumerate(shape) if n == -1]
    known = int(np.prod([n for n in shape if n != -1], dtype=np.int64))
    problem = None
    if len(unknown) > 1 or any(n < -1 for n in shape):
        problem = "only one dimension can be -1 and sizes must be >= -1"
    elif unknown and (known == 0 or size % known):
        problem = "the -1 dimension cannot be inferred"
    elif not unknown and known != size:
        problem = f"it holds {known} elements, not {size}"
    if problem:
        raise RuntimeError(f"reshape(): shape {shape} is invalid for a tensor of shape {current} "
                           f"({size} elements): {problem}")
    if unknown:
        shape = shape[:unknown[0]] + (size // known,) + shape[unknown[0] + 1:]
    return shape


def _correction(unbiased, correction):
    if correction is not None and unbiased is not None:
        raise ValueError("give either unbiased or correction, not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def _index_key(key, shape):
    """A NumPy indexing key from a PyTorch one: tensors become arrays, lists become integer/bool arrays."""
    parts = key if isinstance(key, tuple) else (key,)
    converted = []
    for part in parts:
        if isinstance(part, Tensor):
            part = part.data
        elif isinstance(part, list):
            part = np.asarray(part)
        if isinstance(part, np.ndarray):
            if part.dtype.kind not in "biu":
                raise IndexError(f"tensors used as indices must be integer or bool, got {part.dtype}")
            if part.dtype.kind == "b" and part.ndim == 0:
                raise IndexError("a 0-d bool index is not supported; use a bool tensor with dimensions")
        elif isinstance(part, float):
            raise IndexError(f"indices must be integers, slices, None, Ellipsis or tensors, got the float {part}")
        converted.append(part)
    return tuple(converted) if isinstance(key, tuple) else converted[0]


def matmul(a, b):
    """a @ b with PyTorch's rules for 1-D, 2-D and batched operands (see ops/matmul.py)."""
    a, b = _promote(a, b, "matmul")
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError("matmul: both operands must be tensors (or arrays), not Python numbers")
    shape_a, shape_b = a.shape, b.shape
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least one dimension, got shapes {shape_a} and {shape_b}")
    inner_a = shape_a[-1]
    inner_b = shape_b[0] if b.ndim == 1 else shape_b[-2]
    if inner_a != inner_b:
        raise ValueError(f"matmul: shapes {shape_a} and {shape_b} cannot be multiplied "
                         f"({inner_a} columns on the left, {inner_b} rows on the right)")
    batch_a, batch_b = shape_a[:-2], shape_b[:-2]
    if not _broadcastable(batch_a, batch_b):
        raise ValueError(f"matmul: batch dimensions {batch_a} and {batch_b} of shapes {shape_a} and {shape_b} "
                         "cannot be broadcast together")
    return _ops.matmul.MatMul.apply(a, b)


def cat(tensors, dim=0):
    """Join tensors along an existing dim; all other dims must match."""
    tensors = _same_dtype_tensors(tensors, "cat")
    axis = _dim(dim, tensors[0].ndim, "cat")
    if axis is None:
        raise ValueError("cat(): zero-dimensional tensors cannot be concatenated; use stack()")
    first = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.ndim != len(first) or any(a != b for d, (a, b) in enumerate(zip(t.shape, first)) if d != axis):
            raise ValueError(f"cat(): tensor {i} has shape {t.shape} but tensor 0 has shape {first}; sizes must "
                             f"match except in dim {dim}")
    return _ops.join.Cat.apply(*tensors, axis=axis)


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dim."""
    tensors = _same_dtype_tensors(tensors, "stack")
    size = tensors[0].ndim + 1
    if isinstance(dim, bool) or not isinstance(dim, int) or not -size <= dim < size:
        raise IndexError(f"stack(): dim {dim} is out of range for the result's {size} dimensions")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack(): tensor {i} has shape {t.shape} but tensor 0 has shape {tensors[0].shape}; "
                             "stack needs equal shapes")
    return _ops.join.Stack.apply(*tensors, axis=dim % size)


def _same_dtype_tensors(tensors, op):
    """The tensors of a cat/stack, promoted to one dtype."""
    if isinstance(tensors, Tensor) or not len(tensors):
        raise TypeError(f"{op}(): expects a non-empty list or tuple of tensors")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype != dtype:
            dtype = dtypes.promote_tensors(np.empty((1,), dtype), t.data)
    return [t.to(dtype) for t in tensors]


def where(condition, input, other):
    """input where condition is True, else other; all three broadcast. Gradients flow to input and other."""
    condition = _plain(condition)
    if not isinstance(condition, np.ndarray) or condition.dtype != np.bool_:
        raise TypeError(f"where(): condition must be a bool tensor, got {getattr(condition, 'dtype', type(condition))}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor._constant(np.asarray(input, dtype=dtypes.scalar_dtype(input)))
    input, other = _promote(input, other, "where")
    shapes = condition.shape, np.shape(_plain(input)), np.shape(_plain(other))
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"where(): shapes {shapes[0]}, {shapes[1]} and {shapes[2]} (condition, input, other) "
                         "cannot be broadcast together") from None
    return _ops.indexing.Where.apply(condition, input, other)


# Imported last: autograd and the ops import Tensor from this module.
from . import ops as _ops  # noqa: E402
from .autograd import grad_mode, versions  # noqa: E402
