"""core.range_test against fastai 2.8's lr_find, transcribed here independently (the oracle).

The oracle follows the facts of fastai/callback/schedule.py and learner.py in plain Python:
the ramp start·(end/start)^(i/num_it), the recorder (AvgSmoothLoss β = 0.98, best, stop at
> 4× best with that batch recorded, stop at num_it), the trimming [num_it//10:-5], the cut at
the first NaN, and the suggestion functions minimum, steep and valley (valley's O(n²) loop
exactly as fastai writes it).
"""
import math
from dataclasses import replace

import numpy as np
import pytest

from core.errors import ConfigError
from core.experiment import preset
from core.explain import tutorial_step
from core.range_test import (MIN_STEPS, lr_schedule, range_test, smooth, stop_index, suggestions,
                             valley_index)


# -- the oracle: fastai's lr_find, in plain Python -------------------------------------------
def fastai_ramp(start, end, num_it):
    return [start * (end / start) ** (i / num_it) for i in range(num_it)]


def fastai_record(lrs, raw_losses, num_it):
    rec_lrs, rec_losses = [], []
    val, best, beta = 0.0, float("inf"), 0.98
    for i in range(num_it):
        val = beta * val + (1 - beta) * raw_losses[i]
        smooth_i = val / (1 - beta ** (i + 1))
        rec_lrs.append(lrs[i])
        rec_losses.append(smooth_i)
        if smooth_i < best:
            best = smooth_i
        if smooth_i > 4 * best:
            break
        if i + 1 >= num_it:
            break
    return rec_lrs, rec_losses


def fastai_trimmed(rec_lrs, rec_losses, num_it):
    lrs, losses = rec_lrs[num_it // 10:-5], rec_losses[num_it // 10:-5]
    for k, v in enumerate(losses):
        if math.isnan(v):
            return lrs[:k], losses[:k]
    return lrs, losses


def fastai_minimum(lrs, losses):
    return lrs[losses.index(min(losses))] / 10


def fastai_steep(lrs, losses):
    grads = [(losses[k + 1] - losses[k]) / (math.log(lrs[k + 1]) - math.log(lrs[k]))
             for k in range(len(losses) - 1)]
    return lrs[grads.index(min(grads))]


def fastai_valley_index(losses):
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return max_start + int(sections) + int(sections / 2)


def fastai_lr_find(lrs, raw_losses, num_it):
    rec_lrs, rec_losses = fastai_record(lrs, raw_losses, num_it)
    lrs, losses = fastai_trimmed(rec_lrs, rec_losses, num_it)
    return {"steepest": fastai_steep(lrs, losses), "minimum_tenth": fastai_minimum(lrs, losses),
            "valley": lrs[fastai_valley_index(losses)], "recorded": len(rec_lrs)}


def assert_fastai(result, oracle):
    assert len(result.lrs) == oracle["recorded"]
    for name in ("steepest", "minimum_tenth", "valley"):
        assert getattr(result, name) == pytest.approx(oracle[name], rel=1e-12), name


# -- independent drivers of the ramp: the loss BEFORE each update ----------------------------
def tutorial_ramp_losses(lrs):
    """The tutorial's 1-1-1 sigmoid network on x = 3, y = 2.5, by hand (micrograd style)."""
    w1, b1, w2, b2, x, y_true = 2.0, -1.0, 1.5, 0.5, 3.0, 2.5
    losses = []
    for lr in lrs:
        z1 = w1 * x + b1
        a1 = 1 / (1 + math.exp(-z1)) if z1 >= 0 else math.exp(z1) / (1 + math.exp(z1))
        y_pred = w2 * a1 + b2
        L = (y_true - y_pred) ** 2
        losses.append(L)                              # the loss of this batch: before its update
        dL_dy_pred = -2 * (y_true - y_pred)
        dL_dw2, dL_db2 = dL_dy_pred * a1, dL_dy_pred
        dL_da1 = dL_dy_pred * w2
        dL_dz1 = dL_da1 * a1 * (1 - a1)
        dL_dw1, dL_db1 = dL_dz1 * x, dL_dz1
        w1, b1, w2, b2 = w1 - lr * dL_dw1, b1 - lr * dL_db1, w2 - lr * dL_dw2, b2 - lr * dL_db2
        if not math.isfinite(L) or L > 1e300:
            break
    return losses


def plain_ramp_losses(exp, lrs):
    """Gradient descent with rate lrs[i] at step i, the loss noted before each update."""
    data, spec = exp.make_data(), exp.model_spec()
    net = spec.build(runs=1)
    theta = np.array(exp.initial_params(), dtype=float).reshape(1, -1)
    grad = np.empty_like(theta)
    losses = []
    with np.errstate(all="ignore"):
        for lr in lrs:
            losses.append(float(net.loss_and_grad(theta, data.x, data.y, grad)[0]))
            theta = theta - lr * grad
    return losses


# -- the tests -------------------------------------------------------------------------------
def test_ramp_is_fastais_and_never_reaches_lr_max():
    lrs = lr_schedule(1e-7, 10, 100)
    np.testing.assert_allclose(lrs, fastai_ramp(1e-7, 10, 100), rtol=1e-14)
    assert lrs[0] == 1e-7 and lrs[-1] < 10
    assert lrs[-1] == pytest.approx(1e-7 * 1e8 ** 0.99, rel=1e-14)


def test_smoothing_is_a_debiased_ema():
    v = np.array([4.0, 2.0, 1.0])
    b = 0.98
    a1 = (1 - b) * 4
    a2 = b * a1 + (1 - b) * 2
    a3 = b * a2 + (1 - b) * 1
    np.testing.assert_allclose(smooth(v), [a1 / (1 - b), a2 / (1 - b**2), a3 / (1 - b**3)])
    assert smooth(np.full(5, 7.0)) == pytest.approx(np.full(5, 7.0))


def test_stop_rule_keeps_the_batch_that_stops_it():
    assert stop_index([1.0, 0.5, 1.9, 2.1, 9.0]) == 4        # 2.1 > 4 × 0.5: recorded, then stop
    assert stop_index([1.0, 0.5, 2.0, 1.0]) == 4             # 2.0 is not above 4 × 0.5
    assert stop_index([1.0, np.nan, 0.1, 0.5]) == 4          # NaN never stops it (fastai)
    assert stop_index([1.0, np.inf]) == 2


def test_stop_rule_and_suggestions_on_a_known_curve():
    lrs = lr_schedule(1e-4, 10, 60)
    # falls fastest per decade around 1e-2, bottoms out at 0.1, explodes after 1
    loss = 1 + np.tanh(-2 * (np.log10(lrs) + 2)) + np.where(lrs > 1, (lrs - 1) ** 2 * 50, 0)
    assert stop_index(smooth(loss)) < 60
    r = suggestions(lrs, loss)
    assert r.lrs[-1] > 1 and len(r.lrs) < 60 and r.stopped
    assert 3e-3 < r.steepest < 3e-2
    assert r.minimum_tenth < r.lrs[np.argmin(r.smoothed)]
    assert_fastai(r, fastai_lr_find(list(lrs), list(loss), 60))


def test_valley_in_n_log_n_equals_fastais_quadratic_loop():
    rng = np.random.default_rng(7)
    for trial in range(3000):
        n = int(rng.integers(0, 40))
        kind = trial % 4
        if kind == 0:                                   # few distinct values: many ties
            v = rng.integers(0, 4, n).astype(float)
        elif kind == 1:                                 # plateaus: runs of equal values
            v = np.repeat(rng.normal(size=n), rng.integers(1, 4, n))[:n]
        elif kind == 2:                                 # a noisy valley
            v = (np.linspace(-1, 1, n) ** 2) + 0.05 * rng.normal(size=n)
        else:                                           # monotone pieces
            v = np.sort(rng.normal(size=n))[::int(rng.choice([-1, 1]))]
        if n == 0:
            continue
        assert valley_index(v) == fastai_valley_index(list(v)), list(v)


def test_valley_edge_cases_follow_fastai():
    for v in ([3.0], [1.0, 2.0, 3.0], [2.0, 2.0, 2.0], [2.0, 1.0], [3.0, 2.0, 1.0], [1.0, 3.0, 2.0]):
        assert valley_index(np.array(v)) == fastai_valley_index(v), v


def test_tutorial_ramp_pairs_each_rate_with_the_loss_before_its_update():
    exp = preset("tutorial").validated()
    r = range_test(exp, steps=100)
    lrs = fastai_ramp(1e-6, 10.0, 100)
    np.testing.assert_allclose(r.lrs, lrs[:len(r.lrs)], rtol=1e-14)
    # loss 0 is the worked example's loss; loss 1 the worked example's new loss at rate lrs[0]
    assert r.losses[0] == pytest.approx(tutorial_step(0.1).loss, rel=1e-15)
    assert r.losses[1] == pytest.approx(tutorial_step(lrs[0]).loss_new, rel=1e-12)
    by_hand = tutorial_ramp_losses(lrs)
    np.testing.assert_allclose(r.losses, by_hand[:len(r.losses)], rtol=1e-9)
    oracle = fastai_lr_find(lrs, by_hand, 100)
    assert_fastai(r, oracle)
    assert r.used == (10, len(r.lrs) - 5)


def test_steep_is_one_sided_on_the_old_tutorial_ramp():
    """On the ramp LR Lab recorded before (rates to lr_max inclusive, the loss AFTER each
    update, the points before the stop), fastai's steep lands one grid point left of the old
    central differences (np.gradient): 0.0464 against 0.0546."""
    lrs = list(1e-6 * 1e7 ** (np.arange(100) / 99))
    after = tutorial_ramp_losses([*lrs, 1.0])[1:]           # the loss after the update with lrs[i]
    sm = smooth(np.array(after))
    n = next(i for i in range(len(sm)) if sm[i] > 4 * min(sm[:i + 1]))   # the old cut (not kept)
    fastai = fastai_steep(lrs[:n], list(sm[:n]))
    central = lrs[int(np.argmin(np.gradient(sm[:n], np.log10(lrs[:n]))))]
    assert fastai == pytest.approx(0.0464, rel=2e-3) and central == pytest.approx(0.0546, rel=2e-3)
    assert lrs.index(fastai) + 1 == lrs.index(central)


@pytest.mark.parametrize("name", ["tutorial", "exercise1", "exercise2", "exercise3", "exercise4"])
@pytest.mark.parametrize("lo, hi, steps", [(1e-6, 10.0, 100), (1e-7, 10.0, 100), (1e-4, 100.0, 37),
                                           (1e-6, 10.0, 400), (1e-3, 1.0, 7)])
def test_presets_equal_fastai_on_the_recorded_ramp(name, lo, hi, steps):
    exp = preset(name).validated()
    r = range_test(exp, lr_min=lo, lr_max=hi, steps=steps)
    lrs = list(lr_schedule(lo, hi, steps))
    # (equal to fastai's ramp within an ulp; the same floats are used here because the last
    # steps before the stop are chaotic: an ulp in a rate grows to 1e-9 in the loss)
    np.testing.assert_allclose(lrs, fastai_ramp(lo, hi, steps), rtol=1e-14)
    raw = plain_ramp_losses(exp, lrs)
    np.testing.assert_allclose(r.losses, raw[:len(r.losses)], rtol=1e-9)
    assert_fastai(r, fastai_lr_find(lrs, raw, steps))


def test_a_nan_cuts_the_points_used_as_in_fastai():
    lrs = lr_schedule(1e-5, 1.0, 50)
    loss = np.linspace(2.0, 1.0, 50)
    loss[30:] = np.nan                                  # a run the engine stopped: NaN from step 30
    r = suggestions(lrs, loss)
    assert len(r.lrs) == 50 and r.used == (5, 30)
    assert_fastai(r, fastai_lr_find(list(lrs), list(loss), 50))


def test_too_few_points_after_trimming_say_why():
    lrs = lr_schedule(1e-3, 10, 20)
    loss = np.r_[1.0, 0.9, 0.8, 50.0, np.full(16, 100.0)]   # stops at batch 3: 4 recorded
    r = suggestions(lrs, loss)
    assert len(r.lrs) == 4 and r.stopped
    assert math.isnan(r.steepest) and math.isnan(r.valley) and math.isnan(r.minimum_tenth)
    assert "4 of 20" in r.note and "2 at the start" in r.note


@pytest.mark.parametrize("steps", [2, 3, MIN_STEPS - 1, 100_001])
def test_too_few_or_too_many_steps_are_refused(steps):
    with pytest.raises(ConfigError, match=f"steps.*got {steps}$"):
        range_test(preset("tutorial").validated(), steps=steps)


def test_range_test_runs_the_engine_with_a_rising_rate():
    exp = preset("exercise3").validated()
    r = range_test(exp, steps=100)
    assert np.all(np.diff(r.lrs) > 0) and r.lrs[0] == pytest.approx(1e-6)
    assert 1e-6 <= r.steepest <= 10 and 1e-7 <= r.minimum_tenth <= 1 and 1e-6 <= r.valley <= 10
    # the first loss is the loss at the start (before the update with 1e-6)
    start = exp.trainer().loss_history()[0, 0]
    assert r.losses[0] == start


def test_a_long_ramp_stops_training_once_the_recorder_stops():
    exp = replace(preset("exercise3"), steps=10).validated()
    r = range_test(exp, steps=50_000)
    assert r.stopped and len(r.lrs) < 50_000
    lrs = list(lr_schedule(1e-6, 10.0, 50_000))
    raw = plain_ramp_losses(exp, lrs[:len(r.lrs)])
    np.testing.assert_allclose(r.losses, raw, rtol=1e-9)
    rec_lrs, rec = fastai_record(lrs, raw + [float("nan")] * (50_000 - len(raw)), 50_000)
    assert len(rec_lrs) == len(r.lrs)
    np.testing.assert_allclose(r.smoothed, rec, rtol=1e-12)
