"""core.schedules: the rates of update t, against closed forms and recurrences written here by hand."""
import math

import numpy as np
import pytest

from core.errors import ConfigError
from core.schedules import RateTable, Schedule


def test_constant_is_the_rate():
    np.testing.assert_array_equal(Schedule().check(50).rates(0.3, 50), np.full(50, 0.3))


def test_step_and_exponential_closed_forms():
    t = np.arange(200)
    np.testing.assert_allclose(Schedule("step", step_size=30, gamma=0.5).check(200).rates(2.0, 200),
                               2.0 * 0.5 ** (t // 30), rtol=1e-13)
    np.testing.assert_allclose(Schedule("exponential", gamma=0.99).check(200).rates(2.0, 200),
                               2.0 * 0.99 ** t, rtol=1e-13)


def test_cosine_closed_form_and_its_end():
    T, m, lr = 1000, 0.01, 0.5
    got = Schedule("cosine", eta_min=m).check(T).rates(lr, T)
    t = np.arange(T)
    np.testing.assert_allclose(got, m + (lr - m) * (1 + np.cos(np.pi * t / T)) / 2, rtol=1e-9)
    assert got[-1] == pytest.approx(m, rel=1e-3) and got[-1] > m


def test_cosine_is_pytorchs_recursion_step_by_step():
    """ηₑ = (1 + cos(πe/T))/(1 + cos(π(e−1)/T))·(ηₑ₋₁ − m) + m, iterated by hand in Python floats."""
    T, m, lr = 5000, 1e-3, 0.7
    want, prev = [lr], lr
    for e in range(1, T):
        prev = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T)) * (prev - m) + m
        want.append(prev)
    got = RateTable([lr], [Schedule("cosine", eta_min=m)], T, chunk=333).table(0, T)[:, 0]
    assert got.tolist() == want


def test_warmup_then_decay_composes_like_sequential_lr():
    """s + (1 − s)·t/W for t < W, then the decay from t = W as if it started there."""
    W, S, s, lr = 100, 400, 0.01, 1.0
    got = Schedule("exponential", gamma=0.99, warmup_steps=W, warmup_start_factor=s).check(S).rates(lr, S)
    t = np.arange(W)
    np.testing.assert_allclose(got[:W], lr * (s + (1 - s) * t / W), rtol=1e-12)
    np.testing.assert_allclose(got[W:], lr * 0.99 ** np.arange(S - W), rtol=1e-12)
    cos = Schedule("cosine", warmup_steps=W, warmup_start_factor=s).check(S).rates(lr, S)
    np.testing.assert_allclose(cos[W:], (1 + np.cos(np.pi * np.arange(S - W) / (S - W))) / 2, rtol=1e-9, atol=1e-15)


def test_one_cycle_closed_form():
    T, lr, p, d, f = 1000, 1.0, 0.3, 25.0, 1e4
    got = Schedule("one-cycle").check(T).rates(lr, T)
    a = p * T - 1
    lo, end = lr / d, lr / d / f
    for e in (0, 1, 150, 299, 300, 301, 650, 999):
        want = (lr + (lo - lr) / 2 * (math.cos(math.pi * e / a) + 1) if e <= a else
                end + (lr - end) / 2 * (math.cos(math.pi * (e - a) / (T - 1 - a)) + 1))
        assert got[e] == pytest.approx(want, rel=1e-14)
    assert got[0] == pytest.approx(lo) and got.max() == pytest.approx(lr, rel=1e-4) and got[-1] == pytest.approx(end)


def test_chunks_and_going_back_give_the_same_rates():
    specs = [Schedule("cosine", eta_min=0.1), Schedule("step", step_size=7, gamma=0.9, warmup_steps=20),
             Schedule(), Schedule("one-cycle")]
    whole = RateTable([1.0, 2.0, 3.0, 4.0], specs, 3000).table(0, 3000)
    t = RateTable([1.0, 2.0, 3.0, 4.0], specs, 3000, chunk=64)
    np.testing.assert_array_equal(t.table(0, 3000), whole)
    np.testing.assert_array_equal(t.lr_at(5), whole[5])
    np.testing.assert_array_equal(t.lr_at(2999), whole[2999])


@pytest.mark.parametrize("spec, steps, needle", [
    (Schedule("sawtooth"), 10, "schedule must be one of"),
    (Schedule("step", gamma=0.0), 10, "gamma must be > 0; got 0"),
    (Schedule("step", step_size=0), 10, "step_size must be between 1"),
    (Schedule("cosine", warmup_steps=10), 10, "warmup steps must leave updates"),
    (Schedule("one-cycle", warmup_steps=2), 100, "one-cycle has its own warm-up"),
    (Schedule("one-cycle", pct_start=0.01), 100, "rising phase"),
    (Schedule("one-cycle", pct_start=0.99), 100, "falling phase"),
    (Schedule(warmup_steps=5, warmup_start_factor=0.0), 100, "warmup start_factor must be > 0; got 0"),
])
def test_bad_schedules_are_refused_by_name(spec, steps, needle):
    with pytest.raises(ConfigError, match=needle):
        spec.check(steps)


def test_json_form_uses_pytorchs_names():
    s = Schedule("cosine", eta_min=0.01, warmup_steps=5, warmup_start_factor=0.1)
    assert s.to_dict() == {"name": "cosine", "eta_min": 0.01, "warmup": {"steps": 5, "start_factor": 0.1}}
    assert Schedule.from_dict(s.to_dict()) == s
    with pytest.raises(ConfigError, match="unknown key 'gamma'"):
        Schedule.from_dict({"name": "cosine", "gamma": 0.5})
