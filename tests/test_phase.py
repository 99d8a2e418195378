"""core.phase: the phase diagram keeps the experiment's recipe.

Oracle: the model without a hidden layer, whose Hessian is constant, 2/N·[[Σx², Σx], [Σx, N]]:
gradient descent is stable iff η·λ_max < 2, heavy ball with β iff η·λ_max < 2 + 2β (issue 12's
background).  A rate between the two limits trains in the phase diagram of a momentum experiment
and diverges in that of a gradient-descent one."""
from dataclasses import replace

import numpy as np

from core import outcomes as oc
from core.experiment import preset
from core.optim import Recipe
from core.phase import grid_recipe, phase_diagram


def limits(exp):
    """(gd's critical rate, heavy ball's at β = 0.9) from the Hessian written by hand."""
    x = exp.make_data().x
    N = len(x)
    lam_max = np.linalg.eigvalsh(2 / N * np.array([[np.sum(x * x), np.sum(x)], [np.sum(x), N]]))[-1]
    return 2 / lam_max, (2 + 2 * 0.9) / lam_max


def test_a_rate_between_gd_and_heavy_balls_limits_trains_with_momentum_and_diverges_with_gd():
    exp = preset("momentum").validated()                     # runs: gd at 1.0, momentum(0.9) at 1.0
    gd_limit, hb_limit = limits(exp)
    lrs = [0.5, 1.2, 1.6]
    assert lrs[0] < gd_limit < lrs[1] < hb_limit < lrs[2]
    momentum_first = replace(exp, runs=exp.runs[::-1]).validated()
    pd = phase_diagram(momentum_first, lrs, seeds=[0])
    assert pd.final.shape == (1, 3) and list(pd.lrs) == lrs   # the grid's rates, not the runs'
    assert pd.recipe.optimizer == "momentum" and pd.recipe.momentum == 0.9
    initial = momentum_first.trainer().losses[0, 0]
    assert pd.final[0, 0] < 1e-12 * initial and pd.final[0, 1] < 1e-12 * initial   # trains
    assert pd.outcomes[0, 2] == oc.DIVERGED
    assert "mix" in pd.note and "momentum(0.9)" in pd.note

    gd_first = phase_diagram(exp, lrs, seeds=[0])            # the first run is plain gradient descent
    assert gd_first.recipe.optimizer == "gd"
    assert gd_first.final[0, 0] < 1e-12 * initial
    assert list(gd_first.outcomes[0, 1:]) == [oc.DIVERGED, oc.DIVERGED]


def test_each_row_equals_the_experiment_of_those_rates_with_the_first_runs_recipe():
    exp = replace(preset("exercise3"), steps=200, runs=(Recipe(0.05, "adam"), Recipe(0.1, "adam"))).validated()
    lrs = [0.01, 0.1]
    pd = phase_diagram(exp, lrs, batch_sizes=[5, None])
    assert pd.note == "" and pd.recipe == exp.runs[0]
    for i, b in enumerate((5, None)):
        alone = replace(exp, runs=tuple(Recipe(lr, "adam") for lr in lrs), batch_size=b).validated()
        tr = alone.trainer()
        tr.step(alone.steps)
        assert np.array_equal(pd.final[i], tr.loss_history()[:, -1])


def test_an_experiment_without_runs_trains_plain_gradient_descent():
    assert grid_recipe(preset("exercise4").validated()) == (None, "")
