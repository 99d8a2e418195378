"""The frame scheduler: at each frame, what the visible views refresh.

While training at full speed the loss curves (and the step counter) are drawn at every
frame; the other views are refreshed less often, each at its own rate, at most one of them
per frame and none on a frame where the loss plot was redrawn from scratch (a new axis
range): a frame's work stays small and even, and their costs do not land on the same
frame.  At full speed the fits are hundreds of steps apart anyway; at a paced speed, or
paused, everything is refreshed at every frame (the fits with the trail of the last steps),
the parameter table at most every PARAMS_EVERY while training.

Plain Python (no Qt): a view asks the ``Frame`` it is given whether a part is due::

    frame = scheduler.begin(running=..., full=..., outcomes=key, wanted=("fits", "params"))
    view.refresh(snapshot, frame)     # frame.redrawn() after a from-scratch redraw, then frame.due("fits")
    frame.due("status")

The plan is made at the first ``due`` question, so a view that redraws its loss curves
from scratch says so first (``redrawn``) and gets nothing else on that frame.
"""
from __future__ import annotations

import time

PARAMS_EVERY = 0.4          # s between parameter-table refreshes while training
FITS_EVERY = 0.4            # s between fit-plot refreshes at full speed (the worker computes them as often)
STATUS_EVERY = 0.1          # s between step-counter refreshes while training
OUTCOMES_EVERY = 0.25       # s between refreshes of the outcomes in the run list at full speed
PANELS_PER_FRAME = 4        # side by side at full speed: this many panels' curves per frame, in turn

# At full speed, the parts that take turns (one a frame at most), in this order of priority.
EVERY = {"fits": FITS_EVERY, "params": PARAMS_EVERY, "outcomes": OUTCOMES_EVERY}
PARTS = ("fits", "params", "outcomes", "status")


class FrameScheduler:
    """Remembers when each part was last shown, and plans each frame (``begin``)."""

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.shown_at = dict.fromkeys(PARTS, 0.0)
        self.outcomes_shown = None       # the outcomes the run list shows (a key: outcomes and diverged steps)

    def training_started(self) -> None:
        """The first frames draw the curves; the other views come after, staggered."""
        now = self.clock()
        self.shown_at.update(fits=now, params=now - PARAMS_EVERY / 2, outcomes=now)

    def forget_outcomes(self) -> None:
        """A new experiment: its outcomes are shown at the next frame that may."""
        self.outcomes_shown = None

    def begin(self, running: bool, full: bool, outcomes=None, wanted=PARTS, everything: bool = False) -> "Frame":
        """A frame.  ``wanted``: the parts the visible views show (a hidden view's part does not
        take a turn); ``everything``: all of them are due (a view just came into sight)."""
        return Frame(self, running, full, outcomes, tuple(wanted), everything)

    def plan(self, running: bool, full: bool, costly: bool = False, outcomes=None, wanted=PARTS,
             now: float | None = None) -> frozenset:
        """The parts due on a frame at ``now``, among ``wanted`` and "status"."""
        now = self.clock() if now is None else now
        at = self.shown_at
        if full and running:
            turn = [name for name in EVERY if name in wanted and now - at[name] >= EVERY[name]
                    and (name != "outcomes" or outcomes != self.outcomes_shown)]
            due = set(turn[:1]) if not costly else set()
        else:
            due = {"fits", "outcomes"} | ({"params"} if not running or now - at["params"] >= PARAMS_EVERY else set())
        if not running or now - at["status"] >= STATUS_EVERY:
            due.add("status")
        return frozenset(due & set(wanted + ("status",)))

    def shown(self, parts, outcomes=None, now: float | None = None) -> None:
        """Note ``parts`` as shown at ``now``; the outcomes only when they changed."""
        now = self.clock() if now is None else now
        for name in parts:
            if name != "outcomes" or outcomes != self.outcomes_shown:
                self.shown_at[name] = now
        if "outcomes" in parts:
            self.outcomes_shown = outcomes


class Frame:
    """One frame's plan, made at the first ``due`` question (see the module doc)."""

    def __init__(self, scheduler: FrameScheduler, running: bool, full: bool, outcomes, wanted, everything: bool):
        self.scheduler, self.running, self.full, self.outcomes = scheduler, running, full, outcomes
        self.wanted, self.everything = wanted, everything
        self.costly = False
        self._changed = False
        self._due = None

    @property
    def panels(self) -> int | None:
        """How many small-multiples panels redraw their curves on this frame (None: all)."""
        return PANELS_PER_FRAME if self.full and self.running and not self.everything else None

    def redrawn(self, costly: bool = True) -> None:
        """Whether the loss plot was redrawn from scratch on this frame: then nothing else is due."""
        if self._due is not None:
            raise RuntimeError("Frame.redrawn() must come before the first Frame.due()")
        self.costly = self.costly or bool(costly)

    def due(self, part: str) -> bool:
        """Whether ``part`` ("fits", "params", "outcomes", "status") is refreshed on this frame;
        "analysis" (the views fed by the outcomes) is due with the outcomes, and always when paused."""
        due = self._plan()
        if part == "analysis":
            return "outcomes" in due or not self.running
        return part in due

    @property
    def outcomes_changed(self) -> bool:
        """The outcomes are due and differ from those shown before this frame."""
        self._plan()
        return self._changed

    def _plan(self) -> frozenset:
        if self._due is None:
            s = self.scheduler
            if self.everything:
                due = frozenset(self.wanted + ("status",))
            else:
                due = s.plan(self.running, self.full, self.costly, self.outcomes, self.wanted)
            self._changed = "outcomes" in due and self.outcomes != s.outcomes_shown
            s.shown(due, self.outcomes)
            self._due = due
        return self._due
