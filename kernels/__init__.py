"""numba kernels, installed as `tinygrad_maas.kernels`: the fast path of the ops.

Each module here has a NumPy twin with the same functions and signatures in `tinygrad_maas/reference/`,
which is the readable truth; tests assert the two agree. Nothing in this package is imported by
`import tinygrad_maas`: `tinygrad_maas.backend` imports a kernel module the first time an op needs it, and
numba compiles each kernel on its first call (cached on disk with cache=True).

Every kernel is compiled with error_model="numpy": a division by zero gives inf/nan as in NumPy (and as in
the twins) instead of raising, and, more importantly for speed, no zero check sits inside the loops. With
numba's default ("python") that check is a branch on every division, which stops LLVM from vectorizing the
loop (docs/kernels.md, "Recurrent cells", has the measured difference).
"""
