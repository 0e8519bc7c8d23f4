"""Run a course page's examples as doctests: what the page shows is what the code does."""

import doctest
from pathlib import Path

COURSE = Path(__file__).resolve().parents[2] / "docs" / "course"


def run_page(name):
    """Doctest docs/course/<name>; returns (examples run, examples failed)."""
    result = doctest.testfile(str(COURSE / name), module_relative=False, optionflags=doctest.ELLIPSIS)
    return result.attempted, result.failed
