"""Lesson 3: the engine's order, accumulation, freeing and hooks."""

import pytest

import tinygrad_maas as tm

from .pages import run_page

pytestmark = pytest.mark.lesson3


def test_the_page_runs_as_written():
    attempted, failed = run_page("lesson3_backward_engine.md")
    assert attempted > 5 and failed == 0


def test_every_node_comes_before_the_nodes_it_reads_from():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    h = (x * 2).tanh()
    loss = (h * x + h.exp()).sum()
    order = tm.autograd.topological_order(loss)
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for child in node.next_nodes:
            if child is not None:
                assert position[child] > position[node]


def test_a_diamond_sums_both_paths():
    x = tm.tensor(3.0, requires_grad=True)
    a, b = x * 2, x * 5
    (a + b).backward()
    assert x.grad.item() == 7.0


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert x.grad.tolist() == [4.0, 8.0]
