"""gui.frames: what each frame refreshes (plain Python: the clock is given)."""
from __future__ import annotations

import pytest

from gui.frames import (FITS_EVERY, OUTCOMES_EVERY, PANELS_PER_FRAME, PARAMS_EVERY, PARTS, STATUS_EVERY,
                        FrameScheduler)


class Clock:
    def __init__(self, now=100.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def scheduler(clock):
    return FrameScheduler(clock)


def run_frames(scheduler, clock, seconds, fps=30, costly=lambda i: False, outcomes=lambda i: ("a",),
               wanted=PARTS):
    """Frames at full speed for ``seconds``; the parts due on each, in order."""
    out = []
    for i in range(int(seconds * fps)):
        clock.now += 1 / fps
        frame = scheduler.begin(running=True, full=True, outcomes=outcomes(i), wanted=wanted)
        frame.redrawn(costly(i))
        out.append({p for p in PARTS + ("analysis",) if frame.due(p)})
    return out


def test_full_speed_at_most_one_scheduled_part_per_frame_each_at_its_rate(scheduler, clock):
    scheduler.training_started()
    frames = run_frames(scheduler, clock, 10, outcomes=lambda i: (i // 5,))    # new outcomes every 5 frames
    for due in frames:
        assert len(due & {"fits", "params", "outcomes"}) <= 1
    count = {p: sum(p in d for d in frames) for p in PARTS}
    assert count["fits"] == pytest.approx(10 / FITS_EVERY, abs=3)         # never more often than FITS_EVERY
    assert count["fits"] <= 10 / FITS_EVERY + 1
    assert count["params"] <= 10 / PARAMS_EVERY + 1 and count["params"] >= 10 / PARAMS_EVERY / 2
    assert count["outcomes"] <= 10 / OUTCOMES_EVERY + 1 and count["outcomes"] > 0
    # (at 30 frames a second, a part with a period p comes every ceil(p·30) frames)
    assert 10 / (STATUS_EVERY + 1 / 30) - 2 <= count["status"] <= 10 / STATUS_EVERY + 1
    assert all(("analysis" in d) == ("outcomes" in d) for d in frames)


def test_training_start_staggers_the_first_refreshes(scheduler, clock):
    scheduler.training_started()
    first = run_frames(scheduler, clock, PARAMS_EVERY / 2 - 0.05)
    assert not any(d & {"fits", "params"} for d in first)                 # the curves come first
    later = run_frames(scheduler, clock, PARAMS_EVERY)
    i_params = next(i for i, d in enumerate(later) if "params" in d)
    i_fits = next(i for i, d in enumerate(later) if "fits" in d)
    assert i_params < i_fits                                             # params half a period earlier


def test_nothing_else_on_a_frame_where_the_loss_plot_is_redrawn_from_scratch(scheduler, clock):
    frames = run_frames(scheduler, clock, 3, costly=lambda i: True)
    assert not any(d & {"fits", "params", "outcomes"} for d in frames)
    assert any("status" in d for d in frames)                             # the step counter goes on
    frames = run_frames(scheduler, clock, 1, costly=lambda i: i % 2 == 0)
    assert any(d & {"fits", "params"} for d in frames)                    # and the others come back after


def test_unchanged_outcomes_take_no_turn(scheduler, clock):
    frames = run_frames(scheduler, clock, 3, outcomes=lambda i: ("same",))
    assert sum("outcomes" in d for d in frames) == 1                      # the first frame shows them, once


def test_a_hidden_views_parts_take_no_turn(scheduler, clock):
    frames = run_frames(scheduler, clock, 3, wanted=("fits", "outcomes"))
    assert not any("params" in d for d in frames)
    assert sum("fits" in d for d in frames) >= 3 / FITS_EVERY - 1


def test_paced_or_paused_everything_is_due_but_params_are_spaced_while_running(scheduler, clock):
    f = scheduler.begin(running=False, full=False, outcomes=("a",))
    assert all(f.due(p) for p in PARTS + ("analysis",))
    paced = []
    for _ in range(30):
        clock.now += 1 / 30
        f = scheduler.begin(running=True, full=False, outcomes=("a",))
        paced.append({p for p in PARTS if f.due(p)})
    assert all({"fits", "outcomes"} <= d for d in paced)
    assert 1 <= sum("params" in d for d in paced) <= 1 / PARAMS_EVERY + 1
    f = scheduler.begin(running=True, full=True, outcomes=("a",))
    assert f.panels == PANELS_PER_FRAME
    assert scheduler.begin(running=True, full=False).panels is None


def test_everything_when_a_view_comes_into_sight(scheduler, clock):
    run_frames(scheduler, clock, 1)
    f = scheduler.begin(running=True, full=True, outcomes=("a",), wanted=("fits", "params", "outcomes"),
                        everything=True)
    f.redrawn(True)
    assert f.due("fits") and f.due("params") and f.due("status") and f.panels is None


def test_outcomes_changed_only_when_they_differ_from_those_shown(scheduler, clock):
    f = scheduler.begin(running=False, full=False, outcomes=("a",))
    assert f.outcomes_changed
    f = scheduler.begin(running=False, full=False, outcomes=("a",))
    assert f.due("outcomes") and not f.outcomes_changed
    scheduler.forget_outcomes()
    assert scheduler.begin(running=False, full=False, outcomes=("a",)).outcomes_changed


def test_redrawn_must_come_before_the_plan(scheduler):
    f = scheduler.begin(running=True, full=True)
    f.due("fits")
    with pytest.raises(RuntimeError):
        f.redrawn(True)
