"""Outcome rules (core.outcomes): the label every run gets, on the tutorial's cases."""
from dataclasses import replace

import numpy as np
import pytest

from core import outcomes as oc
from core.experiment import preset


def test_exercise4_shows_the_four_behaviours_the_tutorial_names():
    exp = preset("exercise4").validated()
    assert exp.learning_rates == (0.01, 0.1, 0.5, 1.0)
    tr = exp.trainer()
    tr.step(exp.steps)
    assert tr.outcomes == (oc.SLOW, oc.CONVERGING, oc.OSCILLATING, oc.DIVERGED)
    L = tr.loss_history()
    assert L[3, -1] > L[3, 0]                                         # 1.0 ends above its start
    assert L[0, -1] > 2 * np.nanmin(L[1])                             # 0.01 still far from the best
    assert L[1, -1] < 0.01 * L[1, 0]                                  # 0.1 gets there


def test_tutorial_rate_one_climbs_and_is_labelled_diverged():
    exp = replace(preset("tutorial"), learning_rates=(1.0,), steps=100).validated()
    tr = exp.trainer()
    tr.step(100)
    assert tr.loss_history()[0, -1] == pytest.approx(469, rel=0.01)
    assert tr.outcomes == (oc.DIVERGED,) and tr.active[0]          # still finite: climbs, not blown up
    assert tr.diverged_steps()[0] == 1


def test_single_run_is_never_slow_and_converging_run_is_converging():
    exp = replace(preset("exercise3"), learning_rates=(0.1,)).validated()
    tr = exp.trainer()
    tr.step(exp.steps)
    assert tr.outcomes == (oc.CONVERGING,)


def test_a_run_at_zero_loss_is_not_slow():
    """Regression: with the best loss exactly 0, '≥ 2 × best' held for every run, itself included."""
    exp = replace(preset("tutorial"), learning_rates=(0.1, 1.0), steps=300).validated()
    tr = exp.trainer()
    tr.step(300)
    assert tr.loss_history()[0, -1] == 0.0
    assert tr.outcomes[0] == oc.CONVERGING


# -- under mini-batch noise ------------------------------------------------------------------
def _noisy_linear(lrs, steps=6000):
    from core.experiment import Experiment
    return Experiment(model="linear", samples=100, noise=0.1, x_range=(0.0, 2.0), learning_rates=lrs,
                      batch_size=1, steps=steps, seed=0).validated()


def test_b1_at_a_small_rate_settles_at_its_noise_floor_and_is_converging_not_oscillating():
    exp = _noisy_linear((0.01, 0.05))
    data = exp.make_data()
    A = np.c_[data.x, np.ones_like(data.x)]
    floor = np.mean((A @ np.linalg.lstsq(A, data.y, rcond=None)[0] - data.y) ** 2)   # least squares: L*
    tr = exp.trainer(data)
    seen = []
    for _ in range(12):
        tr.step(500)
        seen.append(tr.outcomes)
    L = tr.loss_history()
    assert np.all(np.median(L[:, -1000:], axis=1) < 1.5 * floor) and np.all(L[:, -1000:] >= floor)   # at its floor ...
    assert np.mean(np.diff(L[:, -1000:], axis=1) > 0) > 0.3                      # ... and noisy there
    assert all(s == (oc.CONVERGING, oc.CONVERGING) for s in seen[2:])
    # the step-by-step rules of full batch would call both oscillating forever
    assert oc.OutcomeMonitor(2).classify(L, tr.t, tr.active) == (oc.OSCILLATING, oc.OSCILLATING)


def test_b1_above_the_full_batch_limit_diverges():
    from core.models import ModelSpec
    exp = _noisy_linear((0.01, 0.6), steps=500)
    data = exp.make_data()
    lam = np.linalg.eigvalsh(ModelSpec("linear").hessian(np.zeros(2), data.x, data.y)[0])[-1]
    assert 0.6 > 2 / lam                                                     # η·λ_max > 2: unstable even without noise
    tr = exp.trainer(data)
    tr.step(500)
    assert tr.outcomes == (oc.CONVERGING, oc.DIVERGED) and not tr.active[1]


def test_a_noisy_loss_drifting_up_is_found_out_and_one_resting_at_its_floor_is_not():
    rng = np.random.default_rng(0)
    t = np.arange(1001)
    noise = np.exp(0.3 * rng.standard_normal((3, t.size)))                  # ±30 % from one step to the next
    level = np.stack([np.full(t.size, 0.01),                                  # resting at a floor
                      0.01 + np.exp(-t / 50),                                 # falling to it
                      0.01 * np.exp(np.maximum(t - 300, 0) / 250)])           # down at first, then creeping up
    level[2, :300] = 0.01 + np.exp(-t[:300] / 30)
    losses = level * noise
    losses[:, 0] = 2.0                                                         # the start, above all of it
    m = oc.OutcomeMonitor(3, noisy=True)
    got = [m.classify(losses, s, np.ones(3, dtype=bool)) for s in range(50, 1001, 50)]
    assert all(set(g[:2]) <= {oc.CONVERGING, oc.SLOW} for g in got)           # the falling one is slow at first
    assert got[-1][:2] == (oc.CONVERGING, oc.CONVERGING)
    assert got[-1][2] == oc.OSCILLATING and got[4][2] == oc.CONVERGING
    first = next(i for i, g in enumerate(got) if g[2] == oc.OSCILLATING)
    assert 300 < 50 * (first + 1) < 600                # found once it has doubled (t ≈ 300 + 250·ln 2 ≈ 470)


def test_a_noisy_climb_is_dated_within_the_steps_taken():
    losses = np.array([[1.0, 3.0, 0.5, 4.0, 5.0, 0.9]])          # median of the last 5 above the start of 1
    m = oc.OutcomeMonitor(1, noisy=True)
    assert m.classify(losses, 5, np.ones(1, dtype=bool)) == (oc.DIVERGED,)
    assert m.climbed_step[0] == 1                                  # the last step is below the start: the window's first
    losses[0, 5] = 2.0
    m = oc.OutcomeMonitor(1, noisy=True)
    m.classify(losses, 5, np.ones(1, dtype=bool))
    assert m.climbed_step[0] == 3                                  # above the start from step 3 on
