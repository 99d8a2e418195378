"""The model without a hidden layer, y_pred = w·x + b, with the same interface as network.MLP.

Its loss is quadratic in θ = [w | b], so its Hessian, (2/N)·[[Σx², Σx], [Σx, N]], is the
same everywhere and the stability forecast is exact.
"""
from __future__ import annotations

import numpy as np

PARAM_NAMES = ("w", "b")


class Linear:
    hidden = 0
    n_params = 2

    def __init__(self, runs: int = 1):
        self.runs = int(runs)
        self._x_given, self._n = None, None

    def _bind_data(self, x) -> None:
        self._x_given = x
        x = np.ascontiguousarray(x, dtype=float)
        if self._n != x.size:
            self._n = x.size
            self._y_pred = np.empty((self.runs, 1, x.size))
            self._dL_dy_pred = np.empty((self.runs, 1, x.size))
            self.y_pred, self.dL_dy_pred = self._y_pred[:, 0], self._dL_dy_pred[:, 0]
            self._loss = np.empty((self.runs, 1, 1))
            self.loss = self._loss[:, 0, 0]
        self._x1 = np.stack([x, np.ones_like(x)], axis=1)    # [x, 1]  (N, 2)
        self._x1_T = np.ascontiguousarray(self._x1.T)        # [x; 1]  (2, N)

    # Every product is one per run ((K, 1, ·) stacks), so a run's numbers are the same
    # whatever runs beside it (see network.MLP).
    def forward(self, theta: np.ndarray, x) -> np.ndarray:
        if x is not self._x_given:
            self._bind_data(x)
        np.matmul(theta[:, None, :], self._x1_T, out=self._y_pred)   # y_pred = w·x + b
        return self.y_pred

    def loss_and_grad(self, theta: np.ndarray, x, y, grad: np.ndarray) -> np.ndarray:
        self.forward(theta, x)
        N = self._n
        r = np.subtract(self._y_pred, y, out=self._dL_dy_pred)        # L = mean((y_pred − y)²)
        np.matmul(r, r.transpose(0, 2, 1), out=self._loss)
        self.loss /= N
        r *= 2.0 / N                                                  # dL_dy_pred = 2(y_pred − y)/N
        np.matmul(r, self._x1, out=grad[:, None, :])                  # dL_d[w, b] = Σₙ dL_dy_pred·[x, 1]
        return self.loss


def initial_params(rng: np.random.Generator) -> np.ndarray:
    """w ~ N(0, 1), b = 0."""
    return np.array([rng.standard_normal(), 0.0])
