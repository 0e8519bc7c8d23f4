"""A source checkout runs without being installed: kernels/ (beside the package) is found as
tinygrad_maas.kernels, as after an install."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import sys
# hide any installed copy (and an editable install's import hook): only the checkout may be found
def module_of(finder):  # finders are instances or, like setuptools' editable hook, classes
    return (finder.__module__ if isinstance(finder, type) else type(finder).__module__).lower()
sys.meta_path = [finder for finder in sys.meta_path if "editable" not in module_of(finder)]
sys.path.insert(0, sys.argv[1])
import tinygrad_maas as tm, tinygrad_maas.nn.functional as F
assert tm.__file__.startswith(sys.argv[1]), tm.__file__
tm.backend.use("numba")
print(F.max_pool2d(tm.arange(16.0).reshape(1, 1, 4, 4), 2).tolist())
"""


def test_a_copy_of_the_checkout_runs_its_numba_kernels(tmp_path):
    checkout = tmp_path / "checkout"
    for folder in ("tinygrad_maas", "kernels"):
        shutil.copytree(ROOT / folder, checkout / folder, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(checkout)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[[[[5.0, 7.0], [13.0, 15.0]]]]"
