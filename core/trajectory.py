"""The path one run takes through parameter space, for the loss-landscape view.

``trajectory(experiment, run, steps, every)`` trains the experiment's run ``run`` alone
(same data, same initial parameters, same engine) and records θ at step 0, after
every ``every`` updates and at the last step.  A run that blows up stops where the engine stops it: the
path ends at its last parameters whose loss was within the divergence bound.

Keep ``every`` = 1 to see an oscillation: a period-2 zigzag sampled every second step
looks like a straight line.
"""
from __future__ import annotations

import numpy as np

from .cancel import check
from .errors import ConfigError

MAX_POINTS = 100_000


def trajectory(experiment, run: int = 0, steps: int | None = None, every: int = 1, data=None,
               should_stop=None) -> np.ndarray:
    """(T, P): θ of run ``run`` at steps 0, every, 2·every, … and ``steps`` (default: the budget).

    ``should_stop``: see core.cancel; asked before each ``every`` steps (raises Cancelled)."""
    lrs = experiment.learning_rates
    if not (isinstance(run, (int, np.integer)) and 0 <= run < len(lrs)):
        raise ConfigError(f"trajectory run must be one of 0 … {len(lrs) - 1}; got {run!r}")
    steps = experiment.steps if steps is None else steps
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ConfigError(f"trajectory steps must be a whole number >= 1; got {steps!r}")
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ConfigError(f"trajectory every must be a whole number >= 1; got {every!r}")
    if steps // every + 1 > MAX_POINTS:
        raise ConfigError(f"trajectory: {steps} steps every {every} is {steps // every + 1} points; "
                          f"at most {MAX_POINTS}")
    data = experiment.make_data() if data is None else data
    trainer = experiment.trainer(data, learning_rates=[lrs[run]], steps=int(steps))
    path = [trainer.theta[0].copy()]
    while not trainer.done and trainer.active[0]:
        check(should_stop, "trajectory")
        trainer.step(every)
        path.append(trainer.theta[0].copy())
    return np.array(path)
