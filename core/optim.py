"""Update rules.  A rule turns the gradient into the step Δθ for every run.

The engine only calls ``update(grad, t, out)``: write Δθ for update t (t = 0 is the
first) into ``out``, shape (K, P), the run axis first.  A rule also answers what the
views would otherwise work out with a formula of their own:

* ``lr_at(t)``                the learning rate of every run at update t, shape (K,);
* ``critical_lr(lam_max)``    the largest rate at which the steepest direction of a
                              quadratic with top curvature λ_max does not grow;
* ``sharpness_limit(t)``      the other way round: the λ_max above which each run's
                              update t makes that direction grow (the "edge of stability");
* ``best_lr(lam_lo, lam_max)``  the best constant rate on such a quadratic.

Where the next rules go: per-run state (a velocity for momentum, two moments for
Adam) is arrays over the run axis made in ``__init__`` and updated in ``update``; a
learning-rate schedule is an object with ``lr_at(t)`` → (K,) given as ``schedule``.
``RULES`` names every rule (the name a setting would choose it by).

Plain gradient descent, the tutorial's θ ← θ − η·∂L/∂θ, is the only rule LR Lab uses today.
"""
from __future__ import annotations

import numpy as np


class GradientDescent:
    """θ ← θ − ηₜ·∂L/∂θ with one η per run (the run axis is axis 0).

    ``schedule``: None for a constant rate (ηₜ = ``learning_rates``), or an object whose
    ``lr_at(t)`` gives the (K,) rates of update t (the range test's exponential ramp).

    On a quadratic with Hessian eigenvalue λ the error along its eigenvector is
    multiplied by (1 − ηλ) every step: it shrinks iff η < 2/λ, so the critical rate is
    2/λ_max, and the rate that shrinks the slowest and the fastest mode alike is
    2/(λ_lo + λ_max).
    """

    name = "gd"

    def __init__(self, learning_rates, schedule=None):
        self.learning_rates = np.asarray(learning_rates, dtype=float).reshape(-1)
        self.schedule = schedule
        self._neg_lr = -self.learning_rates[:, None]

    def lr_at(self, t: int) -> np.ndarray:
        """(K,) the learning rate of every run at update t."""
        if self.schedule is None:
            return self.learning_rates
        return np.asarray(self.schedule.lr_at(t), dtype=float)

    def update(self, grad: np.ndarray, t: int, out: np.ndarray) -> np.ndarray:
        """Write Δθ = −ηₜ·∂L/∂θ into ``out``."""
        neg_lr = self._neg_lr if self.schedule is None else -self.lr_at(t)[:, None]
        return np.multiply(grad, neg_lr, out=out)

    @staticmethod
    def critical_lr(lam_max):
        """η* = 2/λ_max: above it the steepest direction grows."""
        return 2.0 / lam_max

    def sharpness_limit(self, t: int = 0) -> np.ndarray:
        """(K,) 2/ηₜ: the λ_max above which each run's update t makes the steepest direction grow."""
        return 2.0 / self.lr_at(t)

    @staticmethod
    def best_lr(lam_lo, lam_max):
        """2/(λ_lo + λ_max): the constant rate that shrinks the slowest and the fastest mode alike."""
        return 2.0 / (lam_lo + lam_max)


RULES = {GradientDescent.name: GradientDescent}
