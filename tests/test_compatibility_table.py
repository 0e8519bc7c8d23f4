"""docs/compatibility.md tells users which PyTorch and Keras names exist here. Each row's second column
names one of them: a row marked yes or differs must name something that exists, a row marked missing
something that does not, so the page stays true as names are added."""

from pathlib import Path

import tinygrad_maas
from tinygrad_maas import keras

PAGE = Path(__file__).resolve().parent.parent / "docs" / "compatibility.md"


def rows():
    for line in PAGE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[2] in ("yes", "differs", "missing"):
            yield cells[1].strip("`"), cells[2]


def resolve(name):
    root, _, rest = name.partition(".")
    target = {"tm": tinygrad_maas, "keras": keras}[root]
    for part in rest.split("."):
        if not hasattr(target, part):
            return False
        target = getattr(target, part)
    return True


def test_the_table_has_rows():
    assert len(list(rows())) > 40


def test_every_name_the_table_promises_exists_and_every_missing_one_does_not():
    wrong = [(name, status) for name, status in rows() if resolve(name) != (status != "missing")]
    assert wrong == []
