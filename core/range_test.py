"""The learning-rate range test (Smith 2017; fastai's lr_find), and its suggestions.

From the initial parameters, η rises exponentially from ``lr_min`` to ``lr_max`` over
``steps`` updates; the loss is smoothed with a debiased exponential moving average
(β = 0.98) and the test stops once the smoothed loss exceeds 4× the best seen.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BETA = 0.98
STOP_FACTOR = 4.0


def lr_schedule(lr_min: float, lr_max: float, steps: int) -> np.ndarray:
    return lr_min * (lr_max / lr_min) ** (np.arange(steps) / max(1, steps - 1))


def smooth(losses: np.ndarray, beta: float = BETA) -> np.ndarray:
    """Debiased EMA: avgₜ = β·avgₜ₋₁ + (1 − β)·Lₜ,  smoothedₜ = avgₜ / (1 − βᵗ⁺¹)."""
    out = np.empty(len(losses))
    avg = 0.0
    for t, v in enumerate(losses):
        avg = beta * avg + (1 - beta) * v
        out[t] = avg / (1 - beta ** (t + 1))
    return out


def stop_index(smoothed: np.ndarray) -> int:
    """Number of points kept: up to (not including) the first that exceeds 4× the best so far."""
    best = np.inf
    for i, v in enumerate(smoothed):
        if not np.isfinite(v) or v > STOP_FACTOR * best:
            return i
        best = min(best, v)
    return len(smoothed)


@dataclass(frozen=True)
class RangeTest:
    lrs: np.ndarray            # η of each step that was kept
    losses: np.ndarray         # loss after the update with that η
    smoothed: np.ndarray
    steepest: float            # η where the smoothed loss falls fastest per decade
    minimum_tenth: float       # η at the smoothed minimum, divided by 10
    valley: float              # fastai's valley: 2/3 down the longest descending stretch


def suggestions(lrs: np.ndarray, losses: np.ndarray) -> RangeTest:
    sm = smooth(losses)
    n = stop_index(sm)
    lrs, losses, sm = lrs[:n], losses[:n], sm[:n]
    if n < 3:
        nan = float("nan")
        return RangeTest(lrs, losses, sm, nan, nan, nan)
    slope = np.gradient(sm, np.log10(lrs))
    return RangeTest(lrs, losses, sm, float(lrs[int(np.argmin(slope))]),
                     float(lrs[int(np.argmin(sm))] / 10), float(lrs[_valley(sm)]))


def _valley(sm: np.ndarray) -> int:
    """fastai's valley: the longest decreasing subsequence, a point 2/3 of the way down it."""
    n = len(sm)
    lds = [1] * n
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if sm[i] < sm[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end, max_start = i, i - lds[i]
    sections = (max_end - max_start) / 3
    return min(n - 1, max_start + int(sections) + int(sections / 2))


class Ramp:
    """The range test's schedule: ηₜ from a table, one rate per update (one run)."""

    def __init__(self, schedule: np.ndarray):
        self.schedule = np.asarray(schedule, dtype=float)

    def lr_at(self, t: int) -> np.ndarray:
        return self.schedule[t:t + 1]


def range_test(experiment, data=None, lr_min: float = 1e-6, lr_max: float = 10.0,
               steps: int = 100) -> RangeTest:
    """Run the range test from the experiment's initial parameters (the engine, one run)."""
    from .errors import ConfigError
    if not (0 < lr_min < lr_max):
        raise ConfigError(f"range test: need 0 < lr-min < lr-max; got {lr_min:g} {lr_max:g}")
    if not 3 <= steps <= 100_000:
        raise ConfigError(f"range test steps must be between 3 and 100000; got {steps}")
    data = experiment.make_data() if data is None else data
    lrs = lr_schedule(lr_min, lr_max, steps)
    trainer = experiment.trainer(data, learning_rates=[lr_min], steps=steps,
                                 rule=experiment.update_rule([lr_min], schedule=Ramp(lrs)))
    trainer.step(steps)
    return suggestions(lrs, trainer.loss_history()[0, 1:])      # the loss after the update with lrs[t]
