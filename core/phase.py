"""Phase diagram: the outcome of every learning rate × hidden width (or × seed, or ×
batch size).

Each row of the grid (one width, one seed of the initial parameters, or one batch size)
is one experiment whose learning rates train in lockstep, as one vectorized computation,
so its outcomes are what the same experiment gives on its own.  The data stay those of
the experiment; every row takes the experiment's number of updates (``steps``).

Over batch sizes, each row's best rate (``best_lr``: the lowest final whole-data loss)
can be read against the rate the gradient noise scale predicts, ε_opt(B) (core.noise, at
the initial parameters: ``eps_opt``, also on its own from ``predicted_eps_opt``).

Recipes: every rate of the grid trains with one recipe, the experiment's first run's
(``grid_recipe``: its optimizer, that optimizer's parameters and its schedule, at the grid's
rate; plain gradient descent for an experiment without ``runs``), so that each column
differs from the next by the rate alone.  (``Experiment.update_rule(learning_rates=…)`` would
give a rate that equals a run's rate that run's recipe: in a grid that would change the
optimizer from one column to the next.)  An experiment whose runs mix recipes says so in
the diagram's ``note``; its ``recipe`` is the one used.
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
    eps_opt: np.ndarray | None = None   # (R,) rows of batch sizes: ε_opt(B) predicted at the initial parameters
    recipe: object = None     # the core.optim.Recipe every rate trained with (lr: the first run's); None: gd
    note: str = ""            # when the experiment's runs mix recipes: which one the grid used

    @property
    def best_lr(self) -> np.ndarray:
        """(R,) the rate of every row with the lowest final loss (NaN if every run blew up)."""
        final = np.where(np.isfinite(self.final), self.final, np.inf)
        best = np.argmin(final, axis=1)
        return np.where(np.isfinite(final.min(axis=1)), self.lrs[best], np.nan)


def predicted_eps_opt(experiment, batch_sizes, data=None):
    """(len(batch_sizes),) ε_opt(B) from the noise scale at the experiment's initial
    parameters on its data (None in ``batch_sizes``: full batch, ε_max)."""
    from .noise import noise_scale
    data = experiment.make_data() if data is None else data
    n = noise_scale(experiment.model_spec(), experiment.initial_params(), data.x, data.y)
    return n.eps_opt([len(data) if b is None else int(b) for b in batch_sizes])[0]


def grid_recipe(experiment):
    """(recipe, note): the core.optim.Recipe every rate of a grid trains with, the experiment's
    first run's (None without ``runs``: plain gradient descent), and "" or, when the runs mix
    recipes, a sentence saying which one is used."""
    if experiment.runs is None:
        return None, ""
    from .recipes import describe
    first = experiment.runs[0]
    kinds = list(dict.fromkeys(describe(r) for r in experiment.runs))
    if len(kinds) == 1:
        return first, ""
    return first, (f"the experiment's runs mix recipes ({', '.join(kinds)}): every rate here trains with "
                   f"the first run's, {kinds[0]}")


def phase_diagram(experiment, lrs, widths=None, seeds=None, data=None, batch_sizes=None,
                  should_stop=None) -> PhaseDiagram:
    """``should_stop``: see core.cancel; asked between chunks of steps (raises Cancelled)."""
    if sum(v is not None for v in (widths, seeds, batch_sizes)) != 1:
        raise ConfigError("phase diagram: give widths, seeds or batch sizes (one of the three)")
    lrs = tuple(float(v) for v in lrs)
    data = experiment.make_data() if data is None else data
    row_name, rows = (("hidden", widths) if widths is not None else ("seed", seeds) if seeds is not None
                      else ("batch_size", batch_sizes))
    rows = tuple(None if r is None else int(r) for r in rows)
    recipe, note = grid_recipe(experiment)
    runs = None if recipe is None else tuple(replace(recipe, lr=lr) for lr in lrs)
    finals, bests, outcomes = [], [], []
    for r in rows:
        init = experiment.init if row_name == "batch_size" else None    # a new width or seed: seeded θ₀
        row = replace(experiment, learning_rates=lrs, runs=runs, init=init, **{row_name: r}).validated()
        trainer = row.trainer(data)
        train(trainer, row.steps, should_stop, "phase diagram")
        L = trainer.loss_history()
        with np.errstate(all="ignore"):
            best = np.where(np.isfinite(L), L, np.inf).min(axis=1)
        finals.append(L[:, -1].copy())
        bests.append(np.where(np.isfinite(best), best, np.nan))
        outcomes.append(trainer.outcomes)
    eps = predicted_eps_opt(experiment, rows, data) if row_name == "batch_size" else None
    return PhaseDiagram(np.array(lrs), rows, row_name, np.array(finals), np.array(bests),
                        np.array(outcomes, dtype=object), eps, recipe, note)
