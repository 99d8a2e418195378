"""Activation functions and their derivatives, in one table keyed by name.

Each entry keeps the function next to its derivative (micrograd's habit), and the
derivative is written in terms of the activation's *output* ``a = f(z)`` (as in
scikit-learn's ``DERIVATIVES`` table): sigmoid'(z) = a·(1 − a) needs no second
``exp``, and backpropagation never has to keep ``z``.

``relu'(0) = 0``, as the tutorial defines it (f'(x) = 1 if x > 0 else 0).
Both functions work in place on ``out`` so the engine allocates nothing per step.
The second derivative f''(z), which the exact Hessian needs, is written the same way,
in terms of a, and sits in the same record.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Activation:
    name: str
    label: str            # what a user reads in a combo box or a table
    formula: str          # f and f' in one line, for tooltips and --help
    forward: Callable[[np.ndarray, np.ndarray], np.ndarray]      # (z, out) -> a
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray]   # (a, out) -> f'(z)
    second_derivative: Callable[[np.ndarray], np.ndarray]        # (a) -> f''(z), a new array
    can_die: bool = False     # a unit can output 0 on every sample and stop learning (a dead ReLU)
    # f as a cheap function of e = e^−z, (e, out) -> a, when there is one: network.MLP then
    # makes e^−z itself from −z (see the figure there); None for the others.
    from_exp_neg_z: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None


def _sigmoid(z, out):
    np.negative(z, out=out)
    np.exp(out, out=out)          # exp(-z) overflows to inf for z < -709: 1/inf = 0, exact
    return _sigmoid_of_exp(out, out=out)


def _sigmoid_of_exp(e, out):      # σ(z) from e = exp(−z)
    np.add(e, 1.0, out=out)
    return np.divide(1.0, out, out=out)   # 1/x to the bit, as np.reciprocal, but faster


def _sigmoid_derivative(a, out):  # σ'(z) = σ(z)·(1 − σ(z))
    np.subtract(1.0, a, out=out)
    return np.multiply(out, a, out=out)


def _sigmoid_second(a):          # σ''(z) = σ'(z)·(1 − 2σ(z))
    return a * (1 - a) * (1 - 2 * a)


def _tanh(z, out):
    return np.tanh(z, out=out)


def _tanh_derivative(a, out):     # tanh'(z) = 1 − tanh(z)²
    np.multiply(a, a, out=out)
    return np.subtract(1.0, out, out=out)


def _tanh_second(a):             # tanh''(z) = −2·tanh(z)·(1 − tanh(z)²)
    return -2 * a * (1 - a * a)


def _relu(z, out):
    return np.maximum(z, 0.0, out=out)


def _relu_derivative(a, out):     # relu'(z) = 1 if z > 0 else 0  (a > 0 ⇔ z > 0)
    return np.greater(a, 0.0, out=out)


def _zero_second(a):             # relu'' = 0 (away from the kink), identity'' = 0
    return np.zeros_like(a)


def _identity(z, out):
    np.copyto(out, z)
    return out


def _identity_derivative(a, out):
    out.fill(1.0)
    return out


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", "Sigmoid", "σ(z) = 1/(1+e^−z),  σ'(z) = σ(z)(1−σ(z))",
                   _sigmoid, _sigmoid_derivative, _sigmoid_second, from_exp_neg_z=_sigmoid_of_exp),
        Activation("relu", "ReLU", "max(0, z),  1 if z > 0 else 0",
                   _relu, _relu_derivative, _zero_second, can_die=True),
        Activation("tanh", "Tanh", "tanh(z),  1 − tanh(z)²", _tanh, _tanh_derivative, _tanh_second),
        Activation("identity", "Identity (linear)", "z,  1", _identity, _identity_derivative,
                   _zero_second),
    )
}


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"activation must be one of {', '.join(ACTIVATIONS)}; got {name!r}") from None
