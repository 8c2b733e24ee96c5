"""Data parallelism on a one-axis device mesh: the batch is sharded on ``data``, the train state replicated."""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterable, Iterator, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

DATA_AXIS = "data"


def create_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh named ``data`` over ``devices`` (default: every device of every process)."""
    return Mesh(np.asarray(devices if devices is not None else jax.devices()), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def batch_sharded(mesh: Mesh) -> NamedSharding:
    """Leading (batch) axis split over ``data``."""
    return NamedSharding(mesh, P(DATA_AXIS))


def global_batch(local_batch: dict[str, np.ndarray], mesh: Mesh) -> dict[str, jax.Array]:
    """This process's slice of the batch (host numpy) → one global array per key, sharded on ``data``."""
    sharding = batch_sharded(mesh)
    return {k: jax.make_array_from_process_local_data(sharding, np.asarray(v)) for k, v in local_batch.items()}


def prefetch_to_mesh(
    local_batches: Iterable[dict[str, np.ndarray]], mesh: Mesh, *, size: int = 2
) -> Iterator[dict[str, jax.Array]]:
    """``global_batch`` of each local batch, in the input's order; while a batch is in use the transfers of
    the next ``size`` are already under way. Host→device copies are asynchronous, so they run while the
    current step computes and the loop never waits for a copy it could have started earlier. Raises
    ValueError for ``size`` < 1.
    """
    if size < 1:
        raise ValueError(f"size={size}; valid: ≥ 1")
    iterator = iter(local_batches)
    queue = collections.deque(global_batch(batch, mesh) for batch in itertools.islice(iterator, size))
    while queue:
        batch = queue.popleft()
        queue.extend(global_batch(b, mesh) for b in itertools.islice(iterator, 1))
        yield batch
