"""Issue 4's oracles: curvature explains what each learning rate does."""
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core import outcomes as oc
from core.curvature import eigenvalues, forecast, linear_hessian, linear_loss_curves
from core.diagnostics import dead_units
from core.engine import Trainer
from core.experiment import Experiment, preset
from core.landscape import landscape, parameter_plane
from core.network import pack
from core.phase import phase_diagram
from core.trajectory import trajectory

ROOT = Path(__file__).resolve().parents[1]


def linear_experiment(lrs, lo=0.0, hi=1.0, steps=200):
    return Experiment(model="linear", dataset="linear", samples=100, noise=0.0, x_range=(lo, hi),
                      learning_rates=tuple(lrs), steps=steps, init={"w": 0.0, "b": 0.0}).validated()


# -- the tutorial's network at its worked-example parameters --------------------------------
def tutorial_predictions(lr, steps):
    tr = replace(preset("tutorial"), learning_rates=(lr,), steps=steps).validated().trainer()
    preds = []
    for _ in range(steps):
        preds.append(tr.model.predict(tr.theta, [3.0])[0, 0])
        tr.step(1)
    return np.array(preds), tr


def test_tutorial_half_rate_prediction_oscillates_while_converging():
    preds, _ = tutorial_predictions(0.5, 400)
    np.testing.assert_allclose(preds[:4], [1.99, 3.00, 2.00, 2.99], atol=0.01)
    err = np.abs(preds - 2.5)
    assert err[-1] < 0.01 * err[0]                              # converging
    assert np.all(np.sign(preds[:50] - 2.5) == np.tile([-1, 1], 25))   # ... from alternate sides


def test_tutorial_rate_one_cycles_between_two_predictions():
    preds, tr = tutorial_predictions(1.0, 60)
    assert tr.loss_history()[0, -1] == pytest.approx(469, rel=0.002)
    assert sorted(np.round(preds[-2:], 2)) == [-19.15, 24.15]


# -- the model without a hidden layer: the forecast is exact --------------------------------
def top_mode_errors(exp):
    tr = exp.trainer()
    x, y = tr.data.x, tr.data.y
    theta_star = np.linalg.lstsq(np.stack([x, np.ones_like(x)], 1), y, rcond=None)[0]
    lam, vecs = np.linalg.eigh(linear_hessian(x))
    errs = []
    for _ in range(exp.steps):
        errs.append((tr.theta - theta_star) @ vecs[:, -1])
        tr.step(1)
    return np.array(errs), lam[-1], tr


def test_linear_half_rate_converges_with_the_top_mode_flipping():
    errs, lam_max, tr = top_mode_errors(linear_experiment([0.5], steps=30))
    ratios = errs[1:12, 0] / errs[:11, 0]                     # before round-off takes over
    np.testing.assert_allclose(ratios, 1 - 0.5 * lam_max, rtol=1e-6)
    assert 1 - 0.5 * lam_max == pytest.approx(-0.268, abs=1e-3)
    assert tr.loss_history()[0, -1] < 1e-3 * tr.loss_history()[0, 0]


def test_linear_rate_one_diverges_by_its_predicted_factor():
    errs, lam_max, tr = top_mode_errors(linear_experiment([1.0], steps=30))
    k = tr.diverged_steps()[0]                 # the run stops when its loss passes the bound
    assert 10 < k < 30 and not tr.active[0] and tr.outcomes == (oc.DIVERGED,)
    ratios = np.abs(errs[1:k - 1, 0] / errs[:k - 2, 0])
    np.testing.assert_allclose(ratios, 1.536, atol=2e-3)


def test_linear_forecast_and_predicted_curve_match_training():
    exp = linear_experiment([0.1, 0.5, 0.7], steps=300)
    tr = exp.trainer()
    tr.step(300)
    predicted = linear_loss_curves(tr.data.x, tr.data.y, exp.initial_params(), exp.learning_rates, 300)
    np.testing.assert_allclose(tr.loss_history(), predicted, rtol=1e-7, atol=1e-12)
    f = forecast(tr.hessian()[0], exp.learning_rates)
    assert f.critical_lr == pytest.approx(0.789, abs=1e-3)
    assert forecast(linear_experiment([0.01], 0, 10).trainer().hessian()[0], [0.01]).critical_lr == \
        pytest.approx(0.0292, abs=1e-4)


# -- edge of stability ---------------------------------------------------------------------
def test_edge_of_stability_sharpness_hovers_at_two_over_eta():
    exp = Experiment(dataset="linear", samples=100, noise=0.0, x_range=(0.0, 10.0), activation="sigmoid",
                     hidden=16, learning_rates=(0.01, 0.02), steps=20000, seed=0).validated()
    tr = exp.trainer(sharpness_every=100)
    tr.step(exp.steps)
    second_half = np.array(tr.sharpness_steps) >= exp.steps // 2
    L = tr.loss_history()
    for k, lr in enumerate(exp.learning_rates):
        assert 1.9 <= lr * np.mean(tr.sharpness[k, second_half]) <= 2.1
        assert np.mean(np.diff(L[k, exp.steps // 2:]) > 0) > 0.3
        assert L[k, -1] < 1e-3 * L[k, 0]


def test_sharpness_tracking_records_every_k_steps_and_matches_the_hessian():
    exp = replace(preset("exercise4"), steps=250).validated()
    tr = exp.trainer(sharpness_every=50)
    tr.step(250)
    assert tr.sharpness_steps == [0, 50, 100, 150, 200, 250]
    np.testing.assert_allclose(tr.sharpness[:, -1], eigenvalues(tr.hessian())[:, -1])
    assert np.all(tr.sharpness >= 2.0 - 1e-9)


def test_sharpness_noted_while_training_is_measured_when_read():
    """Training only notes θ at the sharpness steps; λ_max and λ_min read later (in batches) are
    the eigenvalues of the Hessian at each of those steps, a diverged run's NaN after it stopped."""
    exp = replace(preset("exercise4"), steps=300, learning_rates=(0.1, 1.0, 10.0)).validated()
    tr = exp.trainer(sharpness_every=20)
    for n in (7, 60, 233):                                   # batches across the noting steps
        tr.step(n)
        assert tr.progress(sharpness=False).sharpness is None
    assert len(tr.sharpness_steps) == 16 and len(tr._lam_max) == 0     # noted, not measured yet
    lam_max, lam_min = tr.sharpness, tr.lambda_min
    for m, step in enumerate(tr.sharpness_steps):
        ref = exp.trainer()
        ref.step(step)
        ev = eigenvalues(ref.hessian())
        live = ref.active
        np.testing.assert_allclose(lam_max[live, m], ev[live, -1], rtol=1e-9)
        np.testing.assert_allclose(lam_min[live, m], ev[live, 0], rtol=1e-9, atol=1e-12)
        assert np.all(np.isnan(lam_max[~live, m]))
    assert not tr.active[2]                                  # (lr = 10 blows up at step 3)
    np.testing.assert_array_equal(tr.progress().sharpness, lam_max)


# (the range test's tests are in test_range_test.py)


# -- landscape, dead units, phase diagram ----------------------------------------------------
def test_linear_landscape_is_the_exact_quadratic():
    exp = linear_experiment([0.5], steps=40)
    data, spec = exp.make_data(), exp.model_spec()
    path = trajectory(exp, data=data)
    ls = parameter_plane(path, lambda th: spec.loss(th, data.x, data.y), 0, 1, ("w", "b"), grid=21)
    w, b = ls.alphas[3] + path[-1][0], ls.betas[5] + path[-1][1]
    assert ls.losses[5, 3] == pytest.approx(np.mean((w * data.x + b - data.y) ** 2), rel=1e-12)
    assert ls.off_plane == pytest.approx(0.0, abs=1e-12)


def test_oscillating_run_zigzags_across_the_valley_in_the_pca_plane():
    exp = replace(preset("tutorial"), learning_rates=(0.5,), steps=60).validated()
    data, spec = exp.make_data(), exp.model_spec()
    ls = landscape(trajectory(exp, data=data), lambda th: spec.loss(th, data.x, data.y), grid=15)
    assert 0.0 <= ls.off_plane < 0.5 and ls.losses.shape == (15, 15)
    moves = np.diff(ls.path, axis=0)
    turns = np.sum(moves[1:] * moves[:-1], axis=1) < 0       # each step undoes the last one's direction
    assert np.mean(turns) > 0.9


def test_dead_relu_units_are_counted():
    x = np.linspace(-1, 1, 9)
    alive = pack([1.0, 2.0], [0.5, 0.0], [1, 1], 0)
    dead = pack([0.0, 1.0], [-1.0, 5.0], [1, 1], 0)          # unit 0: z = −1 everywhere
    assert list(dead_units(np.array([alive, dead]), x, 2, "relu")) == [0, 1]
    assert list(dead_units(np.array([dead]), x, 2, "sigmoid")) == [0]


def test_phase_diagram_over_seeds_equals_separate_runs():
    exp = replace(preset("exercise3"), steps=300).validated()
    lrs = [0.05, 0.5, 3.0]
    pd = phase_diagram(exp, lrs, seeds=[0, 4])
    data = exp.make_data()
    for i, s in enumerate((0, 4)):
        theta0 = replace(exp, seed=s).validated().initial_params()
        tr = Trainer(data, exp.model_spec(), lrs, theta0, exp.steps)
        tr.step(exp.steps)
        np.testing.assert_allclose(pd.final[i], tr.loss_history()[:, -1], rtol=1e-12)
        assert tuple(pd.outcomes[i]) == tr.outcomes
    assert pd.outcomes[0, 2] == oc.DIVERGED


def test_phase_diagram_over_widths():
    exp = replace(preset("exercise3"), steps=100).validated()
    pd = phase_diagram(exp, [0.1, 5.0], widths=[1, 3])
    assert pd.final.shape == (2, 2) and pd.rows == (1, 3) and pd.row_name == "hidden"
    assert list(pd.outcomes[:, 1]) == [oc.DIVERGED, oc.DIVERGED]


# -- the command line ------------------------------------------------------------------------
def lrlab(*args, cwd=None):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def test_analyze_prints_and_writes_the_forecast(tmp_path):
    out = tmp_path / "a.json"
    r = lrlab("analyze", "--preset", "tutorial", "--lr", "0.1", "0.5", "1.0", "--json", out)
    assert r.returncode == 0, r.stderr
    assert "0.50318" in r.stdout and "monotone" in r.stdout and "unstable" in r.stdout
    d = json.loads(out.read_text())
    assert {"sharpness", "critical_lr", "best_lr", "eigenvalues", "runs"} <= set(d)
    assert d["critical_lr"] == pytest.approx(0.50318, abs=1e-5)
    assert [(r["lr"], r["forecast"]) for r in d["runs"]] == [(0.1, "monotone"), (0.5, "oscillating"), (1.0, "unstable")]


def test_linear_model_on_the_command_line():
    r = lrlab("analyze", "--model", "linear", "--dataset", "linear", "--samples", "100", "--noise", "0",
              "--x-range", "0", "1", "--lr", "0.5")
    assert r.returncode == 0, r.stderr
    assert "0.788664" in r.stdout and "exact" in r.stdout


def test_lr_find_prints_suggestions():
    r = lrlab("lr-find", "--preset", "exercise3", "--range-steps", "60")
    assert r.returncode == 0, r.stderr
    for word in ("steepest", "minimum / 10", "valley", "η*"):
        assert word in r.stdout


def test_train_sharpness_into_json(tmp_path):
    out = tmp_path / "s.json"
    r = lrlab("train", "--preset", "exercise4", "--steps", "200", "--sharpness-every", "50", "--json", out)
    assert r.returncode == 0, r.stderr
    runs = json.loads(out.read_text())["runs"]
    assert runs[0]["sharpness_steps"] == [0, 50, 100, 150, 200] and len(runs[0]["sharpness"]) == 5


@pytest.mark.parametrize("args, word", [
    (["train", "--sharpness-every", "x"], "--sharpness-every"),
    (["train", "--sharpness-every", "-1"], "--sharpness-every"),
    (["analyze", "--model", "cnn"], "'cnn'"),
    (["lr-find", "--lr-min", "0"], "--lr-min"),
    (["lr-find", "--lr-min", "1", "--lr-max", "0.1"], "lr-min"),
    (["lr-find", "--range-steps", "2"], "--range-steps"),
])
def test_bad_analysis_input(args, word):
    r = lrlab(*args)
    assert r.returncode == 2 and word in r.stderr and len(r.stderr.splitlines()) == 1
