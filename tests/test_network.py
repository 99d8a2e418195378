"""The hand-written backward pass against independent oracles."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.activations import ACTIVATIONS, get_activation
from core.explain import TUTORIAL_PRINTED, differences_from_printout, tutorial_step
from core.models import ModelSpec
from core.network import MLP, n_params, pack, unpack


def loss(theta, x, y, hidden, activation):
    """L from the forward pass alone (no gradient code)."""
    return ModelSpec("mlp", hidden, activation).loss(theta, x, y)


def central_differences(theta, x, y, hidden, activation, h=1e-6):
    """∂L/∂θ from the forward pass alone: (L(θ + h·eᵢ) − L(θ − h·eᵢ)) / 2h."""
    P = theta.size
    plus = theta + h * np.eye(P)
    minus = theta - h * np.eye(P)
    return (loss(plus, x, y, hidden, activation) - loss(minus, x, y, hidden, activation)) / (2 * h)


@settings(max_examples=60, deadline=None)
@given(activation=st.sampled_from(sorted(ACTIVATIONS)),
       hidden=st.integers(1, 8),
       n=st.integers(1, 12),
       seed=st.integers(0, 2**32 - 1))
def test_gradient_matches_central_differences(activation, hidden, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, n)
    y = rng.normal(0, 2, n)
    theta = rng.normal(0, 1, n_params(hidden))
    if activation == "relu":          # the kink: a difference quotient across z = 0 is meaningless
        w1, b1, _, _ = unpack(theta, hidden)
        assume(np.min(np.abs(np.outer(x, w1) + b1)) > 1e-3)
    net = MLP(hidden, activation)
    grad = np.empty((1, theta.size))
    net.loss_and_grad(theta[None, :].copy(), x, y, grad)
    expected = central_differences(theta, x, y, hidden, activation)
    np.testing.assert_allclose(grad[0], expected, rtol=1e-6, atol=1e-8)


def test_every_run_of_a_batch_gets_its_own_gradient():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-1, 1, 7), rng.normal(size=7)
    thetas = rng.normal(size=(5, n_params(3)))
    batch = MLP(3, "tanh", runs=5)
    g = np.empty_like(thetas)
    losses = batch.loss_and_grad(thetas, x, y, g).copy()
    for k in range(5):
        one = MLP(3, "tanh")
        gk = np.empty((1, thetas.shape[1]))
        lk = one.loss_and_grad(thetas[k:k + 1].copy(), x, y, gk)
        np.testing.assert_allclose(losses[k], lk[0], rtol=1e-14)
        np.testing.assert_allclose(g[k], gk[0], rtol=1e-13, atol=1e-16)


def test_relu_derivative_at_zero_is_zero_as_the_tutorial_defines_it():
    relu = get_activation("relu")
    a = relu.forward(np.array([-1.0, 0.0, 2.0]), np.empty(3))
    d = relu.derivative(a, np.empty(3))
    assert list(d) == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivative_matches_finite_differences(name):
    act = get_activation(name)
    z = np.linspace(-4, 4, 81) + 0.0123     # avoid relu's kink at exactly 0
    h = 1e-6
    f = lambda v: act.forward(v, np.empty_like(v))   # noqa: E731
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    analytic = act.derivative(f(z), np.empty_like(z))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_sigmoid_is_exact_far_in_the_tails_and_warns_nothing():
    act = get_activation("sigmoid")
    with np.errstate(over="ignore"):
        a = act.forward(np.array([-800.0, 0.0, 800.0]), np.empty(3))
    assert a[0] == 0.0 and a[1] == 0.5 and a[2] == 1.0


# -- the tutorial's worked example, worked by hand with math (scalar, independent code) -----
def hand_worked(lr=0.1):
    x, y_true, w1, b1, w2, b2 = 3.0, 2.5, 2.0, -1.0, 1.5, 0.5
    z1 = w1 * x + b1
    a1 = 1 / (1 + math.exp(-z1))
    y_pred = w2 * a1 + b2
    L = (y_true - y_pred) ** 2
    dy = -2 * (y_true - y_pred)
    dw2, db2 = dy * a1, dy
    da1 = dy * w2
    s = a1 * (1 - a1)
    dw1, db1 = da1 * s * x, da1 * s
    new = (w1 - lr * dw1, b1 - lr * db1, w2 - lr * dw2, b2 - lr * db2)
    y_new = new[2] / (1 + math.exp(-(new[0] * x + new[1]))) + new[3]
    return dict(z1=z1, a1=a1, y_pred=y_pred, loss=L, dL_dy_pred=dy, dL_dw2=dw2, dL_db2=db2,
                dL_da1=da1, da1_dz1=s, dL_dw1=dw1, dL_db1=db1, w1_new=new[0], b1_new=new[1],
                w2_new=new[2], b2_new=new[3], y_pred_new=y_new, loss_new=(y_true - y_new) ** 2)


@pytest.mark.parametrize("lr", [0.1, 0.5, 1.0])
def test_tutorial_example_exact(lr):
    step = tutorial_step(lr)
    for name, value in hand_worked(lr).items():
        got = float(np.ravel(getattr(step, name))[0])
        assert got == pytest.approx(value, abs=1e-12, rel=1e-12), name


def test_tutorial_example_agrees_with_its_printout_to_rounding():
    step = tutorial_step(0.1)
    for name, printed in TUTORIAL_PRINTED.items():
        assert float(np.ravel(getattr(step, name))[0]) == pytest.approx(printed, abs=7e-4), name
    diffs = differences_from_printout(step)
    assert "loss" in diffs and diffs["loss"][1] == 0.2602       # the example: 0.2601 exactly
    assert round(diffs["loss"][0], 4) == 0.2601
    assert "z1" not in diffs and "a1" not in diffs


def test_pack_unpack_round_trip():
    theta = pack([1, 2], [3, 4], [5, 6], 7)
    w1, b1, w2, b2 = unpack(theta, 2)
    assert list(w1) == [1, 2] and list(b1) == [3, 4] and list(w2) == [5, 6] and b2 == 7
