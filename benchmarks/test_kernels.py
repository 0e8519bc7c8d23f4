"""pytest-benchmark: every numba kernel against its NumPy twin, on the reference workloads' shapes.

    python -m pytest benchmarks/test_kernels.py --benchmark-columns=median,iqr,rounds --benchmark-group-by=param:case

Each case runs once with the numba kernel and once with the NumPy twin; group by case to read the pair.
"""

import numpy as np
import pytest

from benchmarks import conv_workloads, recurrent_workloads
from tinygrad_maas.kernels import attention as numba_attention
from tinygrad_maas.kernels import conv as numba_conv
from tinygrad_maas.kernels import conv_direct as numba_conv_direct
from tinygrad_maas.kernels import conv_epilogue as numba_conv_epilogue
from tinygrad_maas.kernels import elementwise as numba_elementwise
from tinygrad_maas.kernels import embedding as numba_embedding
from tinygrad_maas.kernels import matmul as numba_matmul
from tinygrad_maas.kernels import normalization as numba_normalization
from tinygrad_maas.kernels import pool as numba_pool
from tinygrad_maas.kernels import quantized as numba_quantized
from tinygrad_maas.kernels import recurrent as numba_recurrent
from tinygrad_maas.kernels import softmax as numba_softmax
from tinygrad_maas.ops.pool import average_pool_windows
from tinygrad_maas.reference import attention as numpy_attention
from tinygrad_maas.reference import conv as numpy_conv
from tinygrad_maas.reference import conv_direct as numpy_conv_direct
from tinygrad_maas.reference import conv_epilogue as numpy_conv_epilogue
from tinygrad_maas.reference import elementwise as numpy_elementwise
from tinygrad_maas.reference import embedding as numpy_embedding
from tinygrad_maas.reference import matmul as numpy_matmul
from tinygrad_maas.reference import normalization as numpy_normalization
from tinygrad_maas.reference import pool as numpy_pool
from tinygrad_maas.reference import quantized as numpy_quantized
from tinygrad_maas.reference import recurrent as numpy_recurrent
from tinygrad_maas.reference import softmax as numpy_softmax

RNG = np.random.default_rng(0)
F32 = np.float32


def _conv_case():
    x, _, _ = conv_workloads.arrays("cnn_layer2")
    geometry = (3, 3, 1, 1, 1, 1, 11, 11)
    cols = numpy_conv.im2col(x, *geometry)
    return x, geometry, cols


X_CONV, GEOMETRY, COLS = _conv_case()
X_POOL = RNG.standard_normal((64, 32, 26, 26)).astype(F32)
POOL_WINDOWS = [average_pool_windows(26, 2, 2, 0, False, 13)[:2] for _ in range(2)]
PRODUCT = np.ascontiguousarray(X_POOL.transpose(1, 0, 2, 3))  # cnn's first layer as its product leaves it
WHERE = numpy_conv_epilogue.bias_relu_max_pool_2x2(PRODUCT, np.zeros(32, F32))[1]
X_LENET = RNG.standard_normal((64, 3, 32, 32)).astype(F32)
W_LENET = RNG.standard_normal((6, 3, 5, 5)).astype(F32)
G_LENET = RNG.standard_normal((6, 64, 28, 28)).astype(F32)  # dL/dproduct of lenet's first layer
X_LENET2 = RNG.standard_normal((64, 6, 14, 14)).astype(F32)  # lenet's second layer: outputs 10 wide
W_LENET2 = RNG.standard_normal((16, 6, 5, 5)).astype(F32)
G_LENET2 = RNG.standard_normal((16, 64, 10, 10)).astype(F32)
INT8_ROWS = RNG.integers(-127, 128, (768, 384)).astype(np.int8)  # a MiniLM batch of 32 against its MLP's first layer
INT8_WEIGHT = RNG.integers(-127, 128, (1536, 384)).astype(np.int8)
INT8_ROW_SCALE, INT8_SCALE = RNG.random(768).astype(F32), RNG.random(1536).astype(F32)
INT8_BIAS = RNG.random(1536).astype(F32)
PACKED = {module: module.pack_int8_weight(INT8_WEIGHT) for module in (numba_quantized, numpy_quantized)}
FLOAT_ROWS, FLOAT_WEIGHT = INT8_ROWS.astype(F32), INT8_WEIGHT.astype(F32)
HIDDEN = RNG.standard_normal((704, 384)).astype(F32)  # MiniLM's hidden states for a batch of 32 (704 tokens)
HIDDEN[:, [62, 223]] *= 20  # two outlier features, as the model has
INTERMEDIATE = RNG.standard_normal((704, 1536)).astype(F32)
LOGITS = RNG.standard_normal((128, 10)).astype(F32)
TARGETS = RNG.integers(0, 10, 128)
TOKENS = RNG.integers(0, 10000, 32 * 100)
TOKEN_GRAD = RNG.standard_normal((32 * 100, 128)).astype(F32)
H = recurrent_workloads.HIDDEN
CELL = [RNG.standard_normal(s).astype(F32) for s in ((32, 3 * H), (32, 3 * H), (32, H))]
HIDDEN_MLP, HIDDEN_MLP_GRAD = RNG.standard_normal((2, 128, 256)).astype(F32)  # the mlp's first hidden layer
LOGITS_LSE = np.log(np.exp(LOGITS).sum(axis=1))
ROW_GRADS = np.full(128, 1 / 128, F32)
MATRICES = [RNG.standard_normal((256, 256)).astype(F32) for _ in range(2)]


def _heads(batch, length):
    """MiniLM's queries, keys and values (B, 12 heads, L, 32) as its layers make them: views of (B, L, 12, 32)
    arrays; and Hugging Face's padding mask (B, 1, 1, L) with the last sentence's last 5 keys blocked."""
    q, k, v = (RNG.standard_normal((batch, length, 12, 32)).astype(F32).transpose(0, 2, 1, 3) for _ in range(3))
    mask = np.zeros((batch, 1, 1, length), F32)
    mask[-1, ..., -5:] = np.finfo(F32).min
    return q, k, v, mask


SENTENCE_HEADS, BATCH_HEADS = _heads(1, 13), _heads(32, 22)

CASES = {
    "im2col_cnn_layer2": lambda k: k["conv"].im2col(X_CONV, *GEOMETRY),
    "col2im_cnn_layer2": lambda k: k["conv"].col2im(COLS, X_CONV.shape, *GEOMETRY),
    "max_pool_2x2_64x32x26x26": lambda k: k["pool"].window_max(X_POOL, 2, 2, 2, 2, 1, 1, 13, 13),
    "direct_product_lenet_layer1": lambda k: k["conv_direct"].direct_product(X_LENET, W_LENET),
    "direct_weight_grad_lenet_layer1": lambda k: k["conv_direct"].direct_weight_grad(X_LENET, G_LENET, 5, 5),
    "direct_product_lenet_layer2": lambda k: k["conv_direct"].direct_product(X_LENET2, W_LENET2),
    "direct_weight_grad_lenet_layer2": lambda k: k["conv_direct"].direct_weight_grad(X_LENET2, G_LENET2, 5, 5),
    "bias_relu_max_pool_2x2_32x64x26x26": lambda k: k["conv_epilogue"].bias_relu_max_pool_2x2(
        PRODUCT, np.zeros(32, F32)
    ),
    "bias_relu_max_pool_2x2_backward_32x64x26x26": lambda k: k["conv_epilogue"].bias_relu_max_pool_2x2_backward(
        X_POOL[:, :, :13, :13], WHERE, PRODUCT.shape
    ),
    "avg_pool_2x2_64x32x26x26": lambda k: k["pool"].window_average(
        X_POOL, *POOL_WINDOWS[0], *POOL_WINDOWS[1], np.full((13, 13), 4.0)
    ),
    "log_softmax_128x10": lambda k: k["softmax"].log_softmax(LOGITS),
    "cross_entropy_128x10": lambda k: k["softmax"].cross_entropy(LOGITS, TARGETS, np.ones(10, F32), -100, 0.0),
    "cross_entropy_backward_128x10": lambda k: k["softmax"].cross_entropy_backward(
        LOGITS, TARGETS, np.ones(10, F32), -100, 0.0, LOGITS_LSE, ROW_GRADS
    ),
    "relu_128x256": lambda k: k["elementwise"].relu(HIDDEN_MLP),
    "relu_backward_128x256": lambda k: k["elementwise"].keep_positive(HIDDEN_MLP, HIDDEN_MLP_GRAD),
    "embedding_backward_3200x128": lambda k: k["embedding"].embedding_backward(TOKEN_GRAD, TOKENS, 10000),
    "gru_cell_32x64": lambda k: k["recurrent"].gru_cell(
        *CELL, np.empty((32, 3 * H), F32), np.empty((32, H), F32), np.empty((32, H), F32)
    ),
    "matmul_256": lambda k: k["matmul"].matmul(*MATRICES),
    "int8_linear_768x384x1536": lambda k: k["quantized"].int8_linear_packed(
        INT8_ROWS, INT8_ROW_SCALE, PACKED[k["quantized"]], INT8_SCALE, INT8_BIAS
    ),
    "float32_linear_768x384x1536 (BLAS, for comparison)": lambda k: FLOAT_ROWS @ FLOAT_WEIGHT.T + INT8_BIAS,
    "quantize_rows_with_outliers_704x384": lambda k: k["quantized"].quantize_rows_with_outliers(HIDDEN, 6.0),
    "gelu_704x1536": lambda k: k["elementwise"].gelu(INTERMEDIATE),
    "layer_norm_704x384": lambda k: k["normalization"].layer_norm_rows(HIDDEN, np.ones(384), np.zeros(384), 1e-12),
    "attention_1x12x13x32": lambda k: k["attention"].attention(*SENTENCE_HEADS, 32**-0.5),
    "attention_32x12x22x32": lambda k: k["attention"].attention(*BATCH_HEADS, 32**-0.5),
}
IMPLEMENTATIONS = {
    "numba": {
        "attention": numba_attention,
        "conv": numba_conv,
        "conv_epilogue": numba_conv_epilogue,
        "elementwise": numba_elementwise,
        "normalization": numba_normalization,
        "conv_direct": numba_conv_direct,
        "pool": numba_pool,
        "softmax": numba_softmax,
        "embedding": numba_embedding,
        "recurrent": numba_recurrent,
        "matmul": numba_matmul,
        "quantized": numba_quantized,
    },
    "numpy": {
        "attention": numpy_attention,
        "conv": numpy_conv,
        "conv_epilogue": numpy_conv_epilogue,
        "elementwise": numpy_elementwise,
        "normalization": numpy_normalization,
        "conv_direct": numpy_conv_direct,
        "pool": numpy_pool,
        "softmax": numpy_softmax,
        "embedding": numpy_embedding,
        "recurrent": numpy_recurrent,
        "matmul": numpy_matmul,
        "quantized": numpy_quantized,
    },
}


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("case", CASES)
def test_kernel(benchmark, case, implementation):
    run = CASES[case]
    kernels = IMPLEMENTATIONS[implementation]
    run(kernels)  # compile (numba) outside the timing
    benchmark(run, kernels)
