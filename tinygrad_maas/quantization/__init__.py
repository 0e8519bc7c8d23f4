"""int8 quantization: PyTorch's `quantize_dynamic` on the framework's int8 kernels.

    model = tm.quantization.quantize_dynamic(model, {nn.Linear}, dtype=tm.qint8)

Each Linear becomes a DynamicQuantizedLinear: weights stored as int8 with one scale per output channel
(4x fewer bytes), activations quantized per row as they arrive, the product taken in int8 with int32
accumulation (kernels/quantized.py), then scaled back to float32. dynamic.py has the arithmetic.

    model = tm.quantization.quantize_static(model, calibration_batches)

quantizes Conv2d and Linear layers with input scales fixed beforehand on calibration data (static.py).
"""

from .dynamic import DynamicQuantizedLinear, qint8, quantize_dynamic, quantize_per_channel
from .static import StaticQuantizedConv2d, StaticQuantizedLinear, quantize_static

__all__ = [
    "DynamicQuantizedLinear",
    "StaticQuantizedConv2d",
    "StaticQuantizedLinear",
    "qint8",
    "quantize_dynamic",
    "quantize_per_channel",
    "quantize_static",
]
