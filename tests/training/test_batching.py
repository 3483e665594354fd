"""Length-grouped batching: every post once per epoch, similar lengths together, order varies."""

import random

import torch

from training.train import batches_per_epoch, length_grouped_batches


def test_every_index_once_and_count_matches() -> None:
    lengths = [random.Random(i).randint(5, 500) for i in range(1234)]
    batches = length_grouped_batches(lengths, 16, torch.Generator().manual_seed(0), group=10)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(1234))
    assert len(batches) == batches_per_epoch(1234, 16, group=10)
    assert all(len(b) <= 16 for b in batches)


def test_batches_pad_less_than_random_order() -> None:
    lengths = [random.Random(i).randint(5, 500) for i in range(2000)]
    grouped = length_grouped_batches(lengths, 16, torch.Generator().manual_seed(1))
    order = torch.randperm(2000, generator=torch.Generator().manual_seed(1)).tolist()
    shuffled = [order[i : i + 16] for i in range(0, 2000, 16)]

    def padded(batches):
        return sum(max(lengths[i] for i in b) * len(b) for b in batches)

    assert padded(grouped) < 0.8 * padded(shuffled)


def test_order_changes_between_epochs() -> None:
    lengths = list(range(400))
    generator = torch.Generator().manual_seed(2)
    assert length_grouped_batches(lengths, 8, generator) != length_grouped_batches(lengths, 8, generator)
