"""The tutorial's code runs and prints exactly what the page shows."""

import doctest
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_the_backprop_tutorial_runs_as_written():
    result = doctest.testfile(str(DOCS / "tutorial_backprop.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
