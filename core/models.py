"""The two models LR Lab trains: the tutorial's network and the model without a hidden layer.

A ``ModelSpec`` names one and answers every question the rest of LR Lab asks of it — how
many parameters and their names, its initial parameters, its forward/backward pass for
K runs, its predictions, its loss, its exact Hessian, what it can show (a hidden layer,
the worked example's chain rule, dead units) and whether its stability forecast is
exact — so nobody else branches on the kind of model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import curvature, linear, network
from .activations import get_activation

MODELS = {
    "mlp": "network 1 → H → 1 (the tutorial's)",
    "linear": "no hidden layer: ŷ = w·x + b (a quadratic loss: the forecast is exact)",
}


@dataclass(frozen=True)
class ModelSpec:
    kind: str = "mlp"
    hidden: int = 1
    activation: str = "sigmoid"

    # -- what it is and what it can show -----------------------------------------------------
    @property
    def has_hidden_layer(self) -> bool:
        """It has hidden units (a width and an activation to choose, a layer to draw)."""
        return self.kind == "mlp"

    @property
    def quadratic_loss(self) -> bool:
        """Its loss is quadratic in θ: the Hessian is the same everywhere."""
        return self.kind == "linear"

    @property
    def exact_forecast(self) -> bool:
        """The stability forecast from the Hessian at the start holds all the way (a quadratic loss)."""
        return self.quadratic_loss

    @property
    def worked_example_chain_rule(self) -> bool:
        """On a single sample, the tutorial's chain-rule panel (core.explain) applies to it."""
        return self.has_hidden_layer

    @property
    def can_have_dead_units(self) -> bool:
        """Its hidden units can output 0 on every sample and stop learning (ReLU)."""
        return self.has_hidden_layer and get_activation(self.activation).can_die

    # -- its parameters ------------------------------------------------------------------------
    @property
    def n_params(self) -> int:
        return network.n_params(self.hidden) if self.has_hidden_layer else linear.Linear.n_params

    @property
    def init_names(self) -> tuple:
        """The keys of an explicit ``init``: w1, b1, w2, b2 for the network, w, b for the linear model."""
        return network.PARAM_NAMES if self.has_hidden_layer else linear.PARAM_NAMES

    @property
    def param_names(self) -> list[str]:
        """One name per entry of θ: w1[0] … b2 for the network, w and b for the linear model."""
        if not self.has_hidden_layer:
            return list(linear.PARAM_NAMES)
        H = self.hidden
        return [f"{n}[{i}]" for n in ("w1", "b1", "w2") for i in range(H)] + ["b2"]

    def initial_params(self, rng: np.random.Generator, init: dict | None = None) -> np.ndarray:
        """θ from an explicit (validated) ``init`` keyed by ``init_names``, else seeded from ``rng``."""
        if init is not None:
            if self.has_hidden_layer:
                return network.pack(*(init[k] for k in network.PARAM_NAMES))
            return np.array([init[k] for k in linear.PARAM_NAMES], dtype=float)
        if self.has_hidden_layer:
            return network.initial_params(self.hidden, rng)
        return linear.initial_params(rng)

    # -- its passes ----------------------------------------------------------------------------
    def build(self, runs: int = 1):
        """The forward/backward pass of ``runs`` parameter sets: ``forward(theta, x)``,
        ``loss_and_grad(theta, x, y, grad)``."""
        if not self.has_hidden_layer:
            return linear.Linear(runs)
        return network.MLP(self.hidden, self.activation, runs)

    def predict(self, theta: np.ndarray, x) -> np.ndarray:
        """(K, len(x)) predictions of every row of ``theta``."""
        theta = np.ascontiguousarray(np.atleast_2d(theta), dtype=float)
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            return self.build(len(theta)).forward(theta, x).copy()

    def loss(self, theta: np.ndarray, x, y) -> np.ndarray:
        """(K,) L = mean((y − ŷ)²) from the forward pass alone."""
        y_pred = self.predict(theta, x)
        with np.errstate(all="ignore"):
            return np.mean((np.asarray(y, dtype=float) - y_pred) ** 2, axis=1)

    def hessian(self, theta: np.ndarray, x, y) -> np.ndarray:
        """(K, P, P) exact Hessian of the loss at every row of ``theta``."""
        theta = np.atleast_2d(theta)
        if self.quadratic_loss:
            return np.broadcast_to(curvature.linear_hessian(x), (len(theta), 2, 2)).copy()
        return curvature.mlp_hessian(theta, x, y, self.hidden, self.activation)

    def per_sample_grads(self, theta: np.ndarray, x, y) -> np.ndarray:
        """(K, N, P) ∂ℓₙ/∂θ, ℓₙ = (yₙ − ŷₙ)², of every sample at every row of ``theta`` (core.noise)."""
        from . import noise
        if not self.has_hidden_layer:
            return noise.linear_per_sample_grads(theta, x, y)
        return noise.mlp_per_sample_grads(theta, x, y, self.hidden, self.activation)

    def dead_units(self, theta: np.ndarray, x) -> np.ndarray | None:
        """(K,) hidden units that output 0 on every sample, or None if its units cannot die."""
        if not self.can_have_dead_units:
            return None
        from .diagnostics import dead_units
        return dead_units(theta, x, self.hidden, self.activation)

    def describe(self) -> str:
        if not self.has_hidden_layer:
            return "linear model (no hidden layer)"
        return f"{self.activation}, {self.hidden} hidden unit{'s' if self.hidden > 1 else ''}"
