"""core.recipes (runs as recipes: flat fields, --run, column labels, the forecast per run) and the
experiment file's version 2.  Oracles: closed forms on the model without a hidden layer, rates
worked out by hand from each schedule's formula, recurrences iterated by hand."""
import json
import math
from dataclasses import replace

import numpy as np
import pytest

from core.errors import ConfigError
from core.experiment import Experiment, preset
from core.optim import Recipe
from core.recipes import column_labels, crosses_at, parse_run, run_forecasts, with_fields
from core.schedules import Schedule

# The model without a hidden layer on 100 points evenly over [0, 1] (issue 12's figures).
LINEAR = Experiment(dataset="linear", samples=100, noise=0.0, x_range=(0.0, 1.0), model="linear",
                    learning_rates=(0.1,), steps=2000)


def lam_max_by_hand(x):
    """The top eigenvalue of (2/N)·[[Σx², Σx], [Σx, N]] from the quadratic formula."""
    n = len(x)
    a, b, c = 2 * sum(v * v for v in x) / n, 2 * sum(x) / n, 2.0
    return (a + c) / 2 + math.sqrt(((a - c) / 2) ** 2 + b * b)


def test_critical_rates_per_optimizer_are_the_closed_forms_on_the_linear_model():
    x = [i / 99 for i in range(100)]
    lam = lam_max_by_hand(x)
    assert lam == pytest.approx(2.535934, abs=1e-6)
    recipes = (Recipe(0.5), Recipe(0.5, "momentum", momentum=0.9), Recipe(0.5, "nesterov", momentum=0.9),
               Recipe(0.5, "momentum", momentum=0.5), Recipe(0.01, "adam"))
    exp = replace(LINEAR, runs=recipes).validated()
    crit = [r["critical_lr"] for r in run_forecasts(recipes, exp.update_rule(), lam, exp.steps)]
    assert crit[0] == pytest.approx(2 / lam, rel=1e-12) and crit[0] == pytest.approx(0.788664, abs=1e-6)
    assert crit[1] == pytest.approx(3.8 / lam, rel=1e-12) and crit[1] == pytest.approx(1.498462, abs=1e-6)
    assert crit[2] == pytest.approx(3.8 / 2.8 / lam, rel=1e-12) and crit[2] == pytest.approx(0.535165, abs=1e-6)
    assert crit[3] == pytest.approx(3.0 / lam, rel=1e-12)
    assert crit[4] is None                                   # Adam: no exact forecast at the start


@pytest.mark.parametrize("optimizer, factor", [("gd", 2.0), ("momentum", 3.8), ("nesterov", 3.8 / 2.8)])
def test_training_just_below_the_critical_rate_converges_and_just_above_diverges(optimizer, factor):
    lam = lam_max_by_hand([i / 99 for i in range(100)])
    crit = factor / lam
    runs = (Recipe(0.97 * crit, optimizer), Recipe(1.03 * crit, optimizer))
    exp = replace(LINEAR, runs=runs, steps=3000).validated()
    tr = exp.trainer()
    tr.step(exp.steps)
    losses = tr.loss_history()
    assert losses[0, -1] < 1e-6 * losses[0, 0]               # its top mode shrank
    assert tr.outcomes[1] == "diverged"                       # its top mode grew


def test_crosses_at_is_the_first_update_whose_rate_passes_the_critical_rate_by_hand():
    lr, crit, steps = 1.5, 2 / 2.535934238384372, 2000
    W, s = 1000, 1e-9                                         # warmup: ηₜ = η(s + (1 − s)·t/W) for t ≤ W
    t_warm = next(t for t in range(steps) if lr * (s + (1 - s) * min(t, W) / W) > crit)
    assert t_warm == 526                                      # issue 12: "crosses 2/λ_max at update ≈ 525"
    g = 1.001                                                 # exponential: ηₜ = η₀·γᵗ
    t_exp = math.floor(math.log(crit / 0.5) / math.log(g)) + 1
    T = steps                                                 # one-cycle, rising: ηₜ = η + (η/d − η)/2·(cos(πt/a) + 1)
    a = 0.3 * T - 1
    t_one = next(t for t in range(steps) if 1.0 + (1.0 / 25 - 1.0) / 2 * (math.cos(math.pi * t / a) + 1) > crit)
    runs = (Recipe(lr, schedule=Schedule("constant", warmup_steps=W, warmup_start_factor=s)),
            Recipe(0.5, schedule=Schedule("exponential", gamma=g)),
            Recipe(1.0, schedule=Schedule("one-cycle")),
            Recipe(1.0),                                      # constant, above: 0
            Recipe(0.5),                                      # constant, below: never
            Recipe(0.5, schedule=Schedule("cosine")))         # decays from below: never
    exp = replace(LINEAR, runs=runs, steps=steps).validated()
    assert crosses_at(exp.update_rule(), crit, steps) == [t_warm, t_exp, t_one, 0, None, None]


def test_crosses_at_of_gradient_descent_at_constant_rates():
    exp = replace(LINEAR, learning_rates=(0.5, 1.0)).validated()
    assert crosses_at(exp.update_rule(), 0.788, exp.steps) == [None, 0]


# -- the experiment file -----------------------------------------------------------------
V1_EXERCISE4 = """{
  "format": "lrlab-experiment",
  "version": 1,
  "dataset": "linear",
  "data_file": null,
  "samples": 50,
  "noise": 0.1,
  "x_range": [
    0.0,
    2.0
  ],
  "model": "mlp",
  "activation": "sigmoid",
  "hidden": 2,
  "learning_rates": [
    0.01,
    0.1,
    0.5,
    1.0
  ],
  "steps": 2000,
  "seed": 0
}
"""


def test_version_1_files_open_unchanged_and_plain_runs_are_written_as_version_1(tmp_path):
    path = tmp_path / "ex4.json"
    path.write_text(V1_EXERCISE4)
    exp = Experiment.load(path)
    assert exp == preset("exercise4").validated() and exp.runs is None
    assert exp.to_json() == V1_EXERCISE4
    # runs that are plain gradient descent at constant rates: the same version-1 file, byte for byte
    plain = replace(exp, runs=tuple(Recipe(lr) for lr in exp.learning_rates)).validated()
    assert plain.to_json() == V1_EXERCISE4


def test_version_2_round_trip(tmp_path):
    runs = (Recipe(0.5, "momentum", momentum=0.9,
                   schedule=Schedule("cosine", eta_min=0.001, warmup_steps=100, warmup_start_factor=0.01)),
            Recipe(0.01, "adam", betas=(0.8, 0.99), eps=1e-6, schedule=Schedule("one-cycle", pct_start=0.25)),
            Recipe(0.1, "rmsprop", alpha=0.9, schedule=Schedule("step", step_size=300, gamma=0.5)),
            Recipe(0.2, "nesterov", momentum=0.5, schedule=Schedule("exponential", gamma=0.999)),
            Recipe(0.3))
    exp = replace(LINEAR, runs=runs).validated()
    d = json.loads(exp.to_json())
    assert d["version"] == 2 and "learning_rates" not in d
    assert d["runs"][0] == {"lr": 0.5, "optimizer": "momentum", "momentum": 0.9,
                            "schedule": {"name": "cosine", "eta_min": 0.001,
                                         "warmup": {"steps": 100, "start_factor": 0.01}}}
    assert d["runs"][1] == {"lr": 0.01, "optimizer": "adam", "betas": [0.8, 0.99], "eps": 1e-6,
                            "schedule": {"name": "one-cycle", "pct_start": 0.25, "div_factor": 25.0,
                                         "final_div_factor": 1e4}}
    path = tmp_path / "e.json"
    path.write_text(exp.to_json())
    back = Experiment.load(path)
    assert back == exp and back.learning_rates == (0.5, 0.01, 0.1, 0.2, 0.3)


def test_version_2_experiment_level_recipe_is_the_default_of_the_runs_that_do_not_say():
    d = {"format": "lrlab-experiment", "version": 2, "model": "linear", "steps": 500,
         "optimizer": "momentum", "momentum": 0.8, "schedule": {"name": "exponential", "gamma": 0.99},
         "runs": [{"lr": 0.1}, {"lr": 0.2, "optimizer": "adam"}, {"lr": 0.3, "momentum": 0.5,
                                                                   "schedule": {"name": "constant"}}]}
    runs = Experiment.from_dict(d).runs
    assert runs[0] == Recipe(0.1, "momentum", momentum=0.8, schedule=Schedule("exponential", gamma=0.99))
    assert runs[1] == Recipe(0.2, "adam", momentum=0.8, schedule=Schedule("exponential", gamma=0.99))
    assert runs[2] == Recipe(0.3, "momentum", momentum=0.5)
    # no runs: the experiment-level recipe at every learning rate
    d2 = {"format": "lrlab-experiment", "version": 2, "learning_rates": [0.1, 0.2], "optimizer": "nesterov"}
    assert Experiment.from_dict(d2).runs == (Recipe(0.1, "nesterov"), Recipe(0.2, "nesterov"))


@pytest.mark.parametrize("change, words", [
    ({"runs": {"lr": 0.1}}, ["runs", "list"]),
    ({"runs": []}, ["runs", "[]"]),
    ({"runs": [0.1]}, ["run 1", "object", "0.1"]),
    ({"runs": [{"optimizer": "gd"}]}, ["run 1", "no lr"]),
    ({"runs": [{"lr": 0.1, "speed": 3}]}, ["run 1", "unknown key", "'speed'"]),
    ({"runs": [{"lr": 0.1}], "learning_rates": [0.1]}, ["learning_rates", "runs", "not both"]),
    ({"runs": [{"lr": 0.1, "optimizer": "sgd"}]}, ["run 1", "optimizer", "'sgd'"]),
    ({"runs": [{"lr": 0.1, "optimizer": "nesterov", "momentum": 0}]}, ["run 1", "momentum", "nesterov", "0"]),
    ({"runs": [{"lr": 0.1, "optimizer": "adam", "betas": [0.9, 1.0]}]}, ["run 1", "betas[1]", "1"]),
    ({"runs": [{"lr": 0.1, "schedule": {"name": "one-cycle", "warmup": {"steps": 10}}}]},
     ["run 1", "warmup", "one-cycle"]),
    ({"optimizer": "adamw", "learning_rates": [0.1]}, ["optimizer", "'adamw'"]),
    ({"version": 3}, ["version", "3"]),
])
def test_bad_version_2_files_name_the_field_and_the_value(change, words):
    d = {"format": "lrlab-experiment", "version": 2, "model": "linear", "steps": 500, **change}
    with pytest.raises(ConfigError) as e:
        Experiment.from_dict(d)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


# -- flat fields, --run and the column labels ------------------------------------------------
def test_with_fields_sets_the_recipe_and_schedule_attributes():
    r = with_fields(Recipe(0.1), {"optimizer": "adam", "beta2": "0.99", "schedule": "cosine", "eta_min": "0.01",
                                  "warmup_steps": "10", "warmup_start_factor": "0.5"}).check(100)
    assert r == Recipe(0.1, "adam", betas=(0.9, 0.99),
                       schedule=Schedule("cosine", eta_min=0.01, warmup_steps=10, warmup_start_factor=0.5))


def test_parse_run_reads_key_value_items_on_top_of_the_common_recipe():
    common = Recipe(0.1, "momentum", momentum=0.8)
    r = parse_run("lr=0.5, schedule=step, step-size=10, gamma=0.5", common).check(100)
    assert r == Recipe(0.5, "momentum", momentum=0.8, schedule=Schedule("step", step_size=10, gamma=0.5))
    assert parse_run("lr=1e-3,optimizer=adam,warmup=5,warmup_start=0.1", common).check(100).schedule == \
        Schedule(warmup_steps=5, warmup_start_factor=0.1)


@pytest.mark.parametrize("text, words", [
    ("lr=0.5,momentum", ["KEY=VALUE", "'momentum'"]),
    ("lr=0.5,speed=2", ["unknown key", "'speed'"]),
    ("optimizer=adam", ["lr=<rate>"]),
    ("lr=0.5,lr=0.6", ["lr", "twice"]),
    ("lr=0.5,momentum=", ["KEY=VALUE"]),
])
def test_parse_run_refuses_a_malformed_run(text, words):
    with pytest.raises(ConfigError) as e:
        parse_run(text, Recipe())
    for w in ["--run", *words]:
        assert w in str(e.value)


def test_column_labels_start_with_the_rate_and_add_what_differs():
    assert column_labels([Recipe(0.1), Recipe(1.0)]) == ["lr=0.1", "lr=1"]
    labels = column_labels([Recipe(0.1), Recipe(0.1, "momentum", momentum=0.9),
                            Recipe(0.1, "adam"), Recipe(0.1000001, "rmsprop")])
    assert labels == ["lr=0.1 gd", "lr=0.1 momentum(0.9)", "lr=0.1 adam(0.9;0.999;1e-08)",
                      "lr=0.1000001 rmsprop(0.99;1e-08)"]
    labels = column_labels([Recipe(0.5, schedule=Schedule("cosine", warmup_steps=100, warmup_start_factor=0.01)),
                            Recipe(0.5, "nesterov", momentum=0.5, schedule=Schedule("one-cycle")),
                            Recipe(0.5, schedule=Schedule("step", step_size=10, gamma=0.5))])
    assert labels == ["lr=0.5 gd warmup(100;0.01)+cosine(0)", "lr=0.5 nesterov(0.5) one-cycle(0.3;25;10000)",
                      "lr=0.5 gd step(10;0.5)"]
    for label in labels:
        assert "," not in label and float(label.split()[0][3:]) == 0.5


# -- presets -------------------------------------------------------------------------------
def test_the_momentum_preset_same_rate_gd_diverges_heavy_ball_trains_as_forecast():
    exp = preset("momentum").validated()
    lam = lam_max_by_hand([i / 99 for i in range(100)])
    assert exp.learning_rates[0] == exp.learning_rates[1]
    assert 2 / lam < exp.learning_rates[0] < 3.8 / lam           # between the two critical rates
    tr = exp.trainer()
    tr.step(exp.steps)
    assert tr.outcomes[0] == "diverged" and tr.loss_history()[1, -1] < 1e-12


def test_the_warmup_preset_same_rate_blows_up_at_once_and_trains_after_a_warmup():
    """Not a fixed point reached by luck: the warmed-up run flattens below its limit 2/η (the
    edge of stability) and fits the data to the noise, while the same η at once blows up."""
    from core.curvature import forecast
    exp = preset("warmup").validated()
    lr = exp.runs[0].lr
    assert exp.runs[1].lr == lr and exp.runs[1].schedule.warmup_steps > 0
    tr = exp.trainer(sharpness_every=exp.steps)
    assert lr > 2 / forecast(tr.hessian()[0], [lr]).sharpness          # above the cliff at the start
    tr.step(exp.steps)
    L = tr.loss_history()
    assert tr.diverged_step[0] > 0 and np.isnan(L[0, -1])                  # blew up, stopped
    assert tr.diverged_step[1] < 0 and 0 < L[1, -1] < 0.02 * L[1, 0]       # trained, not to an exact 0
    start, end = tr.sharpness[1, 0], tr.sharpness[1, -1]
    assert end < 2 / lr * 1.01 < start                                     # flattened to about 2/η


# -- the range test runs the experiment's optimizer ---------------------------------------------
def test_range_test_runs_heavy_ball_under_the_ramp_with_its_state_carried_across():
    from core.range_test import lr_schedule, range_test
    exp = replace(LINEAR, runs=(Recipe(0.1, "momentum", momentum=0.9),)).validated()
    steps = 30
    result = range_test(exp, lr_min=1e-3, lr_max=1.0, steps=steps)
    data = exp.make_data()
    x, y = data.x, data.y
    w, b = exp.initial_params()
    buf, losses = None, []
    for lr in lr_schedule(1e-3, 1.0, steps):                     # heavy ball by hand, one rate per update
        r = w * x + b - y
        losses.append(np.mean(r * r))
        g = np.array([np.mean(2 * r * x), np.mean(2 * r)])
        buf = g if buf is None else 0.9 * buf + g
        w, b = np.array([w, b]) - lr * buf
    np.testing.assert_allclose(result.losses, losses[:len(result.losses)], rtol=1e-10)


def test_preconditioned_sharpness_is_that_of_rmsprop_iterated_by_hand():
    """The engine's record (what `train --sharpness-every K --json` writes for adaptive runs)."""
    exp = replace(LINEAR, steps=25, runs=(Recipe(0.1), Recipe(0.01, "rmsprop", alpha=0.9))).validated()
    tr = exp.trainer(sharpness_every=10)
    tr.step(exp.steps)
    steps, values = tr.sharpness_steps, tr.preconditioned_sharpness
    assert steps == [0, 10, 20]
    data = exp.make_data()
    x, y = data.x, data.y
    n = len(x)
    H = (2 / n) * np.array([[np.sum(x * x), np.sum(x)], [np.sum(x), n]])
    theta, s, expected = exp.initial_params().copy(), np.zeros(2), []
    for t in range(21):
        if t in (0, 10, 20):
            d = np.ones(2) if t == 0 else 1 / np.sqrt(np.sqrt(s) + 1e-8)
            expected.append(np.linalg.eigvalsh(H * d[:, None] * d[None, :])[-1])
        r = theta[0] * x + theta[1] - y
        g = np.array([np.mean(2 * r * x), np.mean(2 * r)])
        s = 0.9 * s + 0.1 * g * g
        theta = theta - 0.01 * g / (np.sqrt(s) + 1e-8)
    np.testing.assert_allclose(values[1], expected, rtol=1e-9)
    assert np.isnan(values[0]).all()                              # plain gradient descent: not adaptive
    assert tr.sharpness[0][0] == pytest.approx(values[1][0])      # at step 0, P = 1: λ_max itself
