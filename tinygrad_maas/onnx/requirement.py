"""The `onnx` package, imported only when ONNX is used (it is an optional extra)."""


def onnx_package():
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "tm.onnx needs the onnx package: pip install 'tinygrad_maas[onnx]' (or pip install onnx)"
        ) from None
    return onnx
