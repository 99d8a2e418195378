"""Lockstep training: vectorized runs equal separate runs; divergence is detected and isolated."""
import warnings
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import outcomes as oc
from core.data import Dataset
from core.engine import Trainer
from core.experiment import Experiment, preset
from core.explain import tutorial_step
from core.models import ModelSpec
from core.network import pack


def forward_loss(theta, x, y, hidden, activation):
    return ModelSpec("mlp", hidden, activation).loss(theta, x, y)


def predict(theta, x, hidden, activation):
    return ModelSpec("mlp", hidden, activation).predict(theta, x)


def mlp(hidden, activation):
    return ModelSpec("mlp", hidden, activation)


def data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 2, n)
    return Dataset(x, 2 * x + 1 + 0.1 * rng.standard_normal(n), "linear")


def test_vectorized_runs_equal_separate_runs():
    d = data()
    theta0 = np.random.default_rng(3).normal(size=3 * 4 + 1)
    lrs = [0.003, 0.03, 0.1, 0.3, 0.7]
    together = Trainer(d, mlp(4, "tanh"), lrs, theta0, 300)
    together.step(300)
    for k, lr in enumerate(lrs):
        alone = Trainer(d, mlp(4, "tanh"), [lr], theta0, 300)
        alone.step(300)
        np.testing.assert_allclose(together.loss_history()[k], alone.loss_history()[0], rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(together.theta[k], alone.theta[0], rtol=1e-12, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), runs=st.integers(2, 7), hidden=st.integers(1, 20),
       samples=st.integers(1, 120), model=st.sampled_from(["sigmoid", "relu", "tanh", "identity", "linear"]))
def test_a_run_is_bit_identical_whatever_trains_beside_it(seed, runs, hidden, samples, model):
    """Issue 18: each run trained alone gives, to the bit, its loss row and parameters of the
    group (random sizes, activations, rates from creeping to blowing up, at any position)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, samples)
    d = Dataset(x, 2 * x + 1 + rng.normal(0, 0.5, samples), "linear")
    spec = ModelSpec("linear") if model == "linear" else mlp(hidden, model)
    theta0 = spec.initial_params(rng)
    lrs = 10.0 ** rng.uniform(-3, 1.5, runs)
    steps = 40
    group = Trainer(d, spec, lrs, theta0, steps)
    for n in rng.integers(1, 15, size=10):          # in batches, as the window trains
        group.step(n)
    group.step(steps)
    for k, lr in enumerate(lrs):
        alone = Trainer(d, spec, [lr], theta0, steps)
        alone.step(steps)
        assert group.loss_history()[k].tobytes() == alone.loss_history()[0].tobytes(), (k, lr)
        assert group.theta[k].tobytes() == alone.theta[0].tobytes(), (k, lr)
        assert group.progress().grad[k].tobytes() == alone.progress().grad[0].tobytes(), (k, lr)


def test_exercise3_alone_is_its_column_beside_a_run_that_blows_up():
    """The issue's case: ``--lr 0.1`` against ``--lr 1e6 0.1`` (they differed from step 27)."""
    e = preset("exercise3").validated()
    alone = replace(e, learning_rates=(0.1,)).trainer()
    pair = replace(e, learning_rates=(1e6, 0.1)).trainer()
    alone.step(e.steps)
    pair.step(e.steps)
    assert not pair.active[0]
    np.testing.assert_array_equal(pair.loss_history()[1], alone.loss_history()[0])
    np.testing.assert_array_equal(pair.theta[1], alone.theta[0])


def test_losses_are_recorded_after_every_update():
    """losses[k] is the loss after k updates: replay gradient descent with a plain loop."""
    d = data(5)
    theta = np.random.default_rng(0).normal(size=7)
    tr = Trainer(d, mlp(2, "sigmoid"), [0.2], theta, 10)
    for _ in range(10):          # one step at a time and all at once must agree
        tr.step(1)
    ref = Trainer(d, mlp(2, "sigmoid"), [0.2], theta, 10)
    ref.step(10)
    np.testing.assert_array_equal(tr.loss_history(), ref.loss_history())
    # Independent oracle: the forward pass of parameters updated with central-difference gradients.
    h, th, expected = 1e-6, theta.copy(), []
    for _ in range(11):
        expected.append(forward_loss(th[None], d.x, d.y, 2, "sigmoid")[0])
        g = np.array([(forward_loss((th + h * e)[None], d.x, d.y, 2, "sigmoid")[0]
                       - forward_loss((th - h * e)[None], d.x, d.y, 2, "sigmoid")[0]) / (2 * h)
                      for e in np.eye(th.size)])
        th = th - 0.2 * g
    np.testing.assert_allclose(tr.loss_history()[0], expected, rtol=1e-6)


def test_step_stops_at_the_budget():
    tr = Trainer(data(), mlp(2, "relu"), [0.1], np.full(7, 0.3), 25)
    assert tr.step(10) == 10 and tr.step(100) == 15 and tr.step(5) == 0
    assert tr.done and tr.loss_history().shape == (1, 26)


def test_tutorial_first_update_matches_the_worked_example():
    exp = preset("tutorial").validated()
    tr = exp.trainer()
    tr.step(1)
    step = tutorial_step(0.1)
    assert tr.loss_history()[0, 0] == pytest.approx(step.loss, abs=1e-15)
    assert tr.loss_history()[0, 1] == pytest.approx(step.loss_new, abs=1e-15)
    np.testing.assert_allclose(tr.theta[0], pack(step.w1_new, step.b1_new, step.w2_new, step.b2_new), atol=1e-15)


def test_divergence_is_detected_and_isolated():
    d = data()
    theta0 = np.random.default_rng(5).normal(size=3 * 3 + 1)
    lrs = [0.05, 50.0, 0.1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # no numpy warning may escape
        tr = Trainer(d, mlp(3, "identity"), lrs, theta0, 400)
        tr.step(400)
    assert tr.outcomes[1] == oc.DIVERGED and not tr.active[1]
    k = tr.diverged_steps()[1]
    assert 0 < k < 400
    hist = tr.loss_history()[1]
    assert np.all(np.isfinite(hist[:k])) and np.all(np.isnan(hist[k + 1:]))
    assert np.all(np.isfinite(tr.theta[1]))          # keeps its last finite parameters
    # the stopped run's parameters are those after k−1 updates: their loss is within the bound
    assert forward_loss(tr.theta[1:2], d.x, d.y, 3, "identity")[0] <= tr.bound
    # ... and the others trained exactly as if alone
    for j in (0, 2):
        alone = Trainer(d, mlp(3, "identity"), [lrs[j]], theta0, 400)
        alone.step(400)
        np.testing.assert_allclose(tr.loss_history()[j], alone.loss_history()[0], rtol=1e-12)
        assert tr.outcomes[j] != oc.DIVERGED


def test_a_stopped_run_is_the_same_whatever_the_batches():
    """Blanking a stopped run's losses per batch and freezing its parameters per step agree
    with one step at a time; its parameters are exactly those after k − 1 updates alone."""
    d = data()
    theta0 = np.random.default_rng(5).normal(size=3 * 3 + 1)
    lrs = [0.05, 50.0, 0.1, 20.0]
    whole = Trainer(d, mlp(3, "identity"), lrs, theta0, 300)
    whole.step(300)
    pieces = Trainer(d, mlp(3, "identity"), lrs, theta0, 300)
    for n in np.random.default_rng(1).integers(1, 40, size=100):
        pieces.step(n)
    assert pieces.done
    np.testing.assert_array_equal(pieces.loss_history(), whole.loss_history())
    np.testing.assert_array_equal(pieces.theta, whole.theta)
    for j in (1, 3):
        k = whole.diverged_steps()[j]
        assert not whole.active[j] and 0 < k < 300
        alone = Trainer(d, mlp(3, "identity"), [lrs[j]], theta0, k - 1)
        alone.step(k - 1)
        np.testing.assert_allclose(whole.theta[j], alone.theta[0], rtol=1e-9)   # round-off grows with the run
        assert np.all(whole.progress().grad[j] == 0) and np.all(whole.delta[j] == 0)


def test_nan_data_blowup_records_empty_cells_not_inf():
    d = data()
    tr = Trainer(d, mlp(2, "relu"), [1e6], np.full(7, 1.0), 50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr.step(50)
    assert tr.outcomes == (oc.DIVERGED,)
    assert not np.isinf(tr.loss_history()).any()


def test_exercise4_half_rate_zigzags_its_fit():
    """At η = 0.5 successive updates point in opposite directions: the fit flips side to side."""
    exp = preset("exercise4").validated()
    tr = exp.trainer()
    tr.step(exp.steps - 20)
    fits, dots = [], []
    for _ in range(20):
        before = tr.theta[2].copy()
        tr.step(1)
        fits.append(predict(tr.theta[2:3], tr.data.x, 2, "sigmoid")[0])
        dots.append(tr.theta[2] - before)
    reversals = [np.dot(a, b) < 0 for a, b in zip(dots, dots[1:])]
    assert np.mean(reversals) > 0.9
    moves = np.diff(np.array(fits), axis=0)           # the change of the fitted curve each step
    assert np.mean([np.dot(a, b) < 0 for a, b in zip(moves, moves[1:])]) > 0.9


def test_tutorial_half_learning_rate_flips_the_prediction_but_the_loss_falls():
    """ηλ_max ≈ 0.5·3.97 > 1: the fit overshoots to the other side of y_true each step (issue 4's oracle)."""
    exp = replace(preset("tutorial"), learning_rates=(0.5,), steps=60).validated()
    tr2 = exp.trainer()
    ys = []
    for _ in range(6):
        ys.append(predict(tr2.theta, [3.0], 1, "sigmoid")[0, 0])
        tr2.step(1)
    sides = np.sign(np.array(ys) - 2.5)
    assert list(sides) == [-1, 1, -1, 1, -1, 1]
    assert np.all(np.diff(tr2.loss_history()[0]) < 0)
    tr2.step(60)
    assert tr2.outcomes == (oc.OSCILLATING,)


def test_progress_is_a_copy_safe_to_hand_to_another_thread():
    tr = preset("exercise4").validated().trainer()
    p = next(tr.run(chunk=10))
    assert p.t == 10 and p.losses.shape == (4, 11)
    before = p.losses.copy()
    tr.step(10)
    np.testing.assert_array_equal(p.losses, before)
    assert not np.shares_memory(p.theta, tr.theta)


def test_long_budget_memory_is_paged_in_lazily():
    """16 runs × 1,000,000 steps: 128 MB of float64 reserved, but only what is trained is touched."""
    exp = Experiment(learning_rates=(0.1,) * 16, steps=1_000_000).validated()
    tr = exp.trainer()
    assert tr.losses.nbytes == 16 * 1_000_001 * 8
    tr.step(10)
    assert tr.t == 10


# -- the preconditioned sharpness of adaptive runs (issue 12) ---------------------------------------
def test_adam_runs_note_their_preconditioner_at_the_sharpness_steps():
    """After Adam's first update v̂ = g₀², so P = |g₀| + ε: at step 1 the preconditioned sharpness is
    the top eigenvalue of D H(θ₁) D with D = (|g₀| + ε)^(−1/2), worked out here by hand.  At step 0
    (no update yet) P = 1: it is λ_max.  The gradient-descent run has none (NaN)."""
    from core.optim import Recipe
    exp = Experiment(hidden=3, samples=20, steps=10,
                     runs=(Recipe(0.1), Recipe(0.01, "adam", eps=1e-3))).validated()
    tr = exp.trainer(sharpness_every=1)
    spec, x, y = exp.model_spec(), tr.data.x, tr.data.y
    theta0 = tr.theta.copy()
    g0 = np.empty_like(theta0)
    spec.build(runs=2).loss_and_grad(theta0, x, y, g0)
    tr.step(1)
    theta1 = tr.theta[1]
    H1 = spec.hessian(theta1[None], x, y)[0]
    D = 1.0 / np.sqrt(np.abs(g0[1]) + 1e-3)
    expected = np.linalg.eigvalsh(H1 * D[:, None] * D[None, :])[-1]
    pre = tr.preconditioned_sharpness
    assert pre.shape == (2, 2)
    assert np.isnan(pre[0]).all()
    assert pre[1, 0] == pytest.approx(tr.sharpness[1, 0], rel=1e-12)
    assert pre[1, 1] == pytest.approx(expected, rel=1e-9)
    assert tr.progress().preconditioned_sharpness[1, 1] == pre[1, 1]


def test_no_adaptive_run_no_preconditioned_sharpness():
    tr = Experiment(steps=4).validated().trainer(sharpness_every=2)
    tr.step(4)
    assert tr.preconditioned_sharpness is None and tr.progress().preconditioned_sharpness is None
