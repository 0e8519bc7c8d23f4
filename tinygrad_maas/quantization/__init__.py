"""int8 quantization: PyTorch's `quantize_dynamic` on the framework's int8 kernels.

    model = tm.quantization.quantize_dynamic(model, {nn.Linear}, dtype=tm.qint8)

Each Linear becomes a DynamicQuantizedLinear: weights stored as int8 with one scale per output channel
(4x fewer bytes), activations quantized per row as they arrive, the product taken in int8 with int32
accumulation (kernels/quantized.py), then scaled back to float32. dynamic.py has the arithmetic.
"""

from .dynamic import DynamicQuantizedLinear, qint8, quantize_dynamic, quantize_per_channel

__all__ = ["DynamicQuantizedLinear", "qint8", "quantize_dynamic", "quantize_per_channel"]
