"""Activation functions and their derivatives, in one table keyed by name.

Each entry keeps the function next to its derivative (micrograd's habit), and the
derivative is written in terms of the activation's *output* ``a = f(z)`` (as in
scikit-learn's ``DERIVATIVES`` table): sigmoid'(z) = a·(1 − a) needs no second
``exp``, and backpropagation never has to keep ``z``.

``relu'(0) = 0``, as the tutorial defines it (f'(x) = 1 if x > 0 else 0).
Both functions work in place on ``out`` so the engine allocates nothing per step.
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


def _sigmoid(z, out):
    np.negative(z, out=out)
    np.exp(out, out=out)          # exp(-z) overflows to inf for z < -709: 1/inf = 0, exact
    return _sigmoid_of_exp(out, out=out)


def _sigmoid_of_exp(e, out):      # σ(z) from e = exp(−z), which network.MLP makes its own way
    np.add(e, 1.0, out=out)
    return np.divide(1.0, out, out=out)   # 1/x to the bit, as np.reciprocal, but faster


def _sigmoid_derivative(a, out):  # σ'(z) = σ(z)·(1 − σ(z))
    np.subtract(1.0, a, out=out)
    return np.multiply(out, a, out=out)


def _tanh(z, out):
    return np.tanh(z, out=out)


def _tanh_derivative(a, out):     # tanh'(z) = 1 − tanh(z)²
    np.multiply(a, a, out=out)
    return np.subtract(1.0, out, out=out)


def _relu(z, out):
    return np.maximum(z, 0.0, out=out)


def _relu_derivative(a, out):     # relu'(z) = 1 if z > 0 else 0  (a > 0 ⇔ z > 0)
    return np.greater(a, 0.0, out=out)


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
                   _sigmoid, _sigmoid_derivative),
        Activation("relu", "ReLU", "max(0, z),  1 if z > 0 else 0",
                   _relu, _relu_derivative),
        Activation("tanh", "Tanh", "tanh(z),  1 − tanh(z)²", _tanh, _tanh_derivative),
        Activation("identity", "Identity (linear)", "z,  1", _identity, _identity_derivative),
    )
}


# forward functions that are a cheap function of exp(−z) (network.MLP makes exp(−z) itself)
_FROM_EXP_NEG_Z = {_sigmoid: _sigmoid_of_exp}


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"activation must be one of {', '.join(ACTIVATIONS)}; got {name!r}") from None
