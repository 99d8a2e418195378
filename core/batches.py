"""The order in which mini-batch gradient descent visits the samples.

Each epoch is one ``permutation(N)`` of the batch generator, cut into consecutive batches
of B samples (the last one smaller when B does not divide N), so an epoch takes
``ceil(N/B)`` updates.  The generator is the experiment's third seed stream::

    rng = numpy.random.default_rng(numpy.random.SeedSequence(seed).spawn(3)[2])
    for epoch in range(epochs):
        order = rng.permutation(N)
        batches = [order[i:i + B] for i in range(0, N, B)]

Update t + 1 (t = 0, 1, …) uses batch t % ceil(N/B) of epoch t // ceil(N/B).  Every run of
an experiment sees the same batches.  With B ≥ N (or None) there are no batches: every
update sees all the data in its stored order, and the generator is never drawn from.
"""
from __future__ import annotations

import math

import numpy as np


class BatchOrder:
    """The indices of the batch of every update, drawn one epoch at a time, in order."""

    def __init__(self, n_samples: int, batch_size: int, rng: np.random.Generator):
        self.n, self.size, self.rng = int(n_samples), int(batch_size), rng
        self.per_epoch = math.ceil(self.n / self.size)
        self._epoch, self._order = -1, None

    def indices(self, t: int) -> np.ndarray:
        """Sample indices of the batch update t + 1 uses (its gradient is taken at θ_t).
        Epochs are drawn in order: t may only go forward (or stay within the current epoch)."""
        epoch, j = divmod(int(t), self.per_epoch)
        while self._epoch < epoch:
            self._order = self.rng.permutation(self.n)
            self._epoch += 1
        if epoch != self._epoch:
            raise ValueError(f"BatchOrder: epoch {epoch} was drawn already (now at {self._epoch})")
        return self._order[j * self.size:(j + 1) * self.size]


def batches(n_samples: int, batch_size: int, rng: np.random.Generator, epochs: int) -> list:
    """Every batch of ``epochs`` epochs, as the README writes it (the tests' oracle)."""
    out = []
    for _ in range(epochs):
        order = rng.permutation(n_samples)
        out += [order[i:i + batch_size] for i in range(0, n_samples, batch_size)]
    return out
