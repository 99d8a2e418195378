"""The loss over a plane through parameter space, with a trajectory drawn on it.

For the model without a hidden layer the plane is the exact (w, b) plane.  For the
network it is the plane through the trajectory's last point spanned by the two
principal directions of the trajectory (PCA of θₜ − θ_last), and ``off_plane`` says
how much of the trajectory that plane misses: ‖residual‖ / ‖θₜ − θ_last‖ over all t.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Landscape:
    alphas: np.ndarray          # (G,) coordinates along the first direction
    betas: np.ndarray           # (G,) coordinates along the second direction
    losses: np.ndarray          # (G, G): losses[j, i] at center + alphas[i]·d1 + betas[j]·d2
    path: np.ndarray            # (T, 2) the trajectory in plane coordinates
    center: np.ndarray          # (P,)
    directions: np.ndarray      # (2, P) orthonormal
    off_plane: float            # share of the trajectory's displacement outside the plane (0 … 1)
    labels: tuple               # axis names, e.g. ("w", "b") or ("PC1", "PC2")


def trajectory_plane(path: np.ndarray):
    """Center (the last point) and the two principal directions of a trajectory (T, P)."""
    path = np.asarray(path, dtype=float)
    center = path[-1]
    disp = path - center
    _, s, vt = np.linalg.svd(disp, full_matrices=False)
    dirs = np.zeros((2, path.shape[1]))
    k = min(2, vt.shape[0])
    dirs[:k] = vt[:k]
    if k < 2 or s[1] <= 1e-14 * max(s[0], 1e-300):          # a straight path: any second direction
        basis = np.eye(path.shape[1])
        for e in basis:
            e = e - dirs[0] * np.dot(e, dirs[0])
            if np.linalg.norm(e) > 1e-6:
                dirs[1] = e / np.linalg.norm(e)
                break
    return center, dirs


def landscape(path: np.ndarray, loss_fn: Callable[[np.ndarray], np.ndarray], grid: int = 60,
              margin: float = 0.25, center=None, directions=None, labels=("PC1", "PC2")) -> Landscape:
    """Loss over the plane of ``directions`` through ``center`` (default: the trajectory's PCA plane).

    ``loss_fn(thetas (M, P)) -> (M,)`` is evaluated once, on all grid points as one batch.
    """
    path = np.asarray(path, dtype=float)
    if center is None or directions is None:
        center, directions = trajectory_plane(path)
    disp = path - center
    coords = disp @ directions.T                                     # (T, 2)
    total = np.linalg.norm(disp)
    off = float(np.linalg.norm(disp - coords @ directions) / total) if total > 0 else 0.0
    axes = []
    for c in coords.T:
        lo, hi = float(c.min()), float(c.max())
        span = hi - lo if hi > lo else max(abs(hi), 1.0)
        axes.append(np.linspace(lo - margin * span, hi + margin * span, grid))
    A, B = np.meshgrid(*axes)                                        # (G, G)
    thetas = center + A.reshape(-1, 1) * directions[0] + B.reshape(-1, 1) * directions[1]
    with np.errstate(all="ignore"):
        losses = np.asarray(loss_fn(thetas), dtype=float).reshape(grid, grid)
    return Landscape(axes[0], axes[1], losses, coords, center, directions, off, tuple(labels))


def parameter_plane(path: np.ndarray, loss_fn, i: int, j: int, names, grid: int = 60) -> Landscape:
    """The plane of two chosen parameters (i, j) through the trajectory's last point."""
    path = np.asarray(path, dtype=float)
    P = path.shape[1]
    dirs = np.zeros((2, P))
    dirs[0, i] = dirs[1, j] = 1.0
    return landscape(path, loss_fn, grid, center=path[-1].copy(), directions=dirs, labels=(names[i], names[j]))
