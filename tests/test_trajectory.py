"""core.trajectory: one run's path through parameter space, as the engine trains it."""
from dataclasses import replace

import numpy as np
import pytest

from core.errors import ConfigError
from core.experiment import preset
from core.trajectory import trajectory


def lockstep_thetas(exp, steps):
    """Every run's θ after each step, from the multi-run engine (the oracle)."""
    tr = exp.trainer()
    out = [tr.theta.copy()]
    for _ in range(steps):
        tr.step(1)
        out.append(tr.theta.copy())
    return np.array(out), tr


def test_each_run_alone_follows_the_lockstep_engine():
    exp = preset("exercise4").validated()
    thetas, tr = lockstep_thetas(exp, 120)
    for k in range(3):                                   # the three runs that do not blow up
        path = trajectory(exp, k, 120)
        assert path.shape == (121, 7)
        np.testing.assert_allclose(path, thetas[:, k], rtol=1e-12, atol=1e-12)


def test_every_k_steps_and_the_last_step():
    exp = replace(preset("exercise3"), steps=50).validated()
    thetas, _ = lockstep_thetas(exp, 50)
    path = trajectory(exp, 0, 50, every=7)
    steps = list(range(0, 50, 7)) + [50]
    np.testing.assert_allclose(path, thetas[steps, 0], rtol=1e-12, atol=1e-12)


def test_a_run_that_blows_up_ends_at_its_last_sane_parameters():
    exp = replace(preset("exercise3"), learning_rates=(8.0,), steps=200).validated()
    _, tr = lockstep_thetas(exp, 200)
    k = tr.diverged_steps()[0]
    assert not tr.active[0] and k > 0
    path = trajectory(exp, 0, 200)
    assert len(path) == k + 1                            # steps 0 … k; the engine rolled step k back
    np.testing.assert_allclose(path[-1], tr.theta[0])
    assert np.all(np.isfinite(path))


@pytest.mark.parametrize("kwargs, word", [({"run": 4}, "run"), ({"steps": 0}, "steps"), ({"every": 0}, "every"),
                                          ({"steps": 10**9}, "points")])
def test_bad_arguments_name_the_field(kwargs, word):
    with pytest.raises(ConfigError, match=word):
        trajectory(preset("exercise4").validated(), **{"run": 0, **kwargs})
