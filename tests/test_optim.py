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


# -- optimizers and recipes ---------------------------------------------------------------
import math  # noqa: E402

from core.curvature import linear_hessian, preconditioned_eigenvalues  # noqa: E402
from core.errors import ConfigError  # noqa: E402
from core.experiment import Experiment  # noqa: E402
from core.optim import MixedRule, Recipe, rule_for  # noqa: E402
from core.schedules import Schedule  # noqa: E402


def _hand(recipe, grads):
    """The recipe's updates iterated by hand in plain Python floats (one parameter)."""
    b = s = m = v = 0.0
    out, lr = [], recipe.lr
    for n, g in enumerate(grads, 1):
        if recipe.optimizer == "gd":
            d = -lr * g
        elif recipe.optimizer in ("momentum", "nesterov"):
            b = g if n == 1 else recipe.momentum * b + g
            d = -lr * (g + recipe.momentum * b if recipe.optimizer == "nesterov" else b)
        elif recipe.optimizer == "rmsprop":
            s = recipe.alpha * s + (1 - recipe.alpha) * g * g
            d = -lr * g / (math.sqrt(s) + recipe.eps)
        else:
            b1, b2 = recipe.betas
            m = m + (1 - b1) * (g - m)
            v = b2 * v + (1 - b2) * g * g
            d = -(lr / (1 - b1 ** n)) * m / (math.sqrt(v) / math.sqrt(1 - b2 ** n) + recipe.eps)
        out.append(d)
    return out


RECIPES = [Recipe(0.1, "gd"), Recipe(0.1, "momentum", momentum=0.9), Recipe(0.05, "nesterov", momentum=0.5),
           Recipe(0.01, "rmsprop", alpha=0.9, eps=1e-3), Recipe(0.01, "adam", betas=(0.8, 0.99), eps=1e-4),
           Recipe(0.01, "adam", betas=(0.2, 0.9), eps=1e-4)]


def test_each_optimizer_is_its_recurrence_by_hand_all_in_one_mixed_rule():
    grads = [0.5, -1.5, 2.0, 0.25, -0.75, 3.0]
    rule = MixedRule(RECIPES, steps=10)
    K = len(RECIPES)
    out = np.empty((K, 1))
    got = []
    for t, g in enumerate(grads):
        rule.update(np.full((K, 1), g), t, out)
        got.append(out[:, 0].copy())
    got = np.array(got)
    for k, r in enumerate(RECIPES):
        np.testing.assert_allclose(got[:, k], _hand(r, grads), rtol=1e-13, err_msg=r.optimizer)


def test_a_run_that_blows_up_does_not_touch_the_others():
    rule = MixedRule(RECIPES, steps=10)
    alone = MixedRule(RECIPES[1:], steps=10)
    K = len(RECIPES)
    out, out1 = np.empty((K, 2)), np.empty((K - 1, 2))
    for t in range(5):
        g = np.tile([[1.0, -2.0]], (K, 1)) * (t + 1)
        g[0] = np.nan if t == 1 else np.inf
        rule.update(g, t, out)
        alone.update(g[1:], t, out1)
        np.testing.assert_array_equal(out[1:], out1)


LAM_MAX = 2.535934                     # the linear model on 100 points evenly on [0, 1]


def _linear_exp(recipes, steps):
    return Experiment(dataset="linear", samples=100, noise=0.0, x_range=(0.0, 1.0), model="linear",
                      steps=steps, seed=0, runs=tuple(recipes)).validated()


def test_the_linear_models_critical_rates():
    lam = np.linalg.eigvalsh(linear_hessian(np.linspace(0, 1, 100)))[-1]
    assert lam == pytest.approx(LAM_MAX, abs=1e-6)
    rule = MixedRule([Recipe(1.0), Recipe(1.0, "momentum", momentum=0.9), Recipe(1.0, "nesterov", momentum=0.9)], 10)
    np.testing.assert_allclose(rule.critical_lr(lam), [0.788664, 1.498462, 0.535165], atol=1e-6)
    np.testing.assert_allclose(rule.sharpness_limit(0), [2.0, 3.8, 3.8 / 2.8])


@pytest.mark.parametrize("optimizer, crit", [("gd", 0.788664), ("momentum", 1.498462), ("nesterov", 0.535165)])
def test_training_just_below_the_limit_converges_and_just_above_diverges(optimizer, crit):
    exp = _linear_exp([Recipe(crit * 0.99, optimizer, momentum=0.9), Recipe(crit * 1.01, optimizer, momentum=0.9)],
                      4000)
    tr = exp.trainer()
    tr.step(4000)
    assert tr.active[0] and tr.losses[0, -1] < 1e-3 * tr.losses[0, 0]
    assert not tr.active[1]


def test_warmup_crosses_the_limit_and_the_loss_then_grows_by_one_minus_eta_lambda_squared():
    """Warmup from ~0 to η = 1.5 over 1,000 updates: η_t crosses 2/λ_max at ≈ 525; once the top mode
    dominates each update multiplies the loss excess by (1 − η_t λ_max)², and the run blows up near 690."""
    steps = 1000
    r = Recipe(1.5, schedule=Schedule("constant", warmup_steps=steps - 1, warmup_start_factor=1e-9))
    exp = _linear_exp([r], steps)
    rule = exp.update_rule()
    rates = rule.rate_table(0, steps)[:, 0]
    crosses = int(np.argmax(rates > 2 / LAM_MAX))
    assert abs(crosses - 525) <= 2
    tr = exp.trainer()
    tr.step(steps)
    blew = int(tr.diverged_step[0])
    assert abs(blew - 690) <= 15
    data = exp.make_data()
    X = np.stack([data.x, np.ones_like(data.x)], axis=1)
    loss_star = float(np.mean((X @ np.linalg.lstsq(X, data.y, rcond=None)[0] - data.y) ** 2))
    lam = np.linalg.eigvalsh(linear_hessian(data.x))[-1]
    L = tr.losses[0] - loss_star
    for t in range(blew - 60, blew - 5):            # late in the blow-up: loss excess after t + 1 updates / after t
        assert L[t + 1] / L[t] == pytest.approx((1 - rates[t] * lam) ** 2, rel=1e-6)


def test_preconditioned_sharpness_is_the_top_eigenvalue_of_p_h_p():
    H = np.array([[4.0, 1.0], [1.0, 2.0]])
    p = np.array([2.0, 0.5])
    D = np.diag(p ** -0.5)
    np.testing.assert_allclose(preconditioned_eigenvalues(H, p), np.linalg.eigvalsh(D @ H @ D))
    # the eigenvalues of P⁻¹H (the adaptive step's matrix) are the same
    np.testing.assert_allclose(np.sort(np.linalg.eigvals(np.diag(1 / p) @ H).real), preconditioned_eigenvalues(H, p))


def test_adam_limit_is_38_over_eta_and_its_preconditioner_is_its_denominator():
    rule = MixedRule([Recipe(0.001, "adam"), Recipe(0.01, "rmsprop")], 10)
    np.testing.assert_allclose(rule.sharpness_limit(0), [38 / 0.001, 2 / 0.01])
    np.testing.assert_array_equal(rule.preconditioner(3), np.ones((2, 3)))
    out = np.empty((2, 3))
    g = np.array([[1.0, -2.0, 0.5]] * 2)
    rule.update(g, 0, out)
    P = rule.preconditioner(3)
    np.testing.assert_allclose(P[0], np.sqrt(0.001 * g[0] ** 2 / 0.001) + 1e-8)    # √v̂ + ε, v̂ = g² at n = 1
    np.testing.assert_allclose(P[1], np.sqrt(0.01 * g[1] ** 2) + 1e-8)             # √s + ε


@pytest.mark.parametrize("recipe, needle", [
    (Recipe(0.1, "momentum", momentum=1.0), "momentum must be < 1; got 1"),
    (Recipe(0.1, "momentum", momentum=-0.1), "momentum must be >= 0; got -0.1"),
    (Recipe(0.1, "nesterov", momentum=0.0), "momentum must be > 0 for nesterov"),
    (Recipe(0.1, "adam", betas=(0.9, 1.0)), r"betas\[1\] must be < 1; got 1"),
    (Recipe(0.1, "adam", eps=0.0), "eps must be > 0; got 0"),
    (Recipe(0.1, "lion"), "optimizer must be one of"),
    (Recipe(-0.1), "learning rate must be > 0"),
])
def test_bad_recipes_are_refused_by_name(recipe, needle):
    with pytest.raises(ConfigError, match=needle):
        recipe.check(100)
    with pytest.raises(ConfigError, match="run 1: "):
        _linear_exp([recipe], 100)


def test_plain_recipes_are_todays_gradient_descent_bit_for_bit():
    exp = replace(preset("exercise4"), steps=50).validated()
    with_runs = replace(exp, runs=tuple(Recipe(lr) for lr in exp.learning_rates)).validated()
    assert isinstance(with_runs.update_rule(), GradientDescent)
    a, b = exp.trainer(), with_runs.trainer()
    a.step(50)
    b.step(50)
    np.testing.assert_array_equal(a.losses, b.losses)
    # the mixed rule's gradient descent is the same arithmetic
    c = replace(exp, runs=tuple(Recipe(lr) for lr in exp.learning_rates)).validated()
    tr = c.trainer(rule=MixedRule(c.runs, 50))
    tr.step(50)
    np.testing.assert_array_equal(a.losses, tr.losses)
    assert isinstance(rule_for([Recipe(0.1, "adam")], 10), MixedRule)


def test_same_numbers_as_pytorch_where_it_is_installed():
    pytest.importorskip("torch")
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "check_torch.py"
    spec = importlib.util.spec_from_file_location("check_torch", path)
    ct = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ct)
    assert max(m for _, m in ct.check_fixed_gradients(steps=100)) < 1e-10
    assert all(n == 0 for _, _, n in ct.check_rates_long(steps=3000))
