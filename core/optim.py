"""Update rules.  An optimizer turns the gradient into the step Δθ for every run.

The engine only calls ``update(grad, t, out)``; per-run state (a velocity for
momentum, two moments for Adam) lives in the optimizer as arrays over the run
axis, and a learning-rate schedule is ``lr_at(t)``.  Plain gradient descent, the
tutorial's ``θ ← θ − η·∂L/∂θ``, is the only one LR Lab uses today.
"""
from __future__ import annotations

import numpy as np


class SGD:
    """θ ← θ − η·∂L/∂θ with one η per run (the run axis is axis 0)."""

    name = "sgd"

    def __init__(self, learning_rates):
        self.learning_rates = np.asarray(learning_rates, dtype=float)
        self._neg_lr = -self.learning_rates[:, None]

    def lr_at(self, t: int) -> np.ndarray:
        """The learning rate of every run at step t (constant: no schedule)."""
        return self.learning_rates

    def update(self, grad: np.ndarray, t: int, out: np.ndarray) -> np.ndarray:
        """Write Δθ = −η·∂L/∂θ into ``out``."""
        return np.multiply(grad, self._neg_lr, out=out)
