"""The live gradient noise scale: core.noise.noise_scale of every run as training goes on,
kept for the noise-scale plot (gui.plots.params).  Used by the training worker
(gui.worker), in its thread, at step 0, the last step, and in between at most every
NOISE_EVERY seconds and at most NOISE_SHARE of the training thread's time: one call costs
~0.3 ms at N = 50, H = 2 and ~5 ms at N = 1,000, H = 16 (benchmarked with 16 runs, which
cost about what one does: the per-sample gradients and Hessians are vectorized over the
runs), so ~20 points a second on small data and ~10 at N = 1,000, H = 16.  No Qt here."""
from __future__ import annotations

import time

import numpy as np

from core.noise import noise_scale

NOISE_EVERY = 0.05          # s of training between two measurements (at least)
NOISE_SHARE = 0.05          # and at most this share of the training thread's time
NOISE_POINTS = 4000         # kept at most (then every other one is dropped: the curve keeps its shape)


class NoiseTrack:
    """The noise scale of every run at the steps it was measured at.  ``report()`` is a new
    tuple each time (safe to hand to the GUI thread): (generation, steps (M,), B_simple (M, K),
    B_noise (M, K), ε_max (M, K), ε_opt at the experiment's batch size (M, K), that batch size)."""

    def __init__(self, generation: int, spec, data, batch_size: int | None, every: float = NOISE_EVERY,
                 clock=time.perf_counter):
        self.generation, self.spec, self.data = generation, spec, data
        n = len(data)
        self.batch_size = n if batch_size is None else min(int(batch_size), n)
        self.every, self.clock = every, clock
        self.steps, self.rows = [], []
        self._at = -np.inf
        self._cost = 0.0                # s the last measurement took

    def due(self, force: bool = False) -> bool:
        return force or self.clock() - self._at >= max(self.every, self._cost / NOISE_SHARE)

    def add(self, t: int, theta: np.ndarray) -> tuple:
        """Measure at step ``t`` (parameters ``theta`` (K, P)); return the report."""
        self._at = self.clock()
        if self.steps and self.steps[-1] == t:
            return self.report()
        n = noise_scale(self.spec, theta, self.data.x, self.data.y)
        self._cost = self.clock() - self._at
        self.steps.append(int(t))
        self.rows.append(np.stack([n.simple, n.noise, n.eps_max, n.eps_opt(self.batch_size)]))
        if len(self.steps) > NOISE_POINTS:
            self.steps, self.rows = self.steps[::2], self.rows[::2]
        return self.report()

    def report(self) -> tuple:
        rows = np.array(self.rows)                              # (M, 4, K)
        return (self.generation, np.array(self.steps), rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3],
                self.batch_size)
