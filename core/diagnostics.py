"""Per-run diagnostics that are not curvature."""
from __future__ import annotations

import numpy as np

from .network import MLP


def dead_units(theta: np.ndarray, x, hidden: int, activation: str) -> np.ndarray:
    """(K,) number of hidden units whose output is 0 on every sample (a dead ReLU)."""
    theta = np.ascontiguousarray(np.atleast_2d(theta), dtype=float)
    x = np.asarray(x, dtype=float)
    net = MLP(hidden, activation, runs=len(theta))
    with np.errstate(all="ignore"):
        net.forward(theta, x)
    return np.sum(np.all(net.record().a1 == 0.0, axis=1), axis=1)
