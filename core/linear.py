"""The model without a hidden layer, ŷ = w·x + b, with the same interface as network.MLP.

Its loss is quadratic in θ = [w | b], so its Hessian, (2/N)·[[Σx², Σx], [Σx, N]], is the
same everywhere and the stability forecast is exact.
"""
from __future__ import annotations

import numpy as np

PARAM_NAMES = ("w", "b")


class Linear:
    hidden = 0
    n_params = 2

    def __init__(self, x, y, runs: int = 1):
        x = np.ascontiguousarray(x, dtype=float)
        self.x, self.y, self.runs = x, np.ascontiguousarray(y, dtype=float), int(runs)
        self.x1 = np.stack([x, np.ones_like(x)], axis=1)     # [x, 1]  (N, 2)
        self.y_pred = np.empty((self.runs, x.size))
        self.dL_dy_pred = np.empty((self.runs, x.size))
        self.loss = np.empty(self.runs)

    def forward(self, theta: np.ndarray) -> np.ndarray:
        np.matmul(theta, self.x1.T, out=self.y_pred)          # ŷ = w·x + b
        return self.y_pred

    def loss_and_grad(self, theta: np.ndarray, grad: np.ndarray) -> np.ndarray:
        N = self.x.size
        self.forward(theta)
        r = np.subtract(self.y_pred, self.y, out=self.dL_dy_pred)   # L = mean((ŷ − y)²)
        np.einsum("kn,kn->k", r, r, out=self.loss)
        self.loss /= N
        r *= 2.0 / N                                          # ∂L/∂ŷ = 2(ŷ − y)/N
        np.matmul(r, self.x1, out=grad)                       # ∂L/∂[w, b] = Σ ∂L/∂ŷ·[x, 1]
        return self.loss


def initial_params(rng: np.random.Generator) -> np.ndarray:
    """w ~ N(0, 1), b = 0."""
    return np.array([rng.standard_normal(), 0.0])
