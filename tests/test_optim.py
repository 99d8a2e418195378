"""core.optim: the update rule, its rates, and the critical rate it answers for."""
from dataclasses import replace

import numpy as np
import pytest

from core import optim
from core.experiment import preset
from core.optim import RULES, GradientDescent
from core.phase import phase_diagram
from core.range_test import Ramp, lr_schedule, range_test
from core.trajectory import trajectory


def test_update_is_minus_each_runs_rate_times_its_gradient():
    rng = np.random.default_rng(0)
    lrs = [0.01, 0.5, 2.0]
    g = rng.normal(size=(3, 5))
    out = np.empty_like(g)
    GradientDescent(lrs).update(g, 7, out)
    for k, lr in enumerate(lrs):
        for i in range(5):
            assert out[k, i] == -lr * g[k, i]


def test_constant_rate_at_every_step():
    rule = GradientDescent([0.1, 0.3])
    for t in (0, 1, 999):
        np.testing.assert_array_equal(rule.lr_at(t), [0.1, 0.3])


def test_a_schedule_sets_the_rate_of_each_update():
    table = lr_schedule(1e-3, 1.0, 4)
    rule = GradientDescent([table[0]], schedule=Ramp(table))
    g = np.array([[2.0, -1.0]])
    for t in range(4):
        assert rule.lr_at(t).shape == (1,) and rule.lr_at(t)[0] == table[t]
        out = np.empty_like(g)
        rule.update(g, t, out)
        np.testing.assert_array_equal(out, -table[t] * g)


@pytest.mark.parametrize("lam", [0.3, 2.0, 3.97472])
def test_critical_rate_is_where_gradient_descent_on_a_quadratic_stops_converging(lam):
    """L = ½λθ²: iterate the rule's own update; just below η* it contracts, just above it grows."""
    crit = GradientDescent.critical_lr(lam)
    assert crit == pytest.approx(2 / lam)
    for factor, shrinks in ((0.99, True), (1.01, False)):
        rule = GradientDescent([factor * crit])
        theta, delta = np.ones((1, 1)), np.empty((1, 1))
        for t in range(500):
            rule.update(lam * theta, t, delta)         # ∂L/∂θ = λθ
            theta += delta
        assert (abs(theta[0, 0]) < 1) == shrinks


def test_sharpness_limit_is_the_critical_curvature_of_each_rate():
    rule = GradientDescent([0.01, 0.5, 1.0])
    limits = rule.sharpness_limit(0)
    np.testing.assert_allclose(limits, [200.0, 4.0, 2.0])
    np.testing.assert_allclose([rule.critical_lr(v) for v in limits], rule.lr_at(0))


def test_best_rate_shrinks_the_slowest_and_fastest_mode_alike():
    lo, hi = 0.5, 4.0
    eta = GradientDescent.best_lr(lo, hi)
    def slowest(e):                               # the contraction factor of the slower mode
        return max(abs(1 - e * lo), abs(1 - e * hi))
    assert abs(1 - eta * lo) == pytest.approx(abs(1 - eta * hi))
    assert slowest(eta) < slowest(0.99 * eta) and slowest(eta) < slowest(1.01 * eta)

def test_rules_are_named():
    assert RULES["gd"] is GradientDescent


class Recording(GradientDescent):
    """Gradient descent that notes every rate it was built with (the seam a new rule uses)."""
    built = []

    def __init__(self, learning_rates, schedule=None):
        super().__init__(learning_rates, schedule)
        Recording.built.append((tuple(self.learning_rates), schedule is not None))


def test_every_view_gets_its_update_rule_from_the_experiment(monkeypatch):
    """A new rule in Experiment.update_rule reaches the trainer, one run alone, the range test
    and the phase diagram without a change there."""
    monkeypatch.setattr("core.experiment.GradientDescent", Recording)
    Recording.built = []
    exp = replace(preset("exercise4"), steps=20).validated()
    data = exp.make_data()
    assert isinstance(exp.trainer(data).rule, Recording)
    trajectory(exp, 1, 5, data=data)
    range_test(exp, data, 1e-4, 1.0, 10)
    phase_diagram(exp, [0.1, 0.2], seeds=[0], data=data)
    assert Recording.built == [((0.01, 0.1, 0.5, 1.0), False), ((0.1,), False), ((1e-4,), True),
                               ((0.1, 0.2), False)]
    assert optim.GradientDescent is GradientDescent        # the module itself is untouched
