"""no_grad / enable_grad / set_grad_enabled, and in-place updates (the hand-written SGD step)."""

import threading

import pytest

import tinygrad_maas as tm


def test_no_grad_records_nothing():
    x = tm.ones(3, requires_grad=True)
    with tm.no_grad():
        y = x * 2 + 1
    assert not y.requires_grad and y.grad_fn is None


def test_no_grad_as_a_decorator():
    @tm.no_grad()
    def predict(x):
        return x * 2

    assert predict(tm.ones(3, requires_grad=True)).grad_fn is None
    assert tm.is_grad_enabled()


def test_enable_grad_inside_no_grad_records_again():
    x = tm.ones(3, requires_grad=True)
    with tm.no_grad():
        with tm.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_set_grad_enabled_as_call_and_context():
    with tm.set_grad_enabled(False):
        assert not tm.is_grad_enabled()
    assert tm.is_grad_enabled()
    tm.set_grad_enabled(False)
    try:
        assert not tm.is_grad_enabled()
    finally:
        tm.set_grad_enabled(True)


def test_grad_mode_is_per_thread():
    seen = []
    with tm.no_grad():
        worker = threading.Thread(target=lambda: seen.append(tm.is_grad_enabled()))
        worker.start()
        worker.join()
    assert seen == [True]


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ValueError):
        with tm.no_grad():
            raise ValueError("boom")
    assert tm.is_grad_enabled()


def test_hand_written_sgd_step_updates_the_leaf_in_place():
    w = tm.tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    array_before = w.array
    with tm.no_grad():
        w -= 0.1 * w.grad
    assert w.array is array_before  # same array, as PyTorch updates the same storage
    assert w.tolist() == pytest.approx([0.8, -1.6])
    assert w.requires_grad and w.is_leaf


def test_in_place_update_of_a_leaf_requiring_grad_is_refused_while_recording():
    w = tm.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*no_grad"):
        w += 1


def test_in_place_ops_change_memory_shared_with_numpy():
    array = tm.zeros(3).numpy()
    t = tm.from_numpy(array)
    t += 1
    t *= 3
    t /= 2
    t -= 0.5
    assert array.tolist() == [1.0, 1.0, 1.0]


def test_in_place_float_into_an_int_tensor_is_refused():
    t = tm.tensor([1, 2])
    with pytest.raises(TypeError, match="cannot be stored in this int64 tensor"):
        t += 0.5


def test_changing_a_saved_array_before_backward_is_detected():
    w = tm.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()  # Mul saved w's array
    with tm.no_grad():
        w -= 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_changing_an_array_no_node_saved_is_fine():
    w = tm.tensor([1.0, 2.0], requires_grad=True)
    loss = (w + 1).sum()  # Add saves nothing
    with tm.no_grad():
        w -= 1
    loss.backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_writing_through_a_view_counts_as_changing_the_base():
    w = tm.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    loss = (w * w).sum()
    with tm.no_grad():
        w[0] = 0.0
    with pytest.raises(RuntimeError, match="in-place"):
        loss.backward()
