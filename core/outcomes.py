"""What each run is doing: converging, slow, oscillating or diverged.

The rules, applied to every run after every batch of steps (W = the last 50 steps,
or all of them early on):

* **diverged** — either
  - *blew up*: the loss stopped being finite or passed the divergence bound,
    ``DIVERGENCE_FACTOR × max(initial loss, mean(y²))`` (mean(y²) is the loss of
    the prediction 0, so the bound follows the scale of the data).  The run stops
    there, keeping its last parameters whose loss was within the bound; its step is
    the step of the blow-up.  Final.
  - *climbed*: every loss in W is above the run's starting loss — gradient descent
    is moving away from the minimum, though the numbers stay finite (the tutorial's
    η = 1.0 cycles at a loss of 469 after starting at 0.26).  The run goes on, and
    the label changes if the loss comes back below its start (a "catapult"); its
    step is the first step of the current stretch above the start.
* **oscillating** — within W, the loss rose on at least 25% of the steps (a rise
  counts when it exceeds 1e-12 of the loss plus the round-off floor
  ``1e-24 × mean(y²)``, so a run resting at machine precision is not oscillating), or the
  parameter update reversed direction (Δθₜ·Δθₜ₋₁ < 0) on at least half the steps
  while still moving (‖Δθ‖ > 1e-9·(1 + ‖θ‖)).  The second catches the fit flipping
  from side to side while the loss still falls.
* **slow** — not oscillating, and its loss is at least twice the lowest current loss
  among the experiment's runs that have not diverged (needs two runs or more).
* **converging** — anything else: the loss falls (or has settled) without oscillating.
Before the first step every run is **not started**.

Under mini-batch noise (batch size B < N) the whole-data loss goes up and down from one
update to the next even when the run has settled, and the updates reverse direction
about half the time: the step-by-step rules above would call a run at its noise floor
oscillating forever.  So a noisy run is judged on levels, not on steps (L̃ = the median
of the last W losses, robust to the noise):

* **diverged** — *blew up*, as above (tested on the whole-data loss and on the batch
  loss of every update); or *climbed*: L̃ above the starting loss.
* **oscillating** (drifting up) — L̃ is more than ``DRIFT_FACTOR`` (2) × the lowest
  median of any earlier complete block of W losses (blocks [1, W], [W + 1, 2W], …):
  the loss has come back up from a level it had reached.  A run at its noise floor
  keeps its median; one whose noise grows, or that creeps away, is found out.
* **slow** — as above, with L̃ in place of the current loss, and only while the run is
  still falling (L̃ below the median of every earlier block): a run resting at a noise
  floor above another run's is converging (to its floor), not slow.
* **converging** — anything else: the loss falls or rests at its noise floor.

With the whole-data loss recorded once an epoch (``loss_every="epoch"``), a noisy run is
judged on its mini-batch losses (each an unbiased estimate of the loss at the same
parameters), by the same rules.
"""
from __future__ import annotations

import numpy as np

CONVERGING, SLOW, OSCILLATING, DIVERGED, NOT_STARTED = (
    "converging", "slow", "oscillating", "diverged", "not started")
OUTCOMES = (CONVERGING, SLOW, OSCILLATING, DIVERGED)

WINDOW = 50
DIVERGENCE_FACTOR = 1e6
RISE_FRACTION = 0.25
REVERSAL_FRACTION = 0.5
SLOW_FACTOR = 2.0
DRIFT_FACTOR = 2.0
MOVING = 1e-9


ROUNDOFF = 1e-24


def loss_floor(y: np.ndarray) -> float:
    """Loss changes below this are float64 round-off, not learning."""
    with np.errstate(over="ignore"):            # huge y (noise 1e154): inf, said by no warning
        return ROUNDOFF * max(float(np.mean(np.square(y))), 1e-300)


def divergence_bound(initial_loss: np.ndarray, y: np.ndarray) -> float:
    with np.errstate(over="ignore"):
        scale = [float(np.mean(np.square(y)))]
    scale += [float(v) for v in np.ravel(initial_loss) if np.isfinite(v)]
    return DIVERGENCE_FACTOR * max(max(scale), 1e-300)


class OutcomeMonitor:
    """Direction reversals of the recent updates, and the per-batch classification."""

    def __init__(self, runs: int, floor: float = 0.0, noisy: bool = False):
        self.floor, self.noisy = floor, noisy
        self._low = np.full(runs, np.inf)       # noisy: lowest median of a complete block of W losses
        self._blocks = 0                        # noisy: blocks of W losses seen
        self._reversed = np.zeros((runs, WINDOW), dtype=bool)   # a ring over the last W steps
        self._n = 0
        self.outcomes = (NOT_STARTED,) * runs
        self.climbed_step = np.full(runs, -1)

    def record_ring(self, deltas: np.ndarray, thetas: np.ndarray, t: int, count: int) -> None:
        """Note which of the last ``count`` steps (up to step t) reversed the update's direction.

        ``deltas`` and ``thetas`` (R, K, P), R > WINDOW, are rings the engine writes as it
        steps: the update of step s and the parameters after it sit at slot s % R (zeros
        before they are first written).  Only the last WINDOW steps count, so only those
        are read, once per batch of steps.
        """
        m = min(count, WINDOW)
        if m:
            slots = np.arange(t - m + 1, t + 1) % len(deltas)
            new, old, theta = deltas[slots], deltas[slots - 1], thetas[slots]   # slot −1 is R − 1
            dot = np.einsum("mkp,mkp->mk", new, old)                           # Δθₛ·Δθₛ₋₁
            moving = np.einsum("mkp,mkp->mk", new, new) > MOVING**2 * (1.0 + np.einsum("mkp,mkp->mk", theta, theta))
            self._reversed[:, (self._n + count - m + np.arange(m)) % WINDOW] = ((dot < 0) & moving).T
        self._n += count

    def classify(self, losses: np.ndarray, t: int, active: np.ndarray, start: np.ndarray | None = None) -> tuple:
        """The outcome of every run after t updates; ``losses`` (K, ≥ t + 1) the series judged,
        ``start`` (K,) the starting loss (default: ``losses[:, 0]``)."""
        if t == 0:
            return self.outcomes
        if self.noisy:
            return self._classify_noisy(losses, t, active, losses[:, 0] if start is None else start)
        w = min(WINDOW, t)
        window = losses[:, t - w:t + 1]
        with np.errstate(all="ignore"):
            rises = np.mean(np.diff(window, axis=1) > 1e-12 * np.abs(window[:, :-1]) + self.floor, axis=1)
        reversals = self._reversed.sum(axis=1) / max(1, min(w - 1, WINDOW))
        oscillating = (rises >= RISE_FRACTION) | (reversals >= REVERSAL_FRACTION)
        current = losses[:, t]
        healthy = active & np.isfinite(current)
        best = np.min(current[healthy]) if healthy.sum() >= 2 else np.nan
        slow = ~oscillating & (current >= SLOW_FACTOR * best) & (current > self.floor)
        labels = np.where(oscillating, OSCILLATING, np.where(slow, SLOW, CONVERGING))
        start = losses[:, 0:1]
        climbed = active & np.all(window[:, 1:] > start * (1 + 1e-9), axis=1)
        for k in np.flatnonzero(climbed & (self.climbed_step < 0)):
            self.climbed_step[k] = np.flatnonzero(~(losses[k, :t + 1] > start[k] * (1 + 1e-9)))[-1] + 1
        self.climbed_step[~climbed] = -1
        labels[climbed | ~active] = DIVERGED
        self.outcomes = tuple(str(s) for s in labels)
        return self.outcomes

    def _classify_noisy(self, losses: np.ndarray, t: int, active: np.ndarray, start: np.ndarray) -> tuple:
        """The rules under mini-batch noise (module docstring): levels, not steps."""
        W = WINDOW
        with np.errstate(all="ignore"):
            while (self._blocks + 1) * W <= t:                      # the blocks completed since the last look
                block = losses[:, 1 + self._blocks * W:1 + (self._blocks + 1) * W]
                self._low = np.fmin(self._low, _median(block))
                self._blocks += 1
            level = _median(losses[:, max(1, t - W + 1):t + 1])  # L̃: the median of the last W losses
            drifting = level > DRIFT_FACTOR * self._low
            healthy = active & np.isfinite(level)
            best = np.min(level[healthy]) if healthy.sum() >= 2 else np.nan
            still_falling = ~(level >= self._low)               # below every earlier block (or no block yet)
            slow = ~drifting & still_falling & (level >= SLOW_FACTOR * best) & (level > self.floor)
            climbed = active & (level > start * (1 + 1e-9))
        labels = np.where(drifting, OSCILLATING, np.where(slow, SLOW, CONVERGING))
        for k in np.flatnonzero(climbed & (self.climbed_step < 0)):
            below = np.flatnonzero(~(losses[k, 1:t + 1] > start[k] * (1 + 1e-9)))
            step = below[-1] + 2 if below.size else 1      # after the last loss at or below the start
            self.climbed_step[k] = step if step <= t else max(1, t - W + 1)   # (the last one: the window's first step)
        self.climbed_step[~climbed] = -1
        labels[climbed | ~active] = DIVERGED
        self.outcomes = tuple(str(s) for s in labels)
        return self.outcomes


def _median(a: np.ndarray) -> np.ndarray:
    """(K,) the median of every row, NaN left out (a row of NaN only: NaN, said by no warning)."""
    out = np.full(a.shape[0], np.nan)
    ok = ~np.all(np.isnan(a), axis=1) if a.size else np.zeros(a.shape[0], dtype=bool)
    if ok.any():
        out[ok] = np.nanmedian(a[ok], axis=1)
    return out
