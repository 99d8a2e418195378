"""Phase diagram: the outcome of every learning rate × hidden width (or × seed).

Each row of the grid (one width, or one seed of the initial parameters) is one
experiment whose learning rates train in lockstep, as one vectorized computation, so
its outcomes are what the same experiment gives on its own.  The data stay those of
the experiment.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .cancel import train
from .errors import ConfigError


@dataclass(frozen=True)
class PhaseDiagram:
    lrs: np.ndarray           # (L,)
    rows: tuple               # the widths or seeds, one per row
    row_name: str             # "hidden" or "seed"
    final: np.ndarray         # (R, L) loss after the last step (NaN once a run blew up)
    best: np.ndarray          # (R, L) lowest loss reached
    outcomes: np.ndarray      # (R, L) outcome strings


def phase_diagram(experiment, lrs, widths=None, seeds=None, data=None, should_stop=None) -> PhaseDiagram:
    """``should_stop``: see core.cancel; asked between chunks of steps (raises Cancelled)."""
    if (widths is None) == (seeds is None):
        raise ConfigError("phase diagram: give widths or seeds (one of the two)")
    lrs = tuple(float(v) for v in lrs)
    data = experiment.make_data() if data is None else data
    row_name, rows = ("hidden", widths) if widths is not None else ("seed", seeds)
    rows = tuple(int(r) for r in rows)
    finals, bests, outcomes = [], [], []
    for r in rows:
        row = replace(experiment, learning_rates=lrs, init=None, **{row_name: r}).validated()
        trainer = row.trainer(data)
        train(trainer, row.steps, should_stop, "phase diagram")
        L = trainer.loss_history()
        with np.errstate(all="ignore"):
            best = np.where(np.isfinite(L), L, np.inf).min(axis=1)
        finals.append(L[:, -1].copy())
        bests.append(np.where(np.isfinite(best), best, np.nan))
        outcomes.append(trainer.outcomes)
    return PhaseDiagram(np.array(lrs), rows, row_name, np.array(finals), np.array(bests),
                        np.array(outcomes, dtype=object))
