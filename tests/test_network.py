"""The hand-written backward pass against independent oracles."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.activations import ACTIVATIONS
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
        np.testing.assert_array_equal(losses[k], lk[0])          # to the bit (issue 18)
        np.testing.assert_array_equal(g[k], gk[0])


@settings(max_examples=80, deadline=None)
@given(activation=st.sampled_from(sorted(ACTIVATIONS)), runs=st.integers(2, 24),
       hidden=st.integers(1, 20), n=st.integers(1, 150), seed=st.integers(0, 2**32 - 1))
def test_a_run_is_bit_identical_whatever_runs_beside_it(activation, runs, hidden, n, seed):
    """Each row of θ (C-ordered, as the engine makes it) alone gives, to the bit, its loss,
    gradient and pass record in the batch: no product sums in an order that depends on K."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-3, 3, n), rng.normal(0, 2, n)
    thetas = rng.normal(0, 2, size=(runs, n_params(hidden)))
    g = np.empty_like(thetas)
    batch = MLP(hidden, activation, runs=runs)
    losses = batch.loss_and_grad(thetas, x, y, g).copy()
    p = batch.record()
    for k in range(runs):
        one = MLP(hidden, activation)
        gk = np.empty((1, thetas.shape[1]))
        lk = one.loss_and_grad(thetas[k:k + 1].copy(), x, y, gk)
        q = one.record()
        assert losses[k].tobytes() == lk[0].tobytes() and g[k].tobytes() == gk[0].tobytes(), k
        for name in ("z1", "a1", "y_pred", "da1_dz1", "dL_dy_pred"):
            assert getattr(p, name)[k].tobytes() == getattr(q, name)[0].tobytes(), (k, name)



@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_the_record_of_a_pass_is_the_tutorials_forward_and_backward(activation):
    """Pass fields against the formulas written out with numpy broadcasting (independent code)."""
    rng = np.random.default_rng(5)
    H, N = 3, 6
    x, y = rng.uniform(-1, 1, N), rng.normal(size=N)
    thetas = rng.normal(size=(2, n_params(H)))
    net = MLP(H, activation, runs=2)
    grad = np.empty_like(thetas)
    loss_ = net.loss_and_grad(thetas, x, y, grad).copy()
    p = net.record()
    act = ACTIVATIONS[activation]
    w1, b1, w2, b2 = unpack(thetas, H)
    z1 = x[None, :, None] * w1[:, None, :] + b1[:, None, :]
    a1 = act.forward(z1, np.empty_like(z1))
    y_pred = np.sum(a1 * w2[:, None, :], axis=2) + b2[:, None]
    np.testing.assert_allclose(p.z1, z1, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(p.a1, a1, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(p.y_pred, y_pred, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(loss_, np.mean((y - y_pred) ** 2, axis=1), rtol=1e-13)
    np.testing.assert_allclose(p.dL_dy_pred, 2 * (y_pred - y) / N, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(p.da1_dz1, act.derivative(a1, np.empty_like(a1)), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(p.dL_da1, p.dL_dy_pred[:, :, None] * w2[:, None, :], rtol=1e-13)
    # the gradient the engine uses is the sum over samples of the record's per-sample derivatives
    gw1, gb1, gw2, gb2 = unpack(grad, H)
    np.testing.assert_allclose(gw1, np.sum(p.dL_dz1 * x[None, :, None], axis=1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gb1, np.sum(p.dL_dz1, axis=1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gw2, np.sum(p.dL_dy_pred[:, :, None] * a1, axis=1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gb2, np.sum(p.dL_dy_pred, axis=1), rtol=1e-12, atol=1e-15)
    net.forward(thetas, x)
    assert net.record().da1_dz1 is None and net.record().dL_dy_pred is None


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_the_data_come_with_every_call_so_a_subset_is_a_mini_batch(activation):
    """One network on the whole data, a subset, and the whole again: each equals a fresh one."""
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-2, 2, 9), rng.normal(size=9)
    theta = rng.normal(size=(3, n_params(4)))

    def fresh(xs, ys):
        g = np.empty_like(theta)
        return MLP(4, activation, runs=3).loss_and_grad(theta, xs, ys, g).copy(), g

    net, g = MLP(4, activation, runs=3), np.empty_like(theta)
    for xs, ys in ((x, y), (x[:4].copy(), y[:4].copy()), (x, y)):
        loss_, (ref_loss, ref_g) = net.loss_and_grad(theta, xs, ys, g).copy(), fresh(xs, ys)
        np.testing.assert_array_equal(loss_, ref_loss)
        np.testing.assert_array_equal(g, ref_g)


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
