"""Tensor: a NumPy array plus what autograd needs (requires_grad, grad, grad_fn).

This file is the wiring from PyTorch's method names to the ops: every differentiable method builds its
result through one `Function` in `ops/` (where the forward and the backward sit side by side, with the
checks of the op's arguments), and every other job has a module named for it:

    ops/arguments.py   dims, sizes, kernel sizes, paddings       promotion.py   operand dtypes, the scalar cache
    conversion.py      Python data in, plain values out          inplace.py     updates outside the graph
    autograd/hooks.py  gradient hooks                            ops/*.py       matmul, cat, stack, where, ...

Methods follow PyTorch's names, arguments and semantics. One deliberate difference, for learners:
`Tensor.array` is the underlying `np.ndarray`.
"""

import numpy as np

from . import dtypes


class Tensor:
    __slots__ = ("array", "grad", "grad_fn", "requires_grad", "_accumulator", "_hooks", "__weakref__")

    def __array_ufunc__(self, ufunc, method, *operands, **kwargs):
        """NumPy ufuncs on Tensors (`np.cos(t)`, `array * t`) run as Tensor ops, in the graph (ufuncs.py)."""
        return _ufuncs.array_ufunc(ufunc, method, *operands, **kwargs)

    def __init__(self, data, requires_grad=False, dtype=None):
        if not isinstance(requires_grad, bool):  # tm.Tensor(2, 3), PyTorch's legacy "sizes" constructor
            raise TypeError(
                f"Tensor(data, requires_grad=False, dtype=None): requires_grad must be True or False, got "
                f"{requires_grad!r}; for a tensor of a given shape (PyTorch's legacy torch.Tensor(2, 3)) use "
                "tm.zeros(2, 3), tm.ones(2, 3) or tm.randn(2, 3)"
            )
        init_slots(self, _conversion.to_array(data, dtype), None)
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ attributes
    @property
    def data(self):
        """PyTorch's `.data`: a tensor sharing this one's memory, outside the graph (requires_grad=False).
        Writing into it (`p.data.add_(...)`, `p.data.copy_(x)`) changes this tensor without autograd
        seeing it, as in PyTorch; `.detach()` is the same view. The NumPy array is `.array`."""
        return Tensor._constant(self.array)

    @data.setter
    def data(self, value):
        """`t.data = other` makes `t` hold `other`'s values (its memory, any shape), as in PyTorch."""
        self.array = value.array if isinstance(value, Tensor) else np.asarray(value)

    @property
    def shape(self):
        return self.array.shape

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def device(self):
        return _device.CPU

    def dim(self):
        return self.array.ndim

    def size(self, dim=None):
        if dim is None:
            return self.array.shape
        return self.array.shape[_arguments.dim(dim, self.ndim, "size")] if self.ndim else 1

    def numel(self):
        return self.array.size

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    def __hash__(self):  # identity, as PyTorch: == is elementwise, so tensors hash by id
        return id(self)

    # ------------------------------------------------------------------ conversion
    def numpy(self):
        """The array itself (shares memory). Like PyTorch, refused while the tensor requires grad."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return self.array

    def item(self):
        if self.array.size != 1:
            raise ValueError(
                f"item(): only a tensor with one element can be converted to a Python number, "
                f"this one has shape {self.shape}"
            )
        return self.array.item()

    def tolist(self):
        return self.array.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors of one element can be used as an index, got {self.dtype}")
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.array.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self.array.item())

    def __array__(self, dtype=None, copy=None):
        return self.array if dtype is None else self.array.astype(dtype)

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """PyTorch's to(): to(dtype), to(device), to(device, dtype), to(other_tensor), keywords too. The
        device must be the CPU (device.py). A tensor of `dtype` (itself when it already is, unless
        copy=True); float-to-float casts are differentiable, a cast to an integer or bool type gives a
        tensor outside the graph, as in PyTorch."""
        dtype = _device.to_arguments(args, dtype, device, "to")
        result = self if dtype is None else self._cast(dtype)
        return result.clone() if copy and result is self else result

    def _cast(self, dtype):
        dtype = dtypes.to_dtype(dtype)
        if dtype == self.array.dtype:
            return self
        if dtypes.is_floating(dtype):
            return _ops.unary.ToDtype.apply(self, dtype=dtype)
        return Tensor._constant(self.array.astype(dtype))

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

    def type(self, dtype=None):
        """type(): the type's name ("tm.FloatTensor"); type(dtype) casts, also from PyTorch's legacy names
        ("torch.FloatTensor", "torch.LongTensor")."""
        if dtype is None:
            return "tm." + dtypes.legacy_name(self.dtype)
        return self.to(dtypes.from_legacy_name(dtype) if isinstance(dtype, str) else dtype)

    def new_tensor(self, data, dtype=None, requires_grad=False):
        """A new tensor from `data` (copied), with this tensor's dtype unless `dtype` is given."""
        return Tensor(data, requires_grad=requires_grad, dtype=self.dtype if dtype is None else dtype)

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        return self.new_full(_arguments.sizes(size), 0, dtype=dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        return self.new_full(_arguments.sizes(size), 1, dtype=dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False):
        return self.new_full(_arguments.sizes(size), 0, dtype=dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        """A tensor of `size` filled with `fill_value`, with this tensor's dtype unless `dtype` is given."""
        array = np.full(_arguments.sizes((size,)), fill_value, dtype=dtypes.to_dtype(dtype) or self.dtype)
        return Tensor(array, requires_grad=requires_grad)

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) * gradient into `.grad` of every leaf that requires grad.

        `gradient` may be omitted for a one-element tensor (it is 1). The graph's saved arrays are freed
        afterwards unless `retain_graph=True`. With `create_graph=True` each `.grad` is a tensor with a
        graph of its own, to differentiate again (retain_graph then defaults to True, as in PyTorch).
        """
        from .autograd import engine

        if retain_graph is None:
            retain_graph = create_graph
        engine.check_differentiable(self, "backward()")
        start = engine.initial_gradient(self, gradient, "backward()", create_graph)
        engine.run_backward([engine.node_of(self)], [start], retain_graph=bool(retain_graph), create_graph=create_graph)

    def detach(self):
        """A new tensor sharing this one's array, outside the graph (requires_grad=False)."""
        return Tensor._constant(self.array)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not dtypes.is_floating(self.array.dtype):
            raise RuntimeError(
                f"only floating point tensors can require gradients, this one is {self.dtype}; "
                "convert it first with .float()"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) is only for leaf tensors; use .detach() on a computed one")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep `.grad` on a non-leaf tensor after backward (leaves always keep it)."""
        hooks.retain_grad(self)

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor replaces the grad.
        Returns a handle whose `.remove()` unregisters the hook (autograd/hooks.py)."""
        return hooks.register_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call `hook(tensor)` each time a backward has added into this leaf's .grad (PyTorch's name)."""
        return hooks.register_post_accumulate_grad_hook(self, hook)

    def zero_(self):
        return _inplace.update(self, np.multiply, 0, "zero_")

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return _promotion.binary(_ops.binary.Add, self, other, "add")

    def __radd__(self, other):
        return _promotion.binary(_ops.binary.Add, other, self, "add")

    def __sub__(self, other):
        return _promotion.binary(_ops.binary.Sub, self, other, "sub")

    def __rsub__(self, other):
        return _promotion.binary(_ops.binary.Sub, other, self, "sub")

    def __mul__(self, other):
        return _promotion.binary(_ops.binary.Mul, self, other, "mul")

    def __rmul__(self, other):
        return _promotion.binary(_ops.binary.Mul, other, self, "mul")

    def __truediv__(self, other):
        return _promotion.binary(_ops.binary.Div, self, other, "div", floating=True)

    def __rtruediv__(self, other):
        return _promotion.binary(_ops.binary.Div, other, self, "div", floating=True)

    def __pow__(self, exponent):
        return _promotion.binary(_ops.binary.Pow, self, exponent, "pow")

    def __rpow__(self, base):
        return _promotion.binary(_ops.binary.Pow, base, self, "pow")

    def __matmul__(self, other):
        return _ops.matmul.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul.matmul(other, self)

    def __neg__(self):
        return _ops.unary.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    def add(self, other, *, alpha=1):
        """self + alpha * other."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, *, alpha=1):
        """self - alpha * other."""
        return self - (other if alpha == 1 else other * alpha)

    mul, pow = __mul__, __pow__
    subtract, multiply, divide = sub, mul, __truediv__

    def div(self, other, *, rounding_mode=None):
        """self / other; rounding_mode "floor" is self // other, "trunc" rounds toward zero (no gradient)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        if rounding_mode == "trunc":
            return _promotion.piecewise_constant(_trunc_divide, self, other, "div")
        raise ValueError(f"div(): rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")

    def __floordiv__(self, other):
        """floor(self / other), PyTorch's result dtype; a step function, so outside the graph."""
        return _promotion.piecewise_constant(np.floor_divide, self, other, "floor_divide")

    def __rfloordiv__(self, other):
        return _promotion.piecewise_constant(np.floor_divide, other, self, "floor_divide")

    def __mod__(self, other):
        """self - floor(self / other) * other: the sign of `other`, as Python's % and PyTorch's remainder."""
        return _promotion.binary(_ops.binary.Remainder, self, other, "remainder")

    def __rmod__(self, other):
        return _promotion.binary(_ops.binary.Remainder, other, self, "remainder")

    floor_divide, remainder = __floordiv__, __mod__

    def __format__(self, spec):
        """format(t, "+.2f") and f"{loss:.4f}" format the number of a one-element tensor."""
        if self.array.size == 1:
            return format(self.item(), spec)
        if spec:
            raise TypeError(
                f"format spec {spec!r} needs a tensor with one element, this one has shape {self.shape}; "
                "format its .tolist() or its elements"
            )
        return str(self)

    def neg(self):
        return -self

    def maximum(self, other):
        return _promotion.binary(_ops.binary.Maximum, self, other, "maximum")

    def minimum(self, other):
        return _promotion.binary(_ops.binary.Minimum, self, other, "minimum")

    def matmul(self, other):
        return _ops.matmul.matmul(self, other)

    def mm(self, other):
        """Matrix product of two 2-D tensors (matmul without broadcasting)."""
        return _ops.matmul.matmul(_require_ndim(self, 2, "mm"), _require_ndim(other, 2, "mm"))

    def bmm(self, other):
        """Batched matrix product of two 3-D tensors (b, n, m) @ (b, m, p)."""
        return _ops.matmul.matmul(_require_ndim(self, 3, "bmm"), _require_ndim(other, 3, "bmm"))

    # in place: only outside the graph (inplace.py)
    def __iadd__(self, other):
        return _inplace.update(self, np.add, other, "+=")

    def __isub__(self, other):
        return _inplace.update(self, np.subtract, other, "-=")

    def __imul__(self, other):
        return _inplace.update(self, np.multiply, other, "*=")

    def __itruediv__(self, other):
        return _inplace.update(self, np.true_divide, other, "/=")

    def add_(self, other, *, alpha=1):
        """self += alpha * other, in place (PyTorch's add_: `p.data.add_(p.grad, alpha=-lr)`)."""
        return _inplace.update(self, np.add, _scaled(other, alpha), "add_")

    def sub_(self, other, *, alpha=1):
        return _inplace.update(self, np.subtract, _scaled(other, alpha), "sub_")

    def mul_(self, other):
        return _inplace.update(self, np.multiply, other, "mul_")

    def div_(self, other):
        return _inplace.update(self, np.true_divide, other, "div_")

    def fill_(self, value):
        return _inplace.fill(self, value)

    def copy_(self, source):
        """Copy `source`'s values (broadcast to this shape, cast to this dtype) into this tensor."""
        return _inplace.copy(self, source)

    def __setitem__(self, key, value):
        _inplace.assign(self, key, value)

    # ------------------------------------------------------------------ comparisons (no gradient)
    def __eq__(self, other):
        return _promotion.compare(np.equal, self, other)

    def __ne__(self, other):
        return _promotion.compare(np.not_equal, self, other)

    def __lt__(self, other):
        return _promotion.compare(np.less, self, other)

    def __le__(self, other):
        return _promotion.compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _promotion.compare(np.greater, self, other)

    def __ge__(self, other):
        return _promotion.compare(np.greater_equal, self, other)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __invert__(self):
        if self.dtype.kind not in "biu":
            raise TypeError(f"~ (logical not) needs a bool or integer tensor, got {self.dtype}")
        return Tensor._constant(~self.array)

    def __and__(self, other):
        return _promotion.compare(np.bitwise_and, self, other)

    def __or__(self, other):
        return _promotion.compare(np.bitwise_or, self, other)

    def __xor__(self, other):
        return _promotion.compare(np.bitwise_xor, self, other)

    def logical_not(self):
        return Tensor._constant(np.logical_not(self.array))

    def any(self, dim=None, keepdim=False):
        axes = _arguments.dims(dim, self.ndim, "any")
        return Tensor._constant(np.asarray(self.array.any(axis=axes, keepdims=keepdim)))

    def all(self, dim=None, keepdim=False):
        axes = _arguments.dims(dim, self.ndim, "all")
        return Tensor._constant(np.asarray(self.array.all(axis=axes, keepdims=keepdim)))

    def isnan(self):
        return Tensor._constant(np.isnan(self.array))

    def isfinite(self):
        return Tensor._constant(np.isfinite(self.array))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return bool(np.allclose(self.array, _conversion.plain(other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def equal(self, other):
        return self.shape == _conversion.plain(other).shape and bool(
            np.array_equal(self.array, _conversion.plain(other))
        )

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

    def log1p(self):
        return _ops.unary.Log1p.apply(self._floating())

    def expm1(self):
        return _ops.unary.Expm1.apply(self._floating())

    def floor(self):
        return self if self.dtype.kind in "biu" else _ops.unary.Step.apply(self, rounding=np.floor)

    def ceil(self):
        return self if self.dtype.kind in "biu" else _ops.unary.Step.apply(self, rounding=np.ceil)

    def round(self, decimals=0):
        """Round half to even (as PyTorch and NumPy), to `decimals` places."""
        if self.dtype.kind in "biu" and decimals >= 0:
            return self
        return _ops.unary.Step.apply(self, rounding=lambda x: np.round(x, decimals))

    def clone(self):
        """A copy with its own memory, in the graph (its gradient flows back to this tensor)."""
        return _ops.unary.Clone.apply(self)

    def contiguous(self):
        """This tensor, or a copy laid out row-major in memory when it is not."""
        return self if self.array.flags.c_contiguous else self.clone()

    def cpu(self):
        """This tensor: every tensor lives in the CPU's memory here."""
        return self

    def reciprocal(self):
        return 1 / self

    def sign(self):
        return Tensor._constant(np.sign(self.array))

    def clamp(self, min=None, max=None):
        """Limit each element to [min, max]; a bound may be None. Gradient 1 inside (bounds included)."""
        if min is None and max is None:
            raise ValueError("clamp(): at least one of min and max must be given")
        low, high = _conversion.plain(min), _conversion.plain(max)
        float_bound = any(np.asarray(b).dtype.kind == "f" for b in (low, high) if b is not None)
        # An integer tensor clamped to float bounds becomes the default float dtype, as in PyTorch.
        source = self.to(dtypes.default_float) if self.dtype.kind in "biu" and float_bound else self
        return _ops.unary.Clamp.apply(source, min=low, max=high)

    clip = clamp

    def where(self, condition, other):
        return _ops.indexing.where(condition, self, other)

    def _floating(self):
        """This tensor as a floating one: integer and bool tensors are promoted to float32 (PyTorch)."""
        return self if self.array.dtype.kind == "f" else self.to(dtypes.default_float)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        source = self if dtype is None else self.to(dtype)
        if source.dtype.kind in "biu":
            source = source.to(dtypes.int64)  # PyTorch sums bool and integer tensors as int64
        return _ops.reduce.Sum.apply(source, axes=_arguments.dims(dim, self.ndim, "sum"), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None):
        source = self if dtype is None else self.to(dtype)
        _ops.reduce.require_floating(source, "mean")
        return _ops.reduce.Mean.apply(source, axes=_arguments.dims(dim, self.ndim, "mean"), keepdim=keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """Variance over `dim` with divisor N - correction (default 1, Bessel's correction; unbiased=False
        means correction=0)."""
        _ops.reduce.require_floating(self, "var")
        return _ops.reduce.Var.apply(
            self,
            axes=_arguments.dims(dim, self.ndim, "var"),
            keepdim=keepdim,
            correction=_arguments.correction(unbiased, correction),
        )

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """sqrt(var), with PyTorch's gradient 0 where the spread is 0 (ops/reduce.py, Root)."""
        return _ops.reduce.Root.apply(self.var(dim, unbiased, keepdim, correction=correction), n=2)

    def prod(self, dim=None, keepdim=False):
        axis = None if dim is None else _arguments.dim(dim, self.ndim, "prod")
        source = self if self.dtype.kind == "f" else self.to(dtypes.int64)
        return _ops.reduce.Prod.apply(source, axis=axis, keepdim=keepdim)

    def amax(self, dim=None, keepdim=False):
        return _ops.reduce.extreme(self, _ops.reduce.AMax, dim, keepdim, "amax")

    def amin(self, dim=None, keepdim=False):
        return _ops.reduce.extreme(self, _ops.reduce.AMin, dim, keepdim, "amin")

    def max(self, dim=None, keepdim=False):
        """max() -> the largest element; max(dim) -> (values, indices) along dim; max(other) -> maximum."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return _ops.reduce.extreme(self, _ops.reduce.AMax, None, False, "max")
        return _ops.reduce.extreme_along(self, np.argmax, dim, keepdim, "max")

    def min(self, dim=None, keepdim=False):
        """min() -> the smallest element; min(dim) -> (values, indices) along dim; min(other) -> minimum."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return _ops.reduce.extreme(self, _ops.reduce.AMin, None, False, "min")
        return _ops.reduce.extreme_along(self, np.argmin, dim, keepdim, "min")

    def argmax(self, dim=None, keepdim=False):
        return _ops.reduce.arg_extreme(self, np.argmax, dim, keepdim, "argmax")

    def argmin(self, dim=None, keepdim=False):
        return _ops.reduce.arg_extreme(self, np.argmin, dim, keepdim, "argmin")

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """The p-norm (default Euclidean) over `dim` or every element (ops/reduce.py, norm)."""
        return _ops.reduce.norm(self, p, dim, keepdim, dtype)

    def cumsum(self, dim, dtype=None):
        return _ops.cumulative.cumsum(self, dim, dtype)

    def sort(self, dim=-1, descending=False, stable=False):
        return _ops.sorting.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return _ops.sorting.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return _ops.sorting.topk(self, k, dim, largest, sorted)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return _ops.sorting.unique(self, sorted, return_inverse, return_counts, dim)

    def logsumexp(self, dim, keepdim=False):
        axes = _arguments.dims(dim, self.ndim, "logsumexp")
        return _ops.reduce.LogSumExp.apply(self._floating(), axes=axes, keepdim=keepdim)

    def softmax(self, dim):
        return _ops.softmax.Softmax.apply(self._floating(), axis=_arguments.dim(dim, self.ndim, "softmax"))

    def log_softmax(self, dim):
        return _ops.softmax.LogSoftmax.apply(self._floating(), axis=_arguments.dim(dim, self.ndim, "log_softmax"))

    # ------------------------------------------------------------------ shape (ops/shape.py)
    def reshape(self, *shape):
        return _ops.shape.reshape(self, shape)

    view = reshape

    def view_as(self, other):
        return self.reshape(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops.shape.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        axis = _arguments.dim(dim, self.ndim, "unflatten")
        return self.reshape(self.shape[:axis] + tuple(sizes) + self.shape[axis + 1 :])

    def squeeze(self, dim=None):
        """Drop size-1 dims (all of them, or those in `dim`); a named dim of another size stays (PyTorch)."""
        axes = _arguments.dims(dim, self.ndim, "squeeze")
        return self.reshape(tuple(n for axis, n in enumerate(self.shape) if not (axis in axes and n == 1)))

    def unsqueeze(self, dim):
        return _ops.shape.unsqueeze(self, dim)

    def permute(self, *dims):
        return _ops.shape.permute(self, dims)

    def transpose(self, dim0, dim1):
        return _ops.shape.transpose(self, dim0, dim1)

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
        return _ops.shape.expand(self, sizes)

    def expand_as(self, other):
        return self.expand(other.shape)

    broadcast_to = expand

    def repeat(self, *repeats):
        return _ops.shape.repeat(self, repeats)

    def flip(self, *dims):
        return _ops.shape.flip(self, dims)

    def chunk(self, chunks, dim=0):
        axis = _arguments.dim(dim, self.ndim, "chunk")
        return self.split(-(-self.shape[axis] // chunks), dim)

    def split(self, split_size, dim=0):
        return _ops.shape.split(self, split_size, dim)

    # ------------------------------------------------------------------ selection (ops/indexing.py)
    def __getitem__(self, key):
        return _ops.indexing.index(self, key)

    def masked_fill(self, mask, value):
        """Elements where `mask` (a bool tensor broadcastable to this shape) is True become `value`."""
        return _ops.indexing.masked_fill(self, mask, value)

    def gather(self, dim, index):
        """out[i][j] = self[index[i][j]][j] for dim 0, self[i][index[i][j]] for dim 1 (and so on)."""
        return _ops.indexing.gather(self, dim, index)

    def index_select(self, dim, index):
        """The slices at `index` (a 1-D integer tensor) along `dim`."""
        index = _conversion.plain(index)
        if np.ndim(index) > 1 or np.asarray(index).dtype.kind not in "iu":
            raise TypeError(
                f"index_select(): index must be a 1-D integer tensor, got {np.asarray(index).dtype} "
                f"of shape {np.shape(index)}"
            )
        axis = _arguments.dim(dim, self.ndim, "index_select") or 0
        return self[(slice(None),) * axis + (np.asarray(index).reshape(-1),)]

    def narrow(self, dim, start, length):
        """The `length` elements from `start` along `dim` (a view in PyTorch, a selection here)."""
        axis = _arguments.dim(dim, self.ndim, "narrow")
        size = self.shape[axis]
        start = int(start) + (size if int(start) < 0 else 0)
        if not (0 <= start <= size and 0 <= length <= size - start):
            raise IndexError(f"narrow(): start {start} and length {length} exceed dim {dim} of size {size}")
        return self[(slice(None),) * axis + (slice(start, start + length),)]

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        """A copy with src's elements (or `value`) written at `index` along `dim`: out[index[i][j]][j] =
        src[i][j] for dim 0. Differentiable in self and src."""
        return _ops.indexing.scatter(self, dim, index, src, value, reduce)

    def scatter_add(self, dim, index, src):
        """A copy with src's elements added at `index` along `dim` (repeats accumulate)."""
        return _ops.indexing.scatter(self, dim, index, src, add=True, op="scatter_add")

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return self.copy_(self.detach().scatter(dim, index, _detached(src), value=value, reduce=reduce))

    def scatter_add_(self, dim, index, src):
        return self.copy_(self.detach().scatter_add(dim, index, _detached(src)))

    def index_fill_(self, dim, index, value):
        axis = _arguments.dim(dim, self.ndim, "index_fill_") or 0
        self[(slice(None),) * axis + (_conversion.plain(index),)] = value
        return self

    def masked_fill_(self, mask, value):
        return self.copy_(self.detach().masked_fill(mask, value))

    def clamp_(self, min=None, max=None):
        return self.copy_(self.detach().clamp(min, max))

    # ------------------------------------------------------------------ printing
    def __repr__(self):
        data = self.array
        if data.size == 0 and data.ndim > 1:
            body = f"[], size={data.shape}"
        else:
            # Like PyTorch: whole numbers print as "3.", anything else with four decimals "1.5000".
            finite = data[np.isfinite(data)] if data.dtype.kind == "f" else data
            whole = data.dtype.kind != "f" or bool(np.all(finite == np.round(finite)))
            body = np.array2string(
                data, separator=", ", prefix="tensor(", precision=4, floatmode="maxprec" if whole else "fixed"
            )
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


def _require_ndim(tensor, ndim, op):
    if not isinstance(tensor, Tensor) or tensor.ndim != ndim:
        shape = tensor.shape if isinstance(tensor, Tensor) else type(tensor).__name__
        raise ValueError(f"{op}(): expects {ndim}-D tensors, got {shape}")
    return tensor


def _detached(value):
    return value.detach() if isinstance(value, Tensor) else value


def _trunc_divide(a, b):
    return np.trunc(np.true_divide(a, b)).astype(np.result_type(a, b))


def _scaled(other, alpha):
    """alpha * other for the in-place updates, as an array (the update stays outside the graph)."""
    return _conversion.plain(other) if alpha == 1 else np.multiply(_conversion.plain(other), alpha)


def init_slots(tensor, data, grad_fn):
    """Set every slot of a new Tensor (also used by nn.Parameter, which is a Tensor)."""
    tensor.array = data
    tensor.grad = None
    tensor.grad_fn = grad_fn
    tensor.requires_grad = grad_fn is not None
    tensor._accumulator = None  # weak reference to this leaf's AccumulateGrad node
    tensor._hooks = None  # hooks of a leaf (a non-leaf keeps them on its grad_fn)


def make_tensor(data, grad_fn):
    """A Tensor around `data` without copying or checking: an op's output (grad_fn set) or a constant."""
    tensor = object.__new__(Tensor)
    init_slots(tensor, data, grad_fn)
    return tensor


# Imported last: these modules import Tensor from this one.
from . import conversion as _conversion  # noqa: E402
from . import device as _device  # noqa: E402
from . import inplace as _inplace  # noqa: E402
from . import ops as _ops  # noqa: E402
from . import promotion as _promotion  # noqa: E402
from . import ufuncs as _ufuncs  # noqa: E402
from .autograd import hooks  # noqa: E402
from .ops import arguments as _arguments  # noqa: E402
from .ops.indexing import where  # noqa: E402,F401  (tm.where, and the free functions' old home)
from .ops.join import cat, stack  # noqa: E402,F401
from .ops.matmul import matmul  # noqa: E402,F401
from .ops.reduce import MinMaxResult  # noqa: E402,F401
