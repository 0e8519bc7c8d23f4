"""The docs hold: the tutorial's code runs and prints exactly what the page shows; the architecture guide names
files that exist."""

import doctest
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_the_backprop_tutorial_runs_as_written():
    result = doctest.testfile(str(DOCS / "tutorial_backprop.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


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
