"""Datasets and the DataLoader: batching, shuffling with a seed, collation, splitting, errors."""

import numpy as np
import pytest

import tinygrad_maas as tm
from tinygrad_maas.data import DataLoader, Dataset, TensorDataset, default_collate, random_split


def _dataset(n=10):
    return TensorDataset(tm.arange(n * 2).reshape(n, 2).float(), tm.arange(n))


def test_batches_cover_the_dataset_in_order_with_a_short_last_batch():
    batches = list(DataLoader(_dataset(), batch_size=4))
    assert [y.tolist() for _, y in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].shape == (4, 2) and batches[0][0].dtype == tm.float32
    assert len(DataLoader(_dataset(), batch_size=4)) == 3


def test_drop_last():
    loader = DataLoader(_dataset(), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(y) for _, y in loader] == [4, 4]


def test_shuffling_is_a_permutation_repeatable_with_a_seed():
    def epoch_orders():
        tm.manual_seed(3)
        loader = DataLoader(_dataset(), batch_size=3, shuffle=True)
        return [np.concatenate([y.numpy() for _, y in loader]).tolist() for _ in range(2)]

    orders = epoch_orders()
    first, second = orders
    assert sorted(first) == list(range(10)) and first != list(range(10))
    assert first != second  # a new order each epoch
    assert epoch_orders() == orders  # the same seed, the same orders
    generator = np.random.default_rng(7)
    own = [y.tolist() for _, y in DataLoader(_dataset(), batch_size=10, shuffle=True, generator=generator)]
    assert own == [np.random.default_rng(7).permutation(10).tolist()]


class Pairs(Dataset):
    """A dataset without get_batch: samples are collated one by one."""

    def __len__(self):
        return 3

    def __getitem__(self, index):
        return {"x": np.full(2, index, dtype=np.float32), "label": index, "weight": 0.5, "name": f"s{index}"}


def test_default_collation_of_dict_samples():
    (batch,) = list(DataLoader(Pairs(), batch_size=3))
    assert batch["x"].shape == (3, 2) and batch["label"].dtype == tm.int64 and batch["label"].tolist() == [0, 1, 2]
    assert batch["weight"].dtype == tm.float32 and batch["name"] == ["s0", "s1", "s2"]
    assert default_collate([(1, 2.0), (3, 4.0)])[1].tolist() == [2.0, 4.0]


def test_custom_collate_function():
    loader = DataLoader(_dataset(4), batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2]


def test_random_split_by_lengths_and_fractions():
    tm.manual_seed(0)
    train, test = random_split(_dataset(), [7, 3])
    assert len(train) == 7 and len(test) == 3
    labels = sorted([int(train[i][1].item()) for i in range(7)] + [int(test[i][1].item()) for i in range(3)])
    assert labels == list(range(10))
    parts = random_split(_dataset(), [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    ((batch_x, batch_y),) = list(DataLoader(test, batch_size=3))
    assert batch_x.shape == (3, 2) and batch_y.tolist() == [int(test[i][1].item()) for i in range(3)]


def test_errors():
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(tm.zeros(3, 2), tm.zeros(4))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(_dataset(), batch_size=0)
    with pytest.raises(ValueError, match=r"sum to 9, but the dataset has 10"):
        random_split(_dataset(), [5, 4])
    with pytest.raises(TypeError, match="cannot batch samples of type object"):
        default_collate([object(), object()])


def test_training_with_a_dataloader():
    tm.manual_seed(0)
    x = tm.tensor(np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32))
    y = x @ tm.tensor([[1.0], [-2.0], [0.5]])
    model = tm.nn.Linear(3, 1)
    optimizer = tm.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(20):
        for xb, yb in DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True):
            optimizer.zero_grad()
            tm.nn.functional.mse_loss(model(xb), yb).backward()
            optimizer.step()
    np.testing.assert_allclose(model.weight.array, [[1.0, -2.0, 0.5]], atol=0.01)
