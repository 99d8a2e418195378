"""Axis ranges and decimation for the plots: pure numpy (no Qt), so it is tested headless.

Which runs set the loss axis (``healthy_runs``, ``loss_bounds``, ``LossSeries``) and the fit
axis (``fit_bounds``, ``off_chart``), how the axes grow in coarse steps (``nice_ceil``,
``quantize_bounds``), and which points of a curve are drawn (``decimate``, ``segments``).
"""
from __future__ import annotations

import math

import numpy as np

from ..format import number

OUTLIER_FACTOR = 1e3      # a run whose peak loss is this far above the others' median is left out
HEADROOM_DECADES = 2.0    # log axis: diverged runs may raise the top this far above the healthy runs
FIT_MARGIN = 1.0          # fit view: at most this many data spans beyond the data, each side
NICE = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)   # the step axis grows through these × 10^k
LOG_GRID = 0.5            # decades: a log loss axis's ends move in these steps


# (Row minima and column picks were ``reduceat`` forms, which keep the GIL where a 2-D
# reduction or fancy indexing of more than 500 numbers hands it to the training thread and
# back.  With and without, interleaved ``bench_gui.py --quick --without reduceat`` runs, 4
# rounds, load average 2.0-4.6: the lowest repaint rate 30/s without against 29-31/s with
# (24 against 26-27 at load 4.6, where the stall goal failed both ways: 76 against 66-67 ms),
# the longest stall 30-43 ms against 25-36 ms otherwise, training 81-89 % of headless against
# 78-89 %: no goal moved that could be trusted; the plain forms are the code.)
def _row_fmin(a: np.ndarray) -> np.ndarray:
    """(K,) NaN-ignoring minimum of each row of ``a`` (K, n ≥ 1)."""
    return np.fmin.reduce(a, axis=1)


def _row_fmax(a: np.ndarray) -> np.ndarray:
    """(K,) NaN-ignoring maximum of each row of ``a`` (K, n ≥ 1)."""
    return np.fmax.reduce(a, axis=1)


def _drawable(a: np.ndarray, positive: bool) -> np.ndarray:
    """Where a loss can be drawn: finite (and > 0 on a log axis)."""
    ok = np.isfinite(a)
    return ok & (a > 0) if positive else ok


def _median(a) -> float:
    """np.median without its lazy import of numpy.ma (30 ms at the first frame)."""
    s = np.sort(np.asarray(a, dtype=float))
    n = s.size
    return float("nan") if n == 0 else float((s[(n - 1) // 2] + s[n // 2]) / 2)


# -- ranges (pure numpy) ------------------------------------------------------------------
def _row_ranges(a: np.ndarray, log: bool):
    """Per-row (lo, hi) of the finite values (positive ones on a log axis), in view coordinates."""
    a = np.atleast_2d(a)
    with np.errstate(all="ignore"):
        ok = _drawable(a, log)
        lo = np.min(a, axis=1, where=ok, initial=np.inf)
        hi = np.max(a, axis=1, where=ok, initial=-np.inf)
        if log:
            lo, hi = np.log10(lo), np.log10(hi)
    return lo, hi


def healthy_runs(peaks: np.ndarray, diverged_steps) -> np.ndarray:
    """(K,) bool: not diverged, and peak loss not OUTLIER_FACTOR × above the median of the other such runs."""
    peaks = np.asarray(peaks, dtype=float)
    ok = (np.asarray(diverged_steps) < 0) & np.isfinite(peaks)
    out = ok.copy()
    idx = np.flatnonzero(ok)
    n = idx.size
    if n < 2:
        return out
    order = np.argsort(peaks[idx], kind="stable")
    s = peaks[idx][order]
    rank = np.empty(n, int)
    rank[order] = np.arange(n)
    m = n - 1                                    # the others of each run: s without its own rank
    i1, i2 = (m - 1) // 2, m // 2
    median = (s[i1 + (i1 >= rank)] + s[i2 + (i2 >= rank)]) / 2
    out[idx[peaks[idx] > OUTLIER_FACTOR * median]] = False
    return out


def _pad(lo: float, hi: float, log: bool, min_decades: float = 1.0):
    """Widen a too-narrow range: at least ``min_decades`` on a log axis (no crowded minor labels)."""
    if log and hi - lo < min_decades:
        mid = (lo + hi) / 2
        return mid - min_decades / 2, mid + min_decades / 2
    if hi - lo > 1e-12 * max(1.0, abs(hi)):
        return lo, hi
    half = max(0.1 * abs(hi), 1e-12)
    return lo - half, hi + half


def loss_bounds(lo_k, hi_k, peaks, diverged_steps, log: bool, headroom: bool = True, min_decades: float = 1.0,
                healthy=None):
    """(lo, hi) of the loss axis in view coordinates (log10 units on a log axis), or None.

    ``lo_k``, ``hi_k``: each run's range in view coordinates; ``peaks``: each run's
    largest finite loss.  From the healthy runs (``healthy``: ``healthy_runs(peaks,
    diverged_steps)`` if already known); with ``headroom``, diverged runs may raise the top
    by at most HEADROOM_DECADES (log) or one healthy span (linear).
    """
    if healthy is None:
        healthy = healthy_runs(peaks, diverged_steps)
    base = healthy & np.isfinite(hi_k) if healthy.any() else np.isfinite(hi_k)
    if not base.any():
        return None
    lo, hi = float(lo_k[base].min()), float(hi_k[base].max())
    rest = hi_k[~base & np.isfinite(hi_k)]
    if rest.size and headroom:
        cap = hi + (HEADROOM_DECADES if log else max(hi - lo, abs(hi), 1e-12))
        hi = max(hi, min(float(rest.max()), cap))
    return _pad(lo, hi, log, min_decades)


def log10_positive(a) -> np.ndarray:
    """log10 of the positive finite values, NaN elsewhere: what a log axis shows (a loss of 0,
    inf or NaN has no place on it)."""
    with np.errstate(all="ignore"):
        lg = np.log10(a)
    return np.where(np.isfinite(lg), lg, np.nan)


class LossSeries:
    """Growing loss curves seen incrementally: each frame only the new steps are scanned.

    Keeps each run's range on a linear and a log axis, its last finite step and its last
    step with a finite positive loss (what a log axis can show).  Steps already seen are
    taken as final (a step's loss is written once); a shorter or different history starts
    over.  No log10 of every loss is kept: the log range is the log10 of the positive range
    (log10 is monotonic), and the curves take log10 after decimation (``decimate(log=True)``).
    """

    def __init__(self):
        self.generation = -1
        self.reset(0)

    def reset(self, runs: int) -> None:
        self.generation += 1                    # the curves start over: views redraw them from scratch
        self.runs, self.n, self.first = runs, 0, b""          # first: the bytes of step 0's losses
        self._healthy = (None, None)                           # (key, healthy_runs) of the last call
        self.lo, self.hi, self.lo_log, self.hi_log = (np.full(runs, v) for v in (np.inf, -np.inf, np.inf, -np.inf))
        self.last, self.last_pos = np.full(runs, -1), np.full(runs, -1)     # last finite / finite positive step

    def update(self, losses: np.ndarray) -> None:
        K, T = losses.shape
        if K != self.runs or T < self.n or (self.n and losses[:, 0].tobytes() != self.first):
            self.reset(K)
        if T <= self.n:
            return
        new = losses[:, self.n:T]
        # NaN-ignoring reductions (one fast pass each); a row without a value gives NaN, which fmin/fmax skip
        lo = _row_fmin(new)                                   # (inf is never a row's least ...)
        hi = _row_fmax(new)
        if np.isinf(hi).any():                                # (... but may be its greatest: rare)
            hi = np.max(new, axis=1, where=_drawable(new, False), initial=-np.inf)
        lo_pos = lo
        if (lo <= 0).any():                                   # a loss of exactly 0 (a perfect fit): rare
            lo_pos = np.min(new, axis=1, where=_drawable(new, True), initial=np.inf)
        with np.errstate(all="ignore"):
            lo_log, hi_log = np.log10(lo_pos), np.log10(hi)   # NaN, ±inf where a row has no positive value
        self.lo_log, self.hi_log = np.fmin(self.lo_log, lo_log), np.fmax(self.hi_log, hi_log)
        self.lo, self.hi = np.fmin(self.lo, lo), np.fmax(self.hi, hi)
        has = np.isfinite(hi)
        _track_last(self.last, new, T, has)
        _track_last(self.last_pos, new, T, has & (hi > 0), positive=True)
        self.first = losses[:, 0].tobytes()
        self.n = T

    def ranges(self, log: bool):
        """Each run's (lo, hi) in view coordinates."""
        return (self.lo_log, self.hi_log) if log else (self.lo, self.hi)

    def healthy(self, diverged_steps) -> np.ndarray:
        """``healthy_runs`` of these runs (their peaks seldom change: the last answer is kept)."""
        ds = np.asarray(diverged_steps)
        key = self.hi.tobytes() + ds.tobytes()
        if key != self._healthy[0]:
            self._healthy = (key, healthy_runs(self.hi, ds))
        return self._healthy[1]

    def bounds(self, diverged_steps, log: bool, **kwargs):
        lo, hi = self.ranges(log)
        return loss_bounds(lo, hi, self.hi, diverged_steps, log, healthy=self.healthy(diverged_steps), **kwargs)


def _track_last(last: np.ndarray, new: np.ndarray, T: int, any_ok: np.ndarray, positive: bool = False) -> None:
    """``last[k]``: the last step with a finite (with ``positive``: finite and > 0) value, where
    ``new`` (K, n) holds steps T−n … T−1 and ``any_ok`` (K,) says which rows have one.  Only a row
    that has one but not at its end (a run that stopped within these steps) is scanned: the GUI
    thread calls this every frame, and each numpy call on a large array hands the GIL to the
    training thread and back."""
    at_end = _drawable(new[:, -1], positive)          # the usual case: the newest step
    last[at_end] = T - 1
    rest = np.flatnonzero(~at_end & any_ok)
    if rest.size:
        mask = _drawable(new[rest], positive)
        last[rest] = T - 1 - np.argmax(mask[:, ::-1], axis=1)


def fit_bounds(y_data, y_fits, margin: float = FIT_MARGIN):
    """(lo, hi) of the fit plot's y axis: the data and the fits, at most ``margin`` data spans beyond the data."""
    d_lo, d_hi = _row_ranges(np.ravel(y_data), False)
    f_lo, f_hi = _row_ranges(np.ravel(y_fits), False) if np.size(y_fits) else (np.array([np.inf]), np.array([-np.inf]))
    if not np.isfinite(d_lo[0]):
        if not np.isfinite(f_lo[0]):
            return None
        d_lo, d_hi = f_lo, f_hi
    lo, hi = float(d_lo[0]), float(d_hi[0])
    span = (hi - lo) or max(abs(hi), 1.0)
    lo2 = max(min(lo, float(f_lo[0])), lo - margin * span)
    hi2 = min(max(hi, float(f_hi[0])), hi + margin * span)
    return _pad(lo2, hi2, False)


def off_chart(fits, bounds) -> np.ndarray:
    """For each fit (a row of ``fits``, or one 1-D fit): +1 if all of it lies above ``bounds``,
    −1 if all below, 0 if some of it shows (or it has no finite value, or there are no bounds)."""
    lo, hi = _row_ranges(fits, False)
    if bounds is None:
        return np.zeros(lo.size, int)
    return np.where(~np.isfinite(lo), 0, np.where(lo > bounds[1], 1, np.where(hi < bounds[0], -1, 0)))


FAR_SPANS = 1e3           # a fit value further than this many spans outside the view is drawn at that distance


def clip_far(y, bounds) -> np.ndarray:
    """``y`` clipped to FAR_SPANS spans of ``bounds`` (lo, hi) beyond them, a new array: Qt paints
    1e300 badly, and nothing visible changes."""
    if bounds is None:
        return np.array(y, dtype=float)
    span = max(bounds[1] - bounds[0], 1e-12)
    with np.errstate(invalid="ignore"):
        return np.clip(y, bounds[0] - FAR_SPANS * span, bounds[1] + FAR_SPANS * span)


format_number = number                          # (gui.format: every number shown as text)


def _fit_runs(K: int, losses, t: int, diverged_steps):
    """losses[:, :t+1] and diverged steps for exactly K runs (missing runs: NaN / −1; extra ones dropped)."""
    losses = np.asarray(losses, dtype=float)
    losses = losses if losses.ndim == 2 else np.empty((0, 0))
    T = max(0, min(losses.shape[1], int(t) + 1))
    ds = np.full(K, -1)
    if diverged_steps is not None:
        given = np.ravel(diverged_steps)[:K]
        ds[:given.size] = given
    if losses.shape[0] == K:
        return losses[:, :T], ds
    out = np.full((K, T), np.nan)
    n = min(K, losses.shape[0])
    out[:n] = losses[:n, :T]
    return out, ds


# -- drawing only what the screen shows (pure numpy) ----------------------------------------
def nice_ceil(v: float, mantissas=NICE) -> float:
    """The smallest of ``mantissas`` (1, 1.5, 2, 3, 4, 5, 6, 8, 10) × 10^k that is >= ``v``
    (1 if v <= 1)."""
    v = float(v)
    if not v > 1:
        return 1.0
    e = 10.0 ** math.floor(math.log10(v))
    for m in mantissas:
        if m * e >= v * (1 - 1e-12):
            return m * e
    return 10 * e                                              # pragma: no cover (m = 10 always fits)


def quantize_bounds(bounds, log: bool):
    """Widen ``(lo, hi)`` outwards to a coarse grid — LOG_GRID decades on a log axis, half the
    span's decade on a linear one — so the axes change only now and then while curves grow."""
    if bounds is None:
        return None
    lo, hi = bounds
    step = LOG_GRID if log else 10.0 ** math.floor(math.log10(max(hi - lo, 1e-300))) / 2
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


def decimate(values: np.ndarray, cols: np.ndarray, log: bool = False):
    """Column-envelope ("M4") decimation of curves that share their x.

    ``values`` (K, n): the curves; ``cols`` (n,): the non-decreasing pixel column of each
    point.  Returns ``(starts, points)``: ``starts`` (B,) the index of the first point of each
    column's bucket, ``points`` (K, 4B) for each curve ``first, a, b, last`` of every bucket,
    where ``(a, b)`` is ``(max, min)`` if the bucket ends lower than it starts, else
    ``(min, max)``.  A polyline through them, each bucket drawn at one x, lights the pixels
    the full curve lights: a zigzag's envelope stays visible however many points fall in a
    column.  NaN are ignored; a bucket without a finite value gives NaN.

    ``log``: the points are ``log10_positive`` of the curves' (a log axis's view coordinates), the
    same as decimating ``log10_positive(values)``, but log10 is taken of the 4 points per column
    only (first, min, max and last commute with a monotonic function).
    """
    # Few numpy calls, none through numpy's Python wrappers (np.stack, np.diff...): the GUI thread
    # decimates every frame, and each call is time the training thread waits for the GIL.
    values = np.asarray(values, dtype=float)
    K, n = values.shape
    if n == 0:
        return np.zeros(0, dtype=np.intp), np.empty((K, 0))
    cols = np.asarray(cols)
    new_col = np.empty(n, bool)
    new_col[0] = True
    np.not_equal(cols[1:], cols[:-1], out=new_col[1:])
    starts = new_col.nonzero()[0]
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:] - 1
    ends[-1] = n - 1
    lo = np.fmin.reduceat(values, starts, axis=1)
    hi = np.fmax.reduceat(values, starts, axis=1)
    if log and ((lo <= 0).any() or np.isinf(hi).any()):         # what a log axis cannot show: rare
        values = np.where(_drawable(values, True), values, np.nan)
        lo = np.fmin.reduceat(values, starts, axis=1)
        hi = np.fmax.reduceat(values, starts, axis=1)
    both = values[:, np.concatenate((starts, ends))]
    first, last = both[:, :starts.size], both[:, starts.size:]
    first = np.where(np.isnan(first), hi, first)
    last = np.where(np.isnan(last), lo, last)
    down = first >= last
    points = np.empty((K, starts.size, 4))
    points[..., 0] = first
    points[..., 1] = np.where(down, hi, lo)
    points[..., 2] = np.where(down, lo, hi)
    points[..., 3] = last
    points = points.reshape(K, -1)
    return starts, log10_positive(points) if log else points


def _bucket_x(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """x of the points ``decimate`` gives: a bucket's first three at its first x, its last at its last x."""
    bx = np.repeat(x[starts], 4)
    bx[3::4] = x[np.append(starts[1:], x.size) - 1]
    return bx


def _polyline(x: np.ndarray, y: np.ndarray):
    """The finite points of a polyline, without repeats of the same point."""
    ok = np.isfinite(y) & np.isfinite(x)
    x, y = x[ok], y[ok]
    if x.size > 1:
        keep = np.ones(x.size, bool)
        keep[1:] = (np.diff(x) != 0) | (np.diff(y) != 0)
        x, y = x[keep], y[keep]
    return x, y


def segments(x: np.ndarray, y: np.ndarray):
    """Line segments of K polylines (x (K, n) or (n,), y (K, n)) between consecutive finite,
    distinct points.  Returns ``(segs, counts)``: segs (N, 4) rows x0, y0, x1, y1, curve by
    curve; counts (K,) how many belong to each curve.  A non-finite point leaves a gap."""
    x = np.asarray(x, dtype=float)
    drawable = np.isfinite(y) & np.isfinite(x)                 # (x (n,) broadcasts)
    if x.ndim == 1:
        x = x[None, :]
    x0, y0, x1, y1 = x[:, :-1], y[:, :-1], x[:, 1:], y[:, 1:]
    ok = drawable[:, :-1] & drawable[:, 1:]
    ok &= (x0 != x1) | (y0 != y1)
    segs = np.empty(ok.shape + (4,))
    segs[..., 0], segs[..., 1], segs[..., 2], segs[..., 3] = x0, y0, x1, y1
    return segs[ok], np.count_nonzero(ok, axis=1)
