"""Detecting arrays changed in place between forward and backward.

A node that saved an array for backward computes a wrong gradient if that array is later overwritten
(`with no_grad(): w -= 1` before `loss.backward()`). PyTorch reports this; so do we, at almost no cost:

  - a logical clock ticks on every in-place write; the write remembers, for the written array's base
    (the array owning the memory, so writes through any view count), the tick at which it happened;
  - a node that saves arrays remembers the tick at which it was created;
  - before a node's backward runs, any saved array whose base was written after the node was created
    means the node's saved values are stale: backward raises instead of returning a wrong gradient.

When nothing was ever written in place (the usual case), the check is one empty-dict test per node.
"""

import weakref

import numpy as np

clock = 0
_written = {}  # id(base array) -> [tick of last in-place write, weak reference to the base]


def _base(array):
    while array.base is not None and isinstance(array.base, np.ndarray):
        array = array.base
    return array


def mark_written(array):
    """Record an in-place write to `array` (call it after writing)."""
    global clock
    clock += 1
    base = _base(array)
    key = id(base)
    entry = _written.get(key)
    if entry is not None and entry[1]() is base:
        entry[0] = clock
    else:  # forget the entry when the array dies, so a reused id does not inherit it
        _written[key] = [clock, weakref.ref(base, lambda _, key=key: _written.pop(key, None))]


def stale_array(saved, created_at):
    """The first array in `saved` written in place after tick `created_at`, or None."""
    if not _written:
        return None
    for array in saved:
        if isinstance(array, np.ndarray):
            entry = _written.get(id(_base(array)))
            if entry is not None and entry[0] > created_at:
                return array
    return None
