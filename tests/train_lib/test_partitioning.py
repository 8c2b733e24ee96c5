"""train_lib.partitioning.prefetch_to_mesh: global batches in order, transfers started ahead."""

import numpy as np
import pytest


from train_lib import partitioning


def _local_batches(n):
    for i in range(n):
        yield {"image": np.full((8, 2, 2, 3), i, np.uint8), "label": np.arange(8, dtype=np.int32) + i}


@pytest.mark.parametrize("size", [1, 2, 3])
def test_batches_come_in_order_sharded_on_data(size):
    mesh = partitioning.create_mesh()
    batches = list(partitioning.prefetch_to_mesh(_local_batches(5), mesh, size=size))
    assert [int(b["image"][0, 0, 0, 0]) for b in batches] == [0, 1, 2, 3, 4]
    assert all(b["image"].sharding == partitioning.batch_sharded(mesh) for b in batches)
    np.testing.assert_array_equal(batches[3]["label"], np.arange(8) + 3)


def test_transfers_run_ahead_of_the_consumer():
    pulled = []

    def source():
        for batch in _local_batches(4):
            pulled.append(int(batch["image"][0, 0, 0, 0]))
            yield batch

    batches = partitioning.prefetch_to_mesh(source(), partitioning.create_mesh(), size=2)
    next(batches)
    assert pulled == [0, 1, 2]  # the current batch, the one in flight and the next one started
    assert len(list(batches)) == 3


def test_bad_size_is_refused():
    with pytest.raises(ValueError, match="size=0; valid: ≥ 1"):
        next(partitioning.prefetch_to_mesh(_local_batches(1), partitioning.create_mesh(), size=0))
