"""The two models LR Lab trains: the tutorial's network and the model without a hidden layer.

A ``ModelSpec`` names one and knows what every caller needs of it — how many parameters
and their names, how to build its forward/backward pass for K runs, its predictions,
its loss and its exact Hessian — so nobody else branches on the kind of model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import curvature, linear, network

MODELS = {
    "mlp": "network 1 → H → 1 (the tutorial's)",
    "linear": "no hidden layer: ŷ = w·x + b (a quadratic loss: the forecast is exact)",
}


@dataclass(frozen=True)
class ModelSpec:
    kind: str = "mlp"
    hidden: int = 1
    activation: str = "sigmoid"

    @property
    def n_params(self) -> int:
        return network.n_params(self.hidden) if self.kind == "mlp" else linear.Linear.n_params

    @property
    def param_names(self) -> list[str]:
        """One name per entry of θ: w1[0] … b2 for the network, w and b for the linear model."""
        if self.kind == "linear":
            return list(linear.PARAM_NAMES)
        H = self.hidden
        return [f"{n}[{i}]" for n in ("w1", "b1", "w2") for i in range(H)] + ["b2"]

    def build(self, x, y, runs: int = 1):
        """The forward/backward pass of ``runs`` parameter sets (``loss_and_grad``, ``forward``)."""
        if self.kind == "linear":
            return linear.Linear(x, y, runs)
        return network.MLP(x, y, self.hidden, self.activation, runs)

    def predict(self, theta: np.ndarray, x) -> np.ndarray:
        """(K, len(x)) predictions of every row of ``theta``."""
        theta = np.ascontiguousarray(np.atleast_2d(theta), dtype=float)
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            return self.build(x, np.zeros_like(x), len(theta)).forward(theta).copy()

    def loss(self, theta: np.ndarray, x, y) -> np.ndarray:
        """(K,) L = mean((y − ŷ)²) from the forward pass alone."""
        y_pred = self.predict(theta, x)
        with np.errstate(all="ignore"):
            return np.mean((np.asarray(y, dtype=float) - y_pred) ** 2, axis=1)

    def hessian(self, theta: np.ndarray, x, y) -> np.ndarray:
        """(K, P, P) exact Hessian of the loss at every row of ``theta``."""
        theta = np.atleast_2d(theta)
        if self.kind == "linear":
            return np.broadcast_to(curvature.linear_hessian(x), (len(theta), 2, 2)).copy()
        return curvature.mlp_hessian(theta, x, y, self.hidden, self.activation)

    def describe(self) -> str:
        if self.kind == "linear":
            return "linear model (no hidden layer)"
        return f"{self.activation}, {self.hidden} hidden unit{'s' if self.hidden > 1 else ''}"
