"""core.cancel: the cooperative stop of the long core computations.

Oracles: the same computation without the hook (a look at ``should_stop`` must change no
number), and a counter of the steps trained (a cancelled computation stops at the chunk
where ``should_stop`` first says True, long before its end).
"""
import threading
from types import SimpleNamespace
from dataclasses import replace

import numpy as np
import pytest

from core.cancel import MAX_CHUNK, WORK_PER_LOOK, Cancelled, check, chunk_steps, train
from core.experiment import preset
from core.phase import phase_diagram
from core.range_test import range_test
from core.trajectory import trajectory

NEVER = staticmethod(lambda: False)


def after(n):
    """A should_stop that says True from its (n + 1)-th look on; ``looks`` counts them."""
    def should_stop():
        should_stop.looks += 1
        return should_stop.looks > n
    should_stop.looks = 0
    return should_stop


def test_check_raises_only_when_asked_to_stop():
    check(None)
    check(lambda: False)
    event = threading.Event()
    check(event.is_set)
    event.set()
    with pytest.raises(Cancelled, match="range test: cancelled"):
        check(event.is_set, "range test")


def test_chunks_shrink_with_the_work_of_a_step():
    small = preset("exercise4").trainer()                        # 50 samples, 7 parameters
    assert chunk_steps(small) == MAX_CHUNK
    big = replace(preset("exercise4"), samples=2000, hidden=16, init=None).validated().trainer()
    work = 4 * (3 * 16 + 1) * 2000                               # 4 runs of 49 parameters, 2000 samples
    assert chunk_steps(big) == WORK_PER_LOOK // work == 10
    huge = SimpleNamespace(theta=np.empty((1, 3 * 512 + 1)), data=SimpleNamespace(x=np.empty(100_000)))
    assert chunk_steps(huge) == 1                                # the largest network: a look every step


def test_training_in_looked_at_chunks_changes_no_number():
    exp = replace(preset("exercise4"), samples=2000, hidden=16, init=None, steps=105).validated()
    whole, chunked = exp.trainer(), exp.trainer()
    whole.step(exp.steps)
    stop = after(10**9)
    train(chunked, exp.steps, stop)
    assert stop.looks == -(-exp.steps // chunk_steps(chunked)) > 1
    np.testing.assert_array_equal(whole.loss_history(), chunked.loss_history())
    np.testing.assert_array_equal(whole.theta, chunked.theta)
    assert whole.outcomes == chunked.outcomes


def test_range_test_with_a_hook_is_the_same_test_and_stops_when_asked():
    exp = replace(preset("exercise4"), samples=4000, hidden=16, init=None).validated()
    data = exp.make_data()
    plain = range_test(exp, data, 1e-6, 1e-3, 3000)
    looked = range_test(exp, data, 1e-6, 1e-3, 3000, should_stop=NEVER)
    for name in ("lrs", "losses", "smoothed"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(looked, name))
    assert (plain.steepest, plain.valley, plain.minimum_tenth) == (looked.steepest, looked.valley,
                                                                   looked.minimum_tenth)
    stop = after(2)
    with pytest.raises(Cancelled):
        range_test(exp, data, 1e-6, 1e-3, 100_000, should_stop=stop)
    assert stop.looks == 3


def test_phase_diagram_with_a_hook_is_the_same_diagram_and_stops_when_asked():
    exp = replace(preset("exercise4"), steps=5000).validated()
    plain = phase_diagram(exp, [0.1, 1.5], seeds=[0, 1])
    looked = phase_diagram(exp, [0.1, 1.5], seeds=[0, 1], should_stop=NEVER)
    for name in ("final", "best"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(looked, name))
    assert (plain.outcomes == looked.outcomes).all()
    stop = after(1)
    with pytest.raises(Cancelled):
        phase_diagram(replace(exp, steps=1_000_000), [0.1], seeds=[0, 1], should_stop=stop)
    assert stop.looks == 2                       # the first row's second chunk: not row 2, not step 10⁶


def test_trajectory_with_a_hook_is_the_same_path_and_stops_when_asked():
    exp = replace(preset("exercise4"), steps=300).validated()
    np.testing.assert_array_equal(trajectory(exp, 1), trajectory(exp, 1, should_stop=NEVER))
    stop = after(5)
    with pytest.raises(Cancelled):
        trajectory(exp, 1, should_stop=stop)
    assert stop.looks == 6
