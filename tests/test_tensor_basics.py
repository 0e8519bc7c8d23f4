"""Creating tensors, their dtypes, conversions and printing."""

import subprocess
import sys

import numpy as np

import tinygrad_maas as tm


def test_python_floats_give_float32_ints_give_int64_bools_give_bool():
    assert tm.tensor([1.0, 2.0]).dtype == tm.float32
    assert tm.tensor([1, 2]).dtype == tm.int64
    assert tm.tensor([True, False]).dtype == tm.bool
    assert tm.tensor(3.5).shape == ()


def test_numpy_arrays_keep_their_dtype_and_are_copied():
    array = np.array([1.0, 2.0])
    t = tm.tensor(array)
    assert t.dtype == tm.float64
    array[0] = 99
    assert t.tolist() == [1.0, 2.0]


def test_from_numpy_shares_memory():
    array = np.array([1.0, 2.0], dtype=np.float32)
    t = tm.from_numpy(array)
    array[0] = 99
    assert t.tolist() == [99.0, 2.0]
    assert t.array is array  # Tensor.array is the ndarray itself


def test_lists_may_hold_zero_dim_tensors():
    assert tm.tensor([tm.tensor(1.0), 2.0]).tolist() == [1.0, 2.0]


def test_filled_tensors():
    assert tm.zeros(2, 3).shape == (2, 3) and tm.zeros((2, 3)).dtype == tm.float32
    assert tm.ones(2, dtype=tm.int64).tolist() == [1, 1]
    assert tm.full((2,), 7).dtype == tm.int64 and tm.full((2,), 0.5).tolist() == [0.5, 0.5]
    assert tm.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    x = tm.tensor([[1.0, 2.0]], dtype=tm.float64)
    assert tm.zeros_like(x).dtype == tm.float64 and tm.ones_like(x).tolist() == [[1.0, 1.0]]


def test_ranges():
    assert tm.arange(4).tolist() == [0, 1, 2, 3] and tm.arange(4).dtype == tm.int64
    assert tm.arange(1, 2, 0.5).tolist() == [1.0, 1.5] and tm.arange(1, 2, 0.5).dtype == tm.float32
    assert tm.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_manual_seed_makes_random_tensors_repeatable():
    tm.manual_seed(7)
    first = (tm.rand(3).tolist(), tm.randn(2, 2).tolist(), tm.randint(0, 10, (5,)).tolist())
    tm.manual_seed(7)
    second = (tm.rand(3).tolist(), tm.randn(2, 2).tolist(), tm.randint(0, 10, (5,)).tolist())
    assert first == second
    assert tm.randn(2).dtype == tm.float32 and tm.randint(5, (3,)).dtype == tm.int64
    assert all(0 <= v < 5 for v in tm.randint(5, (100,)).tolist())


def test_size_shape_and_friends():
    x = tm.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(-1) == 4
    assert x.ndim == 3 and x.dim() == 3 and x.numel() == 24 and len(x) == 2
    assert [row.shape for row in x] == [(3, 4), (3, 4)]


def test_conversions():
    x = tm.tensor([1.5, -2.5])
    assert x.double().dtype == tm.float64 and x.long().tolist() == [1, -2]
    assert x.to(tm.float64).dtype == tm.float64 and x.to(tm.float32) is x
    assert float(tm.tensor([2.5])) == 2.5 and int(tm.tensor(3)) == 3
    assert tm.tensor([[1, 2]]).tolist() == [[1, 2]]
    assert isinstance(x.numpy(), np.ndarray)


def test_casting_to_an_integer_type_leaves_the_graph():
    x = tm.tensor([1.5], requires_grad=True)
    assert not x.long().requires_grad
    assert x.double().requires_grad


def test_repr_looks_like_pytorch():
    assert repr(tm.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(tm.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert repr(tm.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(tm.tensor([1.0], dtype=tm.float64)) == "tensor([1.], dtype=tm.float64)"
    assert repr(tm.tensor([1.0], requires_grad=True) * 2) == "tensor([2.], grad_fn=<MulBackward>)"
    assert repr(tm.zeros(0, 3)) == "tensor([], size=(0, 3))"


def test_item_assignment_outside_the_graph():
    x = tm.zeros(2, 3)
    x[0] = 1.0
    x[1, tm.tensor([0, 2])] = tm.tensor([5.0, 6.0])
    assert x.tolist() == [[1.0, 1.0, 1.0], [5.0, 0.0, 6.0]]


def test_split_and_chunk():
    x = tm.arange(5)
    assert [p.tolist() for p in x.split(2)] == [[0, 1], [2, 3], [4]]
    assert [p.tolist() for p in x.split([1, 4])] == [[0], [1, 2, 3, 4]]
    assert [p.tolist() for p in x.chunk(2)] == [[0, 1, 2], [3, 4]]


def test_numpy_array_on_the_left_of_an_operator_stays_in_the_graph():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(y, tm.Tensor) and y.requires_grad


def test_importing_the_package_loads_no_numba():
    # numba is imported (and kernels compiled) only when a kernel first runs, so import stays fast.
    modules = subprocess.run(
        [sys.executable, "-c", "import sys, tinygrad_maas; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "tinygrad_maas" in modules and "numba" not in modules
