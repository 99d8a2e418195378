"""The gradient noise scale (core.noise).

Oracles: the issue's worked numbers (the model without a hidden layer, 100 points on [0, 1],
y = 2x + 1, w = b = 0); central finite differences of each sample's loss ℓₙ = (yₙ − ŷₙ)² on
the network; the engine's full gradient; and, for ε_opt(B), the exact expected loss after one
step over every batch of B samples drawn without replacement (all subsets enumerated), whose
minimizer in ε is what McCandlish's formula with the finite-population factor predicts on a
quadratic loss.
"""
from itertools import combinations

import numpy as np
import pytest

from core.models import ModelSpec
from core.noise import noise_scale


def test_the_issues_oracle_on_the_model_without_a_hidden_layer():
    x = np.linspace(0, 1, 100)
    n = noise_scale(ModelSpec("linear"), np.zeros(2), x, 2 * x + 1)
    np.testing.assert_allclose(n.grad[0], [-2.340067, -4], atol=5e-7)
    assert n.simple[0] == pytest.approx(0.210159, abs=5e-7)
    assert n.noise[0] == pytest.approx(0.163892, abs=5e-7)
    assert n.eps_max[0] == pytest.approx(0.394853, abs=5e-7)
    assert n.eps_opt(10)[0] == pytest.approx(0.389057, abs=5e-7)


def test_eps_opt_is_eps_max_at_full_batch_and_eps_max_over_1_plus_b_noise_at_one():
    x = np.linspace(-1, 2, 30)
    n = noise_scale(ModelSpec("mlp", 3, "tanh"), np.random.default_rng(1).normal(size=10), x, np.sin(x))
    assert n.eps_opt(30)[0] == pytest.approx(n.eps_max[0], rel=1e-15)
    assert n.eps_opt(1)[0] == pytest.approx(n.eps_max[0] / (1 + n.noise[0]), rel=1e-14)
    np.testing.assert_allclose(n.eps_opt([1, 30])[0], [n.eps_opt(1)[0], n.eps_opt(30)[0]], rtol=1e-15)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_per_sample_gradients_of_the_network_against_finite_differences(activation):
    rng = np.random.default_rng(2)
    H, N = 3, 7
    x, y = rng.normal(size=N), rng.normal(size=N)
    theta = rng.normal(size=3 * H + 1)
    spec = ModelSpec("mlp", H, activation)
    g = spec.per_sample_grads(theta, x, y)[0]                 # (N, P)
    h = 1e-6
    for p in range(theta.size):
        e = np.zeros_like(theta)
        e[p] = h
        lp = (y - spec.predict(theta + e, x)[0]) ** 2           # ℓₙ at θ ± h·e_p, every sample
        lm = (y - spec.predict(theta - e, x)[0]) ** 2
        np.testing.assert_allclose(g[:, p], (lp - lm) / (2 * h), rtol=1e-6, atol=1e-8)


def test_per_sample_gradients_average_to_the_engines_gradient():
    rng = np.random.default_rng(3)
    x, y = np.linspace(0, 2, 25), rng.normal(size=25)
    thetas = rng.normal(size=(4, 13))
    spec = ModelSpec("mlp", 4, "sigmoid")
    grad = np.empty_like(thetas)
    spec.build(runs=4).loss_and_grad(thetas, x, y, grad)
    np.testing.assert_allclose(spec.per_sample_grads(thetas, x, y).mean(axis=1), grad, rtol=1e-12, atol=1e-14)
    lin = ModelSpec("linear")
    g2 = np.empty((4, 2))
    lin.build(runs=4).loss_and_grad(thetas[:, :2], x, y, g2)
    np.testing.assert_allclose(lin.per_sample_grads(thetas[:, :2], x, y).mean(axis=1), g2, rtol=1e-12)


def test_covariance_traces_by_hand():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=9), rng.normal(size=9)
    spec = ModelSpec("mlp", 2, "sigmoid")
    theta = rng.normal(size=7)
    n = noise_scale(spec, theta, x, y)
    g = spec.per_sample_grads(theta, x, y)[0]
    sigma = np.cov(g.T, bias=True)                             # divisor N
    H = spec.hessian(theta, x, y)[0]
    G = g.mean(axis=0)
    assert n.trace_sigma[0] == pytest.approx(np.trace(sigma), rel=1e-12)
    assert n.trace_h_sigma[0] == pytest.approx(np.trace(H @ sigma), rel=1e-12)
    assert n.simple[0] == pytest.approx(np.trace(sigma) / (G @ G), rel=1e-12)
    assert n.noise[0] == pytest.approx(np.trace(H @ sigma) / (G @ H @ G), rel=1e-12)
    assert n.eps_max[0] == pytest.approx((G @ G) / (G @ H @ G), rel=1e-12)


@pytest.mark.parametrize("B", [1, 2, 3, 5, 7])
def test_eps_opt_minimizes_the_expected_loss_over_every_batch_without_replacement(B):
    """On a quadratic loss the expected loss after θ − ε·g_B, averaged over all C(N, B)
    batches, is a parabola in ε; its minimum is ε_opt(B)."""
    rng = np.random.default_rng(5)
    N = 8
    x, y = rng.normal(size=N), rng.normal(size=N)
    spec, theta = ModelSpec("linear"), np.array([0.3, -0.2])
    n = noise_scale(spec, theta, x, y)
    g = spec.per_sample_grads(theta, x, y)[0]
    subsets = [list(c) for c in combinations(range(N), B)]

    def expected_loss(eps):
        steps = np.array([theta - eps * g[s].mean(axis=0) for s in subsets])
        return spec.loss(steps, x, y).mean()
    e = np.array([0.0, 0.1, 0.2])
    a, b, _ = np.polyfit(e, [expected_loss(v) for v in e], 2)
    assert -b / (2 * a) == pytest.approx(n.eps_opt(B)[0], rel=1e-9)
