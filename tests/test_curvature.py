"""The Hessian and the stability forecast against independent oracles."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.activations import ACTIVATIONS
from core.curvature import (MONOTONE, OSCILLATING, UNSTABLE, eigenvalues, forecast, linear_hessian,
                            mlp_hessian)
from core.models import ModelSpec
from core.network import n_params, pack, unpack


def loss(theta, x, y, hidden, activation):
    return ModelSpec("mlp", hidden, activation).loss(theta, x, y)


def second_differences(theta, x, y, hidden, activation, h=1e-4):
    """∂²L/∂θᵢ∂θⱼ from the loss alone (no gradient code): the four-point formula."""
    P = theta.size
    E = np.eye(P) * h
    pts = []
    for i in range(P):
        for j in range(P):
            pts += [theta + E[i] + E[j], theta + E[i] - E[j], theta - E[i] + E[j], theta - E[i] - E[j]]
    L = loss(np.array(pts), x, y, hidden, activation).reshape(P, P, 4)
    return (L[..., 0] - L[..., 1] - L[..., 2] + L[..., 3]) / (4 * h * h)


def random_problem(activation, hidden, n, seed):
    """n random points and random parameters; for ReLU, no pre-activation within 1e-2 of its kink."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-2, 2, n), rng.normal(0, 2, n)
    theta = rng.normal(0, 1, n_params(hidden))
    if activation == "relu":
        w1, b1, _, _ = unpack(theta, hidden)
        assume(np.min(np.abs(np.outer(x, w1) + b1)) > 1e-2)
    return x, y, theta


@settings(max_examples=30, deadline=None)
@given(activation=st.sampled_from(sorted(ACTIVATIONS)), hidden=st.integers(1, 4),
       n=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_hessian_matches_second_differences_of_the_loss(activation, hidden, n, seed):
    x, y, theta = random_problem(activation, hidden, n, seed)
    exact = mlp_hessian(theta[None], x, y, hidden, activation)[0]
    np.testing.assert_allclose(exact, second_differences(theta, x, y, hidden, activation),
                               rtol=1e-5, atol=1e-5 * max(1.0, np.abs(exact).max()))
    np.testing.assert_array_equal(exact, exact.T)


def test_tutorial_network_eigenvalues_and_critical_rate():
    hess = mlp_hessian(pack(2.0, -1.0, 1.5, 0.5)[None], [3.0], [2.5], 1, "sigmoid")[0]
    ev = eigenvalues(hess)
    np.testing.assert_allclose(ev[[0, 2, 3]], [-0.00224, 0.10319, 3.97472], atol=1e-5)
    assert abs(ev[1]) < 1e-12
    f = forecast(hess, [0.1, 0.5, 1.0])
    assert f.critical_lr == pytest.approx(0.50318, abs=1e-5)
    assert f.regimes == (MONOTONE, OSCILLATING, UNSTABLE)


def test_b2_curvature_is_two_so_no_rate_above_one_converges():
    rng = np.random.default_rng(3)
    for act in ACTIVATIONS:
        hess = mlp_hessian(rng.normal(size=(4, n_params(3))), rng.normal(size=9), rng.normal(size=9), 3, act)
        np.testing.assert_allclose(hess[:, -1, -1], 2.0)
        assert np.all(eigenvalues(hess)[:, -1] >= 2.0 - 1e-12)


def test_linear_model_hessian_closed_form():
    x = np.linspace(0, 1, 100)
    f = forecast(linear_hessian(x), [0.5, 1.0])
    assert f.sharpness == pytest.approx(2.536, abs=1e-3)
    assert f.critical_lr == pytest.approx(0.789, abs=1e-3)
    assert f.regimes == (OSCILLATING, UNSTABLE)
    assert forecast(linear_hessian(np.linspace(0, 10, 100)), [0.01]).critical_lr == pytest.approx(0.0292, abs=1e-4)
    lam_min, lam_max = f.eigenvalues
    assert f.best_lr == pytest.approx(2 / (lam_min + lam_max))


@settings(max_examples=30, deadline=None)
@given(activation=st.sampled_from(sorted(ACTIVATIONS)), hidden=st.integers(1, 4),
       n=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_hessian_matches_central_differences_of_the_gradient(activation, hidden, n, seed):
    """Column i of the Hessian = (∂L/∂θ(θ + h·eᵢ) − ∂L/∂θ(θ − h·eᵢ)) / 2h, the gradient from the network."""
    from core.network import MLP
    x, y, theta = random_problem(activation, hidden, n, seed)
    P, h = theta.size, 1e-6
    shifted = np.concatenate([theta + h * np.eye(P), theta - h * np.eye(P)])
    grads = np.empty_like(shifted)
    MLP(hidden, activation, runs=2 * P).loss_and_grad(shifted, x, y, grads)
    numeric = (grads[:P] - grads[P:]) / (2 * h)
    exact = mlp_hessian(theta[None], x, y, hidden, activation)[0]
    np.testing.assert_allclose(exact, numeric, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(exact).max()))
