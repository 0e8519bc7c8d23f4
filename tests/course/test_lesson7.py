"""Lesson 7: the five lines of a training loop learn, and the profiler sees each part."""

import pytest

from .pages import run_page

pytestmark = pytest.mark.lesson7


def test_the_page_runs_as_written():
    attempted, failed = run_page("lesson7_training_loop.md")
    assert attempted > 10 and failed == 0
