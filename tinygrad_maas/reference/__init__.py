"""NumPy reference twins of the numba kernels in `tinygrad_maas.kernels`: same functions, same
signatures, written for reading. `tm.backend.use("numpy")` runs the whole framework on these."""
