"""DistributedSampler (no MPI needed: rank and world size given): disjoint shards that cover the data."""

import pytest

from tinygrad_maas.data import DistributedSampler


@pytest.mark.parametrize("count, replicas", [(10, 2), (10, 3), (7, 4), (2, 3)])
def test_shards_are_disjoint_and_cover_the_data_once_padding_aside(count, replicas):
    shards = [list(DistributedSampler(range(count), replicas, rank, seed=5)) for rank in range(replicas)]
    assert len({len(s) for s in shards}) == 1  # every rank takes the same number of steps
    together = [i for s in shards for i in s]
    assert set(together) == set(range(count))
    assert len(together) - count == (-count) % replicas  # the padding: repeats of the first indices only


def test_drop_last_cuts_the_tail_instead():
    shards = [list(DistributedSampler(range(10), 3, rank, shuffle=False, drop_last=True)) for rank in range(3)]
    assert shards == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]


def test_without_shuffle_the_order_is_pytorchs():
    """PyTorch: indices padded with the first ones, then indices[rank::num_replicas]."""
    shards = [list(DistributedSampler(range(5), 2, rank, shuffle=False)) for rank in range(2)]
    assert shards == [[0, 2, 4], [1, 3, 0]]


def test_every_rank_draws_the_same_permutation_and_set_epoch_changes_it():
    first = [DistributedSampler(range(20), 2, rank, seed=1) for rank in range(2)]
    epoch0 = [list(s) for s in first]
    assert sorted(epoch0[0] + epoch0[1]) == list(range(20))
    for sampler in first:
        sampler.set_epoch(1)
    epoch1 = [list(s) for s in first]
    assert sorted(epoch1[0] + epoch1[1]) == list(range(20)) and epoch1 != epoch0
    assert [list(s) for s in first] == epoch1  # the same epoch gives the same order again


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="rank must be from 0 to 1"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(ValueError, match="num_replicas must be a positive integer"):
        DistributedSampler(range(4), 0, 0)


def test_the_shards_match_pytorchs_when_it_is_installed():
    pytest.importorskip("torch", reason="PyTorch is not installed: compared with literal values above")
    from torch.utils.data import DistributedSampler as TorchSampler

    for count, replicas, drop_last in [(11, 3, False), (11, 3, True), (4, 3, False)]:
        for rank in range(replicas):
            ours = list(DistributedSampler(range(count), replicas, rank, shuffle=False, drop_last=drop_last))
            theirs = list(TorchSampler(range(count), replicas, rank, shuffle=False, drop_last=drop_last))
            assert ours == theirs, (count, replicas, drop_last, rank)
