"""Learning-rate schedules, computed exactly as PyTorch's schedulers compute them.

The rate of update t (t = 0 is the first update) is the rate PyTorch's scheduler gives
after t ``scheduler.step()`` calls, i.e. the rate the (t + 1)-th ``optimizer.step()``
uses.  η is the run's rate, S the budget (updates), W the warmup's updates
(``warmup_steps``, 0: none), s its ``start_factor``, T = S − W the updates after it.

Each schedule is the PyTorch code beside it::

    constant      no scheduler                              ηₜ = η
    step          StepLR(step_size=k, gamma=γ)              ηₑ = ηₑ₋₁·γ if e % k == 0 else ηₑ₋₁   (η₀ = η)
    exponential   ExponentialLR(gamma=γ)                    ηₑ = ηₑ₋₁·γ                          (η₀ = η)
    cosine        CosineAnnealingLR(T_max=T, eta_min=m)     ηₑ = (1 + cos(π·e/T)) / (1 + cos(π·(e−1)/T))·(ηₑ₋₁ − m) + m
    one-cycle     OneCycleLR(max_lr=η, total_steps=T, pct_start=p, div_factor=d, final_div_factor=f,
                             anneal_strategy='cos', cycle_momentum=False, three_phase=False)
                  with a = p·T − 1 (a float), η_lo = η/d, η_end = η_lo/f:
                  e ≤ a:  ηₑ = η + (η_lo − η)/2·(cos(π·e/a) + 1)
                  e > a:  ηₑ = η_end + (η − η_end)/2·(cos(π·(e − a)/(T − 1 − a)) + 1)

PyTorch computes step, exponential, cosine and the warmup *recursively* (each rate from
the one before, "chainable" ``get_lr``), and so do we, step by step in the same order of
floating-point operations: the recursive cosine near its end (where 1 + cos(π(e−1)/T) is
tiny) differs from the closed form by far more than 1e-12, so a closed form would not do.
The cosines are ``math.cos`` (the C library's, as PyTorch's), never numpy's, whose SIMD
cosine may differ in the last bit.

Warmup (``warmup_steps`` W > 0, ``warmup_start_factor`` s in (0, 1])::

    LinearLR(start_factor=s, end_factor=1, total_iters=W)   η₀ = s·η,
        ηₜ = ηₜ₋₁·(1 + (1 − s)/(W·s + (t − 1)·(1 − s)))  for 1 ≤ t ≤ W,  then unchanged

which is s + (1 − s)·t/W times η for t ≤ W up to rounding.  Composition rule (what
``SequentialLR([warmup, decay], milestones=[W])`` does, read in torch/optim/lr_scheduler.py):
updates t < W take the warmup's rate; at t = W the decay restarts from its *closed form*
at its epoch 0 (``decay._update_lr(0)``: η for step and exponential, m + (η − m)·(1 + cos 0)/2
for cosine), and from then on runs its recursion with e = t − W over the T remaining updates
(the cosine's T_max = T).  ``constant`` with a warmup is ``LinearLR`` alone (no decay: the
rate reached at t = W stays).  One-cycle has its own warm-up phase and refuses a warmup
(SequentialLR would warm it up to η/div_factor, not to η).

``Schedule`` is the plain description (``check`` raises ConfigError through
core.fields.RECIPE_FIELDS); ``rates(lr, steps)`` gives one run's rates; ``RateTable`` gives
every run's rate of update t for the engine, a chunk of updates at a time (a long budget never
holds a steps × K table), one vectorized computation per group of runs that share a schedule.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from .errors import ConfigError, shown
from .fields import RECIPE_FIELDS, SCHEDULES

_F = RECIPE_FIELDS
_PARAMS = {   # the parameters each schedule reads (PyTorch's argument names)
    "constant": (),
    "step": ("step_size", "gamma"),
    "exponential": ("gamma",),
    "cosine": ("eta_min",),
    "one-cycle": ("pct_start", "div_factor", "final_div_factor"),
}


@dataclass(frozen=True)
class Schedule:
    """One run's learning-rate schedule: its name, its parameters, an optional linear warmup.

    The fields are core.fields.RECIPE_FIELDS' (defaults, bounds, words); a schedule only
    reads the parameters of its own name (``params``).
    """

    name: str = _F["schedule"].default
    step_size: int = _F["step_size"].default
    gamma: float = _F["gamma"].default
    eta_min: float = _F["eta_min"].default
    pct_start: float = _F["pct_start"].default
    div_factor: float = _F["div_factor"].default
    final_div_factor: float = _F["final_div_factor"].default
    warmup_steps: int = _F["warmup_steps"].default
    warmup_start_factor: float = _F["warmup_start_factor"].default

    @property
    def params(self) -> tuple:
        """The names of the parameters this schedule reads."""
        return _PARAMS.get(self.name, ())

    @property
    def is_constant(self) -> bool:
        return self.name == "constant" and self.warmup_steps == 0

    def check(self, steps: int | None = None, where: str = "") -> "Schedule":
        """Self with normalized types, or ConfigError naming the field and the value.  With
        ``steps`` (the budget) also what depends on it: a warmup must leave updates for the
        decay, and each one-cycle phase must last at least 2 updates."""
        p = where
        name = _F["schedule"].check(self.name)
        values = {"name": name}
        for f in fields(self):
            if f.name != "name":
                values[f.name] = _F[f.name].check(getattr(self, f.name))
        s = Schedule(**values)
        W = s.warmup_steps
        if W and name == "one-cycle":
            raise ConfigError(f"{p}warmup: one-cycle has its own warm-up phase and takes no warmup; "
                              f"got warmup steps {W}")
        if steps is not None:
            T = int(steps) - W
            if T < 1:
                raise ConfigError(f"{p}warmup steps must leave updates for the schedule (< steps = {steps}); got {W}")
            if name == "one-cycle":
                a = float(s.pct_start * T) - 1       # the last update of the rising phase (PyTorch's end_step)
                if a < 1:
                    raise ConfigError(f"{p}pct_start: the one-cycle's rising phase would last fewer than 2 "
                                      f"updates (pct_start·steps = {s.pct_start * T:g}); got {s.pct_start:g}")
                if T - 1 - math.floor(a) < 2:
                    raise ConfigError(f"{p}pct_start: the one-cycle's falling phase would last fewer than 2 "
                                      f"updates (of {T}); got {s.pct_start:g}")
        return s

    # -- as JSON (PyTorch's argument names) -------------------------------------------------
    def to_dict(self) -> dict:
        """``{"name": …, <its parameters>, "warmup": {"steps": W, "start_factor": s}}`` (warmup only if W > 0)."""
        d = {"name": self.name, **{k: getattr(self, k) for k in self.params}}
        if self.warmup_steps:
            d["warmup"] = {"steps": self.warmup_steps, "start_factor": self.warmup_start_factor}
        return d

    @classmethod
    def from_dict(cls, d, where: str = "schedule") -> "Schedule":
        """The inverse of ``to_dict`` (not yet checked: call ``check``)."""
        if not isinstance(d, dict) or "name" not in d:
            raise ConfigError(f"{where} must be an object with a name; got {shown(d)}")
        d = dict(d)
        name = d.pop("name")
        warmup = d.pop("warmup", None)
        allowed = _PARAMS.get(name, ())
        for k in d:
            if k not in allowed:
                raise ConfigError(f"{where}: unknown key {shown(k)} for schedule {shown(name)}"
                                  f" (known: {', '.join(('name',) + allowed + ('warmup',))})")
        kw = dict(d)
        if warmup is not None:
            if not isinstance(warmup, dict) or set(warmup) - {"steps", "start_factor"} or "steps" not in warmup:
                raise ConfigError(f"{where} warmup must be an object with steps (and start_factor); got {shown(warmup)}")
            kw["warmup_steps"] = warmup["steps"]
            if "start_factor" in warmup:
                kw["warmup_start_factor"] = warmup["start_factor"]
        return cls(name=name, **kw)

    def as_dict(self) -> dict:
        return asdict(self)

    # -- its rates --------------------------------------------------------------------------
    def rates(self, lr: float, steps: int) -> np.ndarray:
        """(steps,) the rate of every update of one run at rate ``lr`` (checked spec)."""
        return RateTable([lr], [self], steps).table(0, steps)[:, 0]


class _GroupRates:
    """The rates of the runs that share one schedule (rates ``lrs``), a chunk at a time, in order.

    State: ``t`` (the next update) and ``last`` (the rates of update t − 1), so a chunk continues
    each recursion where the last one stopped.
    """

    def __init__(self, spec: Schedule, lrs: np.ndarray, steps: int):
        self.spec, self.lrs, self.steps = spec, np.asarray(lrs, dtype=float), int(steps)
        self.W = spec.warmup_steps
        self.T = self.steps - self.W
        self.reset()

    def reset(self) -> None:
        self.t, self.last = 0, None

    def next(self, n: int) -> np.ndarray:
        """(n, Kg) the rates of updates t … t + n − 1."""
        t0, t1 = self.t, self.t + n
        rows = np.empty((n, self.lrs.size))
        W, name = self.W, self.spec.name
        warm_end = t1 if name == "constant" else min(t1, W)     # constant + warmup: LinearLR alone, all along
        if t0 < warm_end:
            self._warmup(rows[:warm_end - t0], t0, warm_end)
        if warm_end < t1:
            e0 = max(t0, W) - W
            self._decay(rows[max(t0, W) - t0:], e0, t1 - W)
        self.t, self.last = t1, rows[-1].copy()
        return rows

    def _chain(self, out: np.ndarray, first: np.ndarray, factors: np.ndarray) -> None:
        """out[0] = first, out[i] = out[i − 1]·factors[i − 1]: the products one by one, in order."""
        out[0] = first
        if len(out) > 1:
            out[1:] = factors[:, None]
            np.multiply.accumulate(out, axis=0, out=out)

    def _warmup(self, out, t0, t1) -> None:
        """LinearLR(start_factor=s, end_factor=1, total_iters=W): multiply by its factor for t ≤ W."""
        s, W = self.spec.warmup_start_factor, self.W
        t = np.arange(max(t0, 1), t1, dtype=float)
        if W:
            # 1.0 + (end − s) / (W·s + (t − 1)·(end − s)), as PyTorch writes it; unchanged after W
            f = 1.0 + (1.0 - s) / (W * s + (t - 1) * (1.0 - s))
            f[t > W] = 1.0
        else:
            f = np.ones_like(t)
        if t0 == 0:
            first = self.lrs * s if W else self.lrs
            self._chain(out, first, f)
        else:
            self._chain_from(out, self.last, f)

    def _chain_from(self, out, last, factors) -> None:
        """out[i] = out[i − 1]·factors[i] with out[−1] = last."""
        tmp = np.empty((len(out) + 1, out.shape[1]))
        self._chain(tmp, last, factors)
        out[:] = tmp[1:]

    def _decay(self, out, e0, e1) -> None:
        """The decay's rates at its epochs e0 … e1 − 1 (e = t − W)."""
        spec, lrs, name, T = self.spec, self.lrs, self.spec.name, self.T
        e = np.arange(max(e0, 1), e1)
        if name == "one-cycle":
            self._one_cycle(out, np.arange(e0, e1))
            return
        if name == "step":
            f = np.where(e % spec.step_size == 0, spec.gamma, 1.0)
        elif name == "exponential":
            f = np.full(e.size, spec.gamma)
        else:                                                   # cosine
            f = self._cosine_ratio(e)
        first = lrs
        if name == "cosine" and self.W:                         # SequentialLR: the closed form at epoch 0
            m = spec.eta_min
            first = m + (lrs - m) * (1 + math.cos(math.pi * 0 / T)) / 2
        m = spec.eta_min if name == "cosine" else 0.0
        if m == 0.0:                                            # (r·(η − 0)) + 0 is r·η exactly
            if e0 == 0:
                self._chain(out, first, f)
            else:
                self._chain_from(out, self.last, f)
            return
        # the cosine towards m ≠ 0: ηₑ = r·(ηₑ₋₁ − m) + m is affine, so it runs one update at a time
        prev, i = (first, 1) if e0 == 0 else (self.last, 0)
        if e0 == 0:
            out[0] = first
        for k, r in enumerate(f.tolist()):
            prev = out[i + k] = r * (prev - m) + m

    def _cosine_ratio(self, e: np.ndarray) -> np.ndarray:
        """(1 + cos(π·e/T)) / (1 + cos(π·(e − 1)/T)) with math.cos, for e ≥ 1."""
        T = self.T
        if e.size == 0:
            return np.empty(0)
        c = np.array([math.cos(math.pi * k / T) for k in range(int(e[0]) - 1, int(e[-1]) + 1)])
        return (1 + c[1:]) / (1 + c[:-1])

    def _one_cycle(self, out, e: np.ndarray) -> None:
        spec, T = self.spec, self.T
        max_lr = self.lrs
        initial = max_lr / spec.div_factor
        min_lr = initial / spec.final_div_factor
        a = float(spec.pct_start * T) - 1
        rising = e <= a
        with np.errstate(divide="ignore", invalid="ignore"):     # np.where works out both phases
            pct = np.where(rising, (e - 0.0) / (a - 0.0), (e - a) / ((T - 1) - a))
        cos_out = np.array([math.cos(math.pi * p) + 1 for p in pct.tolist()])[:, None]
        # PyTorch's _annealing_cos(start, end, pct) = end + (start − end)/2.0·cos_out:
        # rising from initial to max_lr, then falling from max_lr to min_lr
        out[:] = np.where(rising[:, None],
                          max_lr + (initial - max_lr) / 2.0 * cos_out,
                          min_lr + (max_lr - min_lr) / 2.0 * cos_out)


class RateTable:
    """Every run's rate of update t, for K runs with their own rates and schedules.

    ``lr_at(t)`` → (K,) (the engine's call, once per update); ``table(start, stop)`` →
    (stop − start, K).  The rates are worked out ``chunk`` updates at a time, in order (going
    back to an earlier update starts the recursions again from update 0), one vectorized
    computation per group of runs that share a schedule: a 10,000,000-update budget costs
    ``chunk``·K floats, not a steps × K table.  When every run is constant, ``lr_at`` is the
    rates themselves.
    """

    CHUNK = 4096

    def __init__(self, learning_rates, schedules, steps: int, chunk: int = CHUNK):
        self.learning_rates = np.asarray(learning_rates, dtype=float).reshape(-1)
        self.schedules = tuple(schedules)
        self.steps, self.chunk = int(steps), int(chunk)
        if len(self.schedules) != self.learning_rates.size:
            raise ValueError("one schedule per learning rate")
        self.constant = all(s.is_constant for s in self.schedules)
        by_spec: dict = {}
        for k, s in enumerate(self.schedules):
            by_spec.setdefault(s, []).append(k)
        self._groups = [(np.array(ks), _GroupRates(s, self.learning_rates[ks], self.steps))
                        for s, ks in by_spec.items()]
        self._start, self._rows = 0, np.empty((0, self.learning_rates.size))

    def _fill(self, t: int) -> None:
        """Make the current chunk the one holding update t."""
        if t < self._start:
            for _, g in self._groups:
                g.reset()
            self._start, self._rows = 0, np.empty((0, self.learning_rates.size))
        while t >= self._start + len(self._rows):
            start = self._start + len(self._rows)
            n = max(1, min(self.chunk, self.steps - start))
            rows = np.empty((n, self.learning_rates.size))
            for ks, g in self._groups:
                rows[:, ks] = g.next(n)
            self._start, self._rows = start, rows

    def lr_at(self, t: int) -> np.ndarray:
        """(K,) the rate of every run at update t (0 ≤ t < steps)."""
        if self.constant:
            return self.learning_rates
        self._fill(t)
        return self._rows[t - self._start]

    def table(self, start: int, stop: int) -> np.ndarray:
        """(stop − start, K) the rates of updates start … stop − 1."""
        if self.constant:
            return np.broadcast_to(self.learning_rates, (stop - start, self.learning_rates.size)).copy()
        out = np.empty((stop - start, self.learning_rates.size))
        t = start
        while t < stop:
            self._fill(t)
            n = min(stop, self._start + len(self._rows)) - t
            out[t - start:t - start + n] = self._rows[t - self._start:t - self._start + n]
            t += n
        return out


def rates(lr: float, schedule: Schedule, steps: int) -> np.ndarray:
    """(steps,) the rate of every update of one run (a convenience for ``Schedule.rates``)."""
    return schedule.rates(lr, steps)


__all__ = ["Schedule", "RateTable", "rates", "SCHEDULES"]
