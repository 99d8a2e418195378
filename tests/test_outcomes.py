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
