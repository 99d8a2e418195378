"""The training controller and its worker thread, against the headless engine.

The oracle is core's Trainer run in the test itself: the same experiment stepped the
same number of times gives the same losses, bit for bit, whatever the batching.
"""
import time
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from core.experiment import preset  # noqa: E402
from core.outcomes import DIVERGED  # noqa: E402
from gui.worker import FINISHED, FULL_SPEED, PAUSED, RUNNING, TrainingController  # noqa: E402

TIMEOUT = 20_000


@pytest.fixture
def controller(qapp):
    c = TrainingController()
    yield c
    c.shutdown()


def headless(exp, steps):
    trainer = exp.trainer()
    trainer.step(steps)
    return trainer


def wait_idle(qtbot, c):
    qtbot.waitUntil(lambda: c.idle, timeout=TIMEOUT)


def wait_finished(qtbot, c):
    qtbot.waitUntil(lambda: c.state == FINISHED and c.idle, timeout=TIMEOUT)


def test_load_is_step_zero_and_paused(controller):
    exp = replace(preset("exercise4"), steps=50)
    controller.load(exp)
    assert controller.t == 0 and controller.state == PAUSED
    assert controller.losses().shape == (4, 1)
    np.testing.assert_array_equal(controller.losses()[:, 0], exp.trainer().losses[:, 0])


def test_step_takes_exactly_one_update(qtbot, controller):
    exp = replace(preset("exercise3"), steps=10)
    controller.load(exp)
    for expected in (1, 2, 3):
        controller.step()
        wait_idle(qtbot, controller)
        assert controller.t == expected
    ref = headless(exp, 3)
    np.testing.assert_array_equal(controller.losses(), ref.loss_history())
    np.testing.assert_array_equal(controller.progress.theta, ref.theta)


def test_full_speed_matches_the_headless_engine(qtbot, controller):
    exp = replace(preset("exercise4"), learning_rates=(0.01, 0.1, 0.5, 1.0, 5.0), steps=3000)
    controller.set_speed(FULL_SPEED)
    controller.load(exp)
    controller.start()
    assert controller.state == RUNNING
    wait_finished(qtbot, controller)
    ref = headless(exp, exp.steps)
    assert controller.t == exp.steps
    np.testing.assert_array_equal(controller.losses(), ref.loss_history())   # NaN where ref has NaN
    assert controller.outcomes == ref.outcomes
    np.testing.assert_array_equal(controller.diverged_steps, ref.diverged_steps())


def test_a_run_that_blows_up_stops_while_the_others_train_on(qtbot, controller):
    exp = replace(preset("exercise4"), learning_rates=(0.1, 5.0), steps=400)
    controller.set_speed(FULL_SPEED)
    controller.load(exp)
    controller.start()
    wait_finished(qtbot, controller)
    assert controller.outcomes[1] == DIVERGED and controller.diverged_steps[1] >= 0
    assert controller.progress.stopped[1] and not controller.progress.stopped[0]
    losses = controller.losses()
    assert np.isfinite(losses[0]).all() and losses[0, -1] < losses[0, 0]     # lr=0.1 trained to the end
    assert np.isnan(losses[1, -1])                                           # lr=5 stopped


def test_pause_stops_training_and_start_resumes(qtbot, controller):
    exp = replace(preset("exercise3"), steps=2_000_000)
    controller.set_speed(FULL_SPEED)
    controller.load(exp)
    controller.start()
    qtbot.waitUntil(lambda: controller.t > 0, timeout=TIMEOUT)
    controller.pause()
    assert controller.state == PAUSED
    wait_idle(qtbot, controller)
    t = controller.t
    qtbot.wait(150)
    assert controller.t == t and controller.idle                 # nothing trains while paused
    controller.start()
    qtbot.waitUntil(lambda: controller.t > t, timeout=TIMEOUT)
    controller.pause()
    wait_idle(qtbot, controller)
    ref = headless(exp, controller.t)
    np.testing.assert_array_equal(controller.losses(), ref.loss_history())


def test_reset_returns_to_step_zero(qtbot, controller):
    exp = replace(preset("exercise4"), steps=500)
    controller.load(exp)
    for _ in range(5):
        controller.step()
    wait_idle(qtbot, controller)
    assert controller.t == 5
    controller.reset()
    assert controller.t == 0 and controller.state == PAUSED
    wait_idle(qtbot, controller)
    assert controller.t == 0
    controller.step()
    wait_idle(qtbot, controller)
    np.testing.assert_array_equal(controller.losses(), headless(exp, 1).loss_history())


def test_loading_while_training_discards_the_old_batches(qtbot, controller):
    old = replace(preset("exercise4"), steps=1_000_000)
    new = replace(preset("exercise3"), learning_rates=(0.05, 0.2), steps=300)
    controller.set_speed(FULL_SPEED)
    controller.load(old)
    controller.start()
    qtbot.waitUntil(lambda: controller.t > 0, timeout=TIMEOUT)
    controller.load(new)                                  # keeps running, with the new settings
    assert controller.t == 0 and controller.state == RUNNING
    wait_finished(qtbot, controller)
    assert controller.losses().shape == (2, 301)
    np.testing.assert_array_equal(controller.losses(), headless(new, 300).loss_history())


def test_paced_speed_does_not_run_ahead(qtbot, controller):
    controller.set_speed(1)                               # one step a second
    controller.load(replace(preset("exercise3"), steps=1000))
    controller.start()
    qtbot.waitUntil(lambda: controller.t >= 1, timeout=TIMEOUT)   # the first step comes at once
    qtbot.wait(200)
    assert controller.t <= 2
    controller.set_speed(FULL_SPEED)                      # applies at once, no reset
    wait_finished(qtbot, controller)
    assert controller.t == 1000


def test_frames_follow_the_training(qtbot, controller):
    frames = []
    controller.frame.connect(lambda: frames.append(controller.t))
    controller.set_speed(FULL_SPEED)
    controller.load(replace(preset("exercise3"), steps=3000))
    controller.start()
    wait_finished(qtbot, controller)
    qtbot.waitUntil(lambda: frames and frames[-1] == 3000, timeout=TIMEOUT)
    assert frames == sorted(frames)                      # the counter never goes back


def test_shutdown_while_training_stops_the_thread(qtbot, qapp):
    c = TrainingController()
    c.set_speed(FULL_SPEED)
    c.load(replace(preset("exercise4"), steps=5_000_000))
    c.start()
    qtbot.waitUntil(lambda: c.t > 0, timeout=TIMEOUT)
    c.shutdown()
    assert c._thread.isFinished()
    c.shutdown()                                           # twice is fine
    c.start()                                              # and does nothing after
    assert not c.running


def test_fit_curves_are_core_predictions(qtbot, controller):
    from core.models import ModelSpec
    predict = lambda th, x, h, a: ModelSpec("mlp", h, a).predict(th, x)   # noqa: E731
    exp = replace(preset("exercise4"), steps=20)
    controller.load(exp)
    controller.step()
    wait_idle(qtbot, controller)
    x, y = controller.fit_curves()
    assert controller.fits_t == 1
    assert x.min() < exp.make_data().x.min() and x.max() > exp.make_data().x.max()
    np.testing.assert_allclose(y, predict(headless(exp, 1).theta, x, exp.hidden, exp.activation))


def test_paced_steps_keep_a_trail_of_the_previous_fits(qtbot, controller):
    from core.models import ModelSpec
    predict = lambda th, x, h, a: ModelSpec("mlp", h, a).predict(th, x)   # noqa: E731
    from gui.worker import TRAIL
    exp = replace(preset("exercise4"), steps=50)
    controller.load(exp)
    for _ in range(TRAIL + 2):                        # one step at a time, as at a slow speed
        controller.step()
        wait_idle(qtbot, controller)
    x, y = controller.fit_curves()
    trail = controller.fit_trail()
    assert trail.shape == (TRAIL,) + y.shape          # the last TRAIL steps, newest first
    ref = exp.trainer()
    thetas = []
    for _ in range(controller.t):
        thetas.append(ref.theta.copy())               # θ before each step
        ref.step(1)
    for age in range(TRAIL):
        np.testing.assert_allclose(trail[age], predict(thetas[-1 - age], x, exp.hidden, exp.activation))
    np.testing.assert_allclose(y, predict(ref.theta, x, exp.hidden, exp.activation))


def test_full_speed_has_no_trail(qtbot, controller):
    controller.load(replace(preset("exercise4"), steps=3000))
    controller.step()
    wait_idle(qtbot, controller)
    assert controller.fit_trail() is not None
    controller.set_speed(FULL_SPEED)
    controller.start()
    wait_finished(qtbot, controller)
    assert controller.fit_trail() is None             # fits hundreds of steps apart make no trail


def test_costly_frames_are_spaced_out(qtbot, controller):
    from gui.worker import MIN_FPS
    frames = []
    controller.frame.connect(lambda: frames.append(controller.t))
    controller.load(replace(preset("exercise4"), steps=1_000_000))
    controller.set_speed(FULL_SPEED)
    controller.start()
    qtbot.waitUntil(lambda: controller.t > 0, timeout=TIMEOUT)
    controller._framed_cpu = None                     # (no frame of the real run is being costed)
    controller.note_frame_cost(0.3)                   # a frame that took 0.3 s to draw
    controller._dirty = True
    controller._frame_at = time.perf_counter()
    n = len(frames)
    controller._on_timer_timeout()                    # new data, but the frames' budget is spent
    assert len(frames) == n
    controller._frame_at -= 0.4                       # rested 1.3 × its cost: still not (REST = 1.5)
    controller._on_timer_timeout()
    assert len(frames) == n
    controller._frame_at -= 0.1                       # 0.5 s: rested, and MIN_FPS asks for a frame
    controller._on_timer_timeout()
    assert len(frames) == n + 1 and MIN_FPS >= 2
    controller.pause()


def test_fits_come_from_the_worker_and_match_the_step_training_stopped_at(qtbot, controller):
    from gui.worker import fit_grid
    exp = replace(preset("exercise4"), steps=1_000_000)
    controller.load(exp)
    controller.set_speed(FULL_SPEED)
    controller.start()
    qtbot.waitUntil(lambda: controller.fits_t > 0, timeout=TIMEOUT)   # the worker's fits, while training
    controller.pause()
    wait_idle(qtbot, controller)
    assert controller.fits_t == controller.t                          # pausing brings them to its step
    x, y = controller.fit_curves()
    np.testing.assert_array_equal(x, fit_grid(exp.make_data().x))
    np.testing.assert_allclose(y, exp.model_spec().predict(controller.progress.theta, x))
    # and the numbers are core's: the same steps taken headless give the same functions
    np.testing.assert_allclose(y, exp.model_spec().predict(headless(exp, controller.t).theta, x))
