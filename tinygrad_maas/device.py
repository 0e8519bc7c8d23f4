"""Devices, PyTorch's way of saying where a tensor lives. Here every tensor lives in the CPU's memory.

PyTorch programs start with `device = torch.device("cuda" if torch.cuda.is_available() else "cpu")` and
move models and batches with `.to(device)`. The same lines run here: `tm.cuda.is_available()` is False,
`tm.device("cpu")` is accepted wherever PyTorch takes a device, and moving to a device this framework does
not have (CUDA, MPS) is an error that says so, instead of a silent no-op.
"""

import types

_TYPES = ("cpu", "cuda", "mps", "xpu", "meta")


class device:
    """A device: its `type` ("cpu", "cuda", ...) and optional `index`, as torch.device("cuda:1")."""

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif not isinstance(type, str):
            raise TypeError(f"device(): expected a string such as 'cpu', got {type!r}")
        elif ":" in type:
            type, _, number = type.partition(":")
            if not number.isdigit() or index is not None:
                raise ValueError(f"device(): invalid device string {type}:{number}")
            index = int(number)
        if type not in _TYPES:
            raise ValueError(f"device(): unknown device type {type!r}; expected one of {', '.join(_TYPES)}")
        self.type, self.index = type, index

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (TypeError, ValueError):
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"


CPU = device("cpu")


def is_device(value):
    """Whether a `.to()` argument names a device (a device, or a string such as 'cpu' or 'cuda:0')."""
    return isinstance(value, device) or (isinstance(value, str) and value.partition(":")[0] in _TYPES)


def to_arguments(args, dtype, device, op):
    """The dtype of a `.to(*args, dtype=, device=)` call (None: keep it), after checking its device: each
    positional argument is a device, a tensor (its dtype) or a dtype, as PyTorch reads them."""
    for arg in args:
        if is_device(arg):
            device = arg
        elif hasattr(arg, "grad_fn"):  # a tensor: take its dtype
            dtype = arg.dtype
        else:
            dtype = arg
    if device is not None:
        require_cpu(device, op)
    return dtype


def require_cpu(where, op):
    """Accept the CPU; refuse any other device with an error that says what is available."""
    if device(where).type != "cpu":
        raise RuntimeError(
            f"{op}(): tinygrad_maas runs on the CPU only, not on {str(device(where))!r}; choose the device as "
            "PyTorch programs do, device = 'cuda' if tm.cuda.is_available() else 'cpu' (here: 'cpu')"
        )


cuda = types.SimpleNamespace(is_available=lambda: False, device_count=lambda: 0)
mps = types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
backends = types.SimpleNamespace(mps=mps)
accelerator = types.SimpleNamespace(is_available=lambda: False, current_accelerator=lambda: None)
