"""Feeding data to training: datasets and the DataLoader (torch.utils.data's names)."""

from . import datasets  # noqa: F401
from .dataloader import DataLoader, default_collate  # noqa: F401
from .dataset import Dataset, Subset, TensorDataset, random_split  # noqa: F401
