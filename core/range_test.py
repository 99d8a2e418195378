"""The learning-rate range test (Smith 2017) as fastai 2.8's ``lr_find`` does it, and its
three suggestions (fastai's ``steep``, ``minimum`` and ``valley``).

The ramp.  From the initial parameters, batch i = 0, 1, … uses the rate
``ηᵢ = lr_min·(lr_max/lr_min)^(i/steps)``: it rises by the same factor every batch and its
last rate is one factor short of ``lr_max`` (fastai's ``LRFinder`` schedule).

The pairing.  The loss recorded with ηᵢ is the loss of batch i, computed at the parameters
*before* the update made with ηᵢ (fastai: forward, loss, backward, step).  So loss 0 is the
loss at the start, and the last update taken is never seen by any loss.

The recorder.  ``valᵢ = β·valᵢ₋₁ + (1 − β)·lossᵢ`` (val₋₁ = 0, β = 0.98), and the smoothed
loss is ``valᵢ/(1 − βⁱ⁺¹)``.  After batch i is recorded: the best smoothed loss so far is
updated; the test stops if the smoothed loss is above 4× that best (batch i stays recorded),
or once ``steps`` batches are recorded.  A NaN never stops it (NaN > x is false), as in fastai.

The suggestions use the recorded points less ``steps//10`` at the start and 5 at the end
(Python slicing ``[steps//10:-5]`` of the recorded lists), cut at the first NaN smoothed loss:

* minimum: the rate at the lowest smoothed loss, divided by 10;
* steep: the LEFT rate of the neighbouring pair whose slope Δloss/Δln η is the most negative;
* valley (fastai's default): the longest strictly decreasing subsequence of the smoothed loss,
  and the point ``int(s) + int(s/2)`` past its start, where s = (its length)/3.

The optimizer.  As fastai's lr_find runs the learner's own optimizer, the test runs the
experiment's: that of its run at rate lr_min if it has one, else of its first run, with its
parameters (plain gradient descent when the experiment has no recipes).  The ramp is its
schedule, and its state (momentum buffer, Adam's moments) carries on from one rate to the next
(``ramp_rule``).

Mini-batches: with the experiment's batch size B < N, batch i is the experiment's batch i
(core.batches) and its loss is the mini-batch loss (``Trainer.batch_losses``), noisy, as in
fastai.  At full batch every batch is the whole data set, so the loss is not noisy.

Where LR Lab differs from fastai: the engine stops a run whose loss passes its divergence
bound, and its later losses are NaN (fastai trains on; the 4× rule has stopped the test
long before in every case we know of); fewer than 7 steps are refused (fastai raises them to
6, which leaves 1 point after trimming: too few for a slope); lr-min defaults to 1e-6
(fastai: 1e-7).
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from .cancel import check, chunk_steps

BETA = 0.98
STOP_FACTOR = 4.0
TRIM_END = 5                  # recorded points left out at the end (fastai's skip_end)
MIN_STEPS = 7                 # the fewest steps that leave 2 points (one slope) after trimming
MAX_STEPS = 100_000
CHUNK = 2000                  # steps trained between two looks at the stop rule


def lr_schedule(lr_min: float, lr_max: float, steps: int) -> np.ndarray:
    """fastai's ramp: ηᵢ = lr_min·(lr_max/lr_min)^(i/steps), i = 0 … steps − 1."""
    return lr_min * (lr_max / lr_min) ** (np.arange(steps) / steps)


def trim(steps: int) -> tuple[int, int]:
    """fastai's trimming: the recorded points the suggestions use are [steps//10 : -5]."""
    return steps // 10, TRIM_END


class Recorder:
    """fastai's Recorder with AvgSmoothLoss and LRFinder's stop rule, fed losses in order."""

    def __init__(self, steps: int, beta: float = BETA):
        self.steps, self.beta = int(steps), beta
        self.val, self.best = 0.0, float("inf")
        self.smoothed: list[float] = []
        self.done = self.steps <= 0

    def record(self, losses) -> bool:
        """Record batches' losses until the test stops; True once it has stopped."""
        beta, val, best, out = self.beta, self.val, self.best, self.smoothed
        for loss in np.asarray(losses, dtype=float).tolist():
            if self.done:
                break
            val = beta * val + (1 - beta) * loss
            sm = val / (1 - beta ** (len(out) + 1))
            out.append(sm)
            if sm < best:
                best = sm
            if sm > STOP_FACTOR * best or len(out) >= self.steps:
                self.done = True
        self.val, self.best = val, best
        return self.done


def smooth(losses: np.ndarray, beta: float = BETA) -> np.ndarray:
    """Debiased EMA: avgᵢ = β·avgᵢ₋₁ + (1 − β)·Lᵢ,  smoothedᵢ = avgᵢ / (1 − βⁱ⁺¹)."""
    out = np.empty(len(losses))
    avg = 0.0
    for i, v in enumerate(np.asarray(losses, dtype=float).tolist()):
        avg = beta * avg + (1 - beta) * v
        out[i] = avg / (1 - beta ** (i + 1))
    return out


def stop_index(smoothed: np.ndarray) -> int:
    """How many points the recorder keeps: up to and including the first smoothed loss above
    4× the best so far (the best including that point), or all of them."""
    best = float("inf")
    for i, v in enumerate(np.asarray(smoothed, dtype=float).tolist()):
        if v < best:
            best = v
        if v > STOP_FACTOR * best:
            return i + 1
    return len(smoothed)


# -- the suggestions, on the trimmed points ------------------------------------------------
def minimum(lrs: np.ndarray, losses: np.ndarray) -> float:
    """fastai's minimum: the rate at the lowest loss, divided by 10."""
    return float(lrs[int(np.argmin(losses))] / 10)


def steep(lrs: np.ndarray, losses: np.ndarray) -> float:
    """fastai's steep: the left rate of the pair of neighbours with the most negative
    Δloss/Δln η (one-sided differences, not central ones)."""
    with np.errstate(all="ignore"):                  # inf − inf: NaN, argmin's first (as torch)
        grads = np.diff(losses) / np.diff(np.log(lrs))
    return float(lrs[int(np.argmin(grads))])


def valley_index(losses: np.ndarray) -> int:
    """fastai's valley, in O(n log n).

    fastai computes lds[i], the length of the longest strictly decreasing subsequence ending
    at i, with a double loop, and keeps max_end, the first i where lds reaches a new high, and
    max_start = max_end − lds[max_end].  (Its max_end test sits inside the inner loop, so it
    can fire while lds[i] is still growing; but every lds[j], j < i, is ≤ the high M, so
    lds[i] can only pass M by becoming M + 1, its final value: the result is the same.)
    Here lds comes from patience sorting of −loss (a strictly increasing subsequence), and
    max_end is the first argmax of lds.  As in fastai, a descent that starts at point 0 gives
    max_start = −1, and an index of −1 is Python's last point.
    """
    n = len(losses)
    tails: list[float] = []           # tails[k]: the largest −loss ending a run of length k + 1
    lds = np.empty(n, dtype=np.int64)
    for i, v in enumerate((-np.asarray(losses, dtype=float)).tolist()):
        k = bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
        else:
            tails[k] = v
        lds[i] = k + 1
    max_start = max_end = 0           # fastai's start values, kept if no lds passes 1
    if n and lds.max() > 1:
        max_end = int(np.argmax(lds))
        max_start = max_end - int(lds[max_end])
    sections = (max_end - max_start) / 3
    return max_start + int(sections) + int(sections / 2)


def valley(lrs: np.ndarray, losses: np.ndarray) -> float:
    """fastai's valley (its default suggestion): 2/3 of the way down the longest descent."""
    return float(lrs[valley_index(losses)])


@dataclass(frozen=True)
class RangeTest:
    lrs: np.ndarray            # η of each recorded batch
    losses: np.ndarray         # that batch's loss: at the parameters BEFORE the update with η
    smoothed: np.ndarray       # the recorder's debiased EMA of the losses
    steepest: float            # fastai's steep
    minimum_tenth: float       # fastai's minimum (already divided by 10)
    valley: float              # fastai's valley, its default suggestion
    steps: int = 0             # steps asked for (the recorded batches may be fewer: stopped)
    used: tuple = (0, 0)       # [start, end) of the recorded points the suggestions use
    note: str = ""             # why a suggestion is NaN, if one is

    @property
    def stopped(self) -> bool:
        """True if the 4× rule stopped the test before ``steps`` batches."""
        return len(self.lrs) < self.steps


def suggestions(lrs: np.ndarray, losses: np.ndarray, steps: int | None = None) -> RangeTest:
    """fastai's recorder, trimming and suggestions on a ramp: ``lrs[i]`` the rate of batch i
    and ``losses[i]`` its loss (at the parameters before that batch's update); ``steps`` (the
    ramp's length, default len(lrs)) sets the trimming.  ``losses`` may stop early, once the
    stop rule has fired."""
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    steps = len(lrs) if steps is None else int(steps)
    rec = Recorder(steps)
    rec.record(losses)
    n = len(rec.smoothed)
    lrs, losses, sm = lrs[:n], losses[:n], np.array(rec.smoothed)
    start, end_trim = trim(steps)
    end = max(start, n - end_trim)
    nan = np.flatnonzero(np.isnan(sm[start:end]))
    if nan.size:
        end = start + int(nan[0])
    use_lrs, use_sm = lrs[start:end], sm[start:end]
    m = end - start
    nan_v = float("nan")
    note = ""
    if m < 2:
        note = (f"the test recorded {n} of {steps} steps; fastai's trimming ({start} at the start, "
                f"{end_trim} at the end{', and the first NaN' if nan.size else ''}) leaves {max(m, 0)} "
                f"point{'s' if m != 1 else ''}: {'no suggestion' if m < 1 else 'no slope'} "
                "(lower lr-min, or raise the steps)")
    elif not np.all(np.isfinite(sm[start:end])):
        note = "the smoothed loss is infinite at some of the points used: the suggestions mean little"
    return RangeTest(lrs, losses, sm,
                     steep(use_lrs, use_sm) if m >= 2 else nan_v,
                     minimum(use_lrs, use_sm) if m >= 1 else nan_v,
                     valley(use_lrs, use_sm) if m >= 1 else nan_v,
                     steps, (start, start + max(m, 0)), note)


class Ramp:
    """The range test's schedule: ηₜ from a table, one rate per update (one run)."""

    def __init__(self, schedule: np.ndarray):
        self.schedule = np.asarray(schedule, dtype=float)

    def lr_at(self, t: int) -> np.ndarray:
        return self.schedule[t:t + 1]


def ramp_recipe(experiment, lr_min: float):
    """The recipe whose optimizer the range test runs (``Experiment.update_rule`` picks it): the
    experiment's run at rate ``lr_min`` if it has one, else its first run (plain gradient descent
    if the experiment has no recipes).  The ramp replaces its schedule."""
    recipes = experiment.recipes()
    return next((r for r in recipes if r.lr == float(lr_min)), recipes[0])


def ramp_rule(experiment, lrs):
    """The update rule of the range test: the experiment's optimizer (``ramp_recipe``) at the
    rates ``lrs``, one per update, as fastai's lr_find runs the learner's own optimizer under its
    LRFinder schedule.  The optimizer's state (momentum buffer, Adam's moments) carries on from
    one rate to the next."""
    return experiment.update_rule([float(lrs[0])], schedule=Ramp(lrs), steps=len(lrs))


def check_range(lr_min, lr_max, steps, steps_name: str = "range test steps") -> None:
    """The range test's settings, checked once (range_test and the command line call it)."""
    from .errors import ConfigError
    if not (0 < lr_min < lr_max):
        raise ConfigError(f"range test: need 0 < lr-min < lr-max; got {lr_min:g} {lr_max:g}")
    if not MIN_STEPS <= steps <= MAX_STEPS:
        raise ConfigError(f"{steps_name} must be between {MIN_STEPS} and {MAX_STEPS} (fastai leaves out "
                          f"steps//10 at the start and {TRIM_END} at the end, and a slope needs 2 points); "
                          f"got {steps}")


def range_test(experiment, data=None, lr_min: float = 1e-6, lr_max: float = 10.0,
               steps: int = 100, should_stop=None) -> RangeTest:
    """Run the range test from the experiment's initial parameters (the engine, one run).

    ``should_stop``: see core.cancel; asked between chunks of steps (raises Cancelled)."""
    check_range(lr_min, lr_max, steps)
    data = experiment.make_data() if data is None else data
    lrs = lr_schedule(lr_min, lr_max, steps)
    trainer = experiment.trainer(data, learning_rates=[lr_min], steps=steps, rule=ramp_rule(experiment, lrs),
                                 loss_every="epoch")
    # The loss of batch i is batch_losses[i] (at full batch: the loss): taken before the update
    # with lrs[i].  Train in chunks and stop once the recorder has stopped (the steps after it
    # are never looked at).
    losses = trainer.batch_losses[0]
    rec = Recorder(steps)
    rec.record(losses[:1])
    chunk = CHUNK if should_stop is None else chunk_steps(trainer, CHUNK)
    while not rec.done:
        check(should_stop, "range test")
        if not trainer.step(chunk):
            break
        rec.record(losses[len(rec.smoothed):trainer.t + 1])
    return suggestions(lrs, losses[:len(rec.smoothed)], steps)
