"""pytest-benchmark: one training step of each reference workload (DESIGN.md), tinygrad_maas and, when
installed, PyTorch.

    python -m pytest benchmarks/test_workloads.py --benchmark-columns=median,iqr,rounds
"""

import pytest

import tinygrad_maas as tm
from benchmarks.alternate import optional_torch
from benchmarks.reference_workloads import NAMES, Framework, build


@pytest.mark.parametrize("name", NAMES)
def test_tinygrad_maas_step(benchmark, name):
    step, _ = build(Framework(tm), name)
    step()  # compile kernels outside the timing
    benchmark(step)


@pytest.mark.parametrize("name", NAMES)
def test_pytorch_step(benchmark, name):
    torch = optional_torch()
    if torch is None:
        pytest.skip("PyTorch is not installed (pip install torch==2.13.0)")
    step, _ = build(Framework(torch), name)
    step()
    benchmark(step)
