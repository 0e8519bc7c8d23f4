"""numba kernels, installed as `tinygrad_maas.kernels`: the fast path of the ops.

Each module here has a NumPy twin with the same functions and signatures in `tinygrad_maas/reference/`,
which is the readable truth; tests assert the two agree. Nothing in this package is imported by
`import tinygrad_maas`: `tinygrad_maas.backend` imports a kernel module the first time an op needs it, and
numba compiles each kernel on its first call (cached on disk with cache=True).
"""
