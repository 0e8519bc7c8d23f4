"""Keeping freed memory for reuse, so a training step does not map fresh pages for its arrays every time.

glibc's malloc hands out arrays larger than a threshold (about 128 KiB to start with) as fresh memory
maps and unmaps them when freed; the next step's arrays of the same size then page-fault on every 4 KiB
page they touch. A training step allocates tens of megabytes of such arrays (im2col columns, activations,
gradients), so that cost is large (measured on the cnn workload's second conv layer: about half its
time; benchmarks/compare_conv.py, docs/kernels.md, "Memory: reusing freed arrays"). The settings raise
the map threshold to glibc's maximum (32 MiB), so arrays up to that size come from the heap, and keep up
to 256 MiB of freed heap instead of returning it at once: resident memory stays higher by up to that much
in exchange.

Applied when tinygrad_maas is imported, on Linux with glibc only. TINYGRAD_MAAS_MALLOC_TUNING=0 leaves
malloc alone (MALLOC_MMAP_THRESHOLD_ and friends, set by you, are respected either way: glibc reads them
at start-up, and this module does nothing when any of them is set).
"""

import os
import platform

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3  # mallopt parameter numbers (malloc.h)
_SETTINGS = (
    (_M_MMAP_THRESHOLD, 32 * 1024 * 1024),
    (_M_TRIM_THRESHOLD, 256 * 1024 * 1024),
    (_M_TOP_PAD, 64 * 1024 * 1024),
)
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")

tuned = False  # whether tune_allocator() changed malloc's settings in this process


def tune_allocator():
    """Apply the settings above where they apply; returns whether malloc was tuned."""
    global tuned
    if os.environ.get("TINYGRAD_MAAS_MALLOC_TUNING", "1") == "0" or any(v in os.environ for v in _USER_SETTINGS):
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    tuned = all(mallopt(parameter, value) == 1 for parameter, value in _SETTINGS)
    return tuned


def release_free_memory():
    """Give the heap's free pages back to the system now (glibc's malloc_trim); returns whether it ran.

    The settings above keep up to 256 MiB of freed memory for the next training step. A server between
    bursts of requests wants the opposite: it calls this when it has been idle for a moment, so its resident
    memory returns to where it was before the burst."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    import ctypes

    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return True
