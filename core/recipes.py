"""Runs as recipes on the command line, in file headers and in the forecast.

A run's recipe (core.optim.Recipe: rate, optimizer and its parameters, schedule) is written
three ways besides the JSON file (core.experiment):

* **flat fields**, the names of core.fields.RECIPE_FIELDS (``optimizer``, ``momentum``,
  ``beta1``, ``schedule``, ``eta_min``, ``warmup_steps`` …): what the command-line options
  and ``--run "lr=0.5,optimizer=momentum,momentum=0.9,schedule=cosine"`` give
  (``with_fields``, ``parse_run``);
* a **column label** of the CSV file: ``lr=<rate>``, then the optimizer and the schedule when
  some run does not use plain gradient descent at a constant rate (``column_labels``)::

      lr=0.1 momentum(0.9) warmup(100;0.01)+cosine(0)

  optimizer  gd | momentum(β) | nesterov(β) | rmsprop(alpha;eps) | adam(β1;β2;eps)
  schedule   constant | step(step_size;gamma) | exponential(gamma) | cosine(eta_min)
             | one-cycle(pct_start;div_factor;final_div_factor), preceded by
             warmup(steps;start_factor)+ when it has a warmup
  (parameters in PyTorch's argument order, numbers as short as reads back to the same float,
  no commas: the label is one CSV cell);
* the **forecast** of each run at the initial curvature (``run_forecasts``): its critical
  rate c/λ_max (core.optim's limit factor c: 2 for gradient descent, 2 + 2β for heavy ball,
  (2 + 2β)/(1 + 2β) for Nesterov) and ``crosses_at``, the first update whose rate ηₜ
  exceeds it.  RMSprop and Adam have none: their limit bounds the *preconditioned* sharpness,
  and their preconditioner does not exist before they train (``preconditioned_sharpness``
  measures it as they do).
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .errors import ConfigError, shown
from .fields import RECIPE_FIELDS
from .optim import Recipe

# -- flat fields ----------------------------------------------------------------------------
_SCHEDULE_ATTR = {"schedule": "name", "step_size": "step_size", "gamma": "gamma", "eta_min": "eta_min",
                  "pct_start": "pct_start", "div_factor": "div_factor", "final_div_factor": "final_div_factor",
                  "warmup_steps": "warmup_steps", "warmup_start_factor": "warmup_start_factor"}
_RECIPE_ATTR = ("optimizer", "momentum", "alpha", "eps")


def with_fields(recipe: Recipe, values: dict) -> Recipe:
    """``recipe`` with the flat RECIPE_FIELDS ``values`` (and ``lr``) set (not yet checked)."""
    kw, sched, betas = {}, {}, list(recipe.betas)
    for name, v in values.items():
        if name == "lr" or name in _RECIPE_ATTR:
            kw[name] = v
        elif name in ("beta1", "beta2"):
            betas[name == "beta2"] = v
        elif name in _SCHEDULE_ATTR:
            sched[_SCHEDULE_ATTR[name]] = v
        else:
            raise KeyError(name)
    kw["betas"] = tuple(betas)
    return replace(recipe, schedule=replace(recipe.schedule, **sched), **kw)


def run_keys() -> dict:
    """The keys ``--run`` accepts → the flat field: ``lr``, every RECIPE_FIELDS name, and its
    flag without the leading dashes, with - or _ (``warmup`` for warmup_steps, ``warmup-start`` or
    ``warmup_start`` for warmup_start_factor)."""
    keys = {"lr": "lr"}
    for f in RECIPE_FIELDS.values():
        keys[f.name] = f.name
        if f.flag:
            keys[f.flag.lstrip("-")] = keys[f.flag.lstrip("-").replace("-", "_")] = f.name
    return keys


def parse_run(text: str, base: Recipe, where: str = "--run") -> Recipe:
    """One ``--run`` value, ``KEY=VALUE`` items separated by commas, on top of ``base``;
    ``lr`` is required.  The values are checked later (``Recipe.check``)."""
    keys = run_keys()
    values = {}
    named = f"{where} {shown(text)}"
    for item in str(text).split(","):
        key, eq, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not key or not value:
            raise ConfigError(f"{named}: each item must be KEY=VALUE (such as lr=0.5); got {shown(item.strip())}")
        if key not in keys:
            raise ConfigError(f"{named}: unknown key {shown(key)} (known: {', '.join(sorted(keys))})")
        if keys[key] in values:
            raise ConfigError(f"{named}: {key} is given twice")
        values[keys[key]] = value
    if "lr" not in values:
        raise ConfigError(f"{named}: give the run's rate, lr=<rate>")
    return with_fields(base, values)


# -- column labels ----------------------------------------------------------------------------
def _num(v) -> str:
    v = float(v)
    short = f"{v:g}"
    return short if float(short) == v else repr(v)


def optimizer_token(r: Recipe) -> str:
    """``momentum(0.9)``: the optimizer and its parameters in PyTorch's order."""
    values = []
    for k in r.params:
        values += list(r.betas) if k == "betas" else [getattr(r, k)]
    return r.optimizer + (f"({';'.join(map(_num, values))})" if values else "")


def schedule_token(r: Recipe) -> str:
    """``warmup(100;0.01)+cosine(0)``: the schedule and its parameters in PyTorch's order."""
    s = r.schedule
    values = [getattr(s, k) for k in s.params]
    token = s.name + (f"({';'.join(map(_num, values))})" if values else "")
    if s.warmup_steps:
        token = f"warmup({s.warmup_steps};{_num(s.warmup_start_factor)})+{token}"
    return token


def column_labels(recipes) -> list[str]:
    """One CSV column header per run: ``lr=<rate>``, then the optimizer token when some run is
    not plain gradient descent, then the schedule token when some run's rate is not constant."""
    from .report import lr_label
    recipes = tuple(recipes)
    show_opt = any(r.optimizer != "gd" for r in recipes)
    show_sched = any(not r.schedule.is_constant for r in recipes)
    return [" ".join([lr_label(r.lr)] + ([optimizer_token(r)] if show_opt else [])
                     + ([schedule_token(r)] if show_sched else [])) for r in recipes]


def describe(r: Recipe) -> str:
    """The run as the tables show it: ``momentum(0.9) constant``."""
    return f"{optimizer_token(r)} {schedule_token(r)}"


# -- the forecast per run -----------------------------------------------------------------------
def crosses_at(rule, critical, steps: int, chunk: int = 4096) -> list:
    """Per run, the index (from 0) of the first update whose rate exceeds ``critical`` (0 if it
    starts above, None if never, None where ``critical`` is NaN); the rates are the rule's
    (``rate_table`` of a schedule, else its constant ``lr_at(0)``), read a chunk at a time."""
    critical = np.broadcast_to(np.asarray(critical, dtype=float), np.shape(rule.lr_at(0))).copy()
    K = critical.size
    out = [None] * K
    known = np.isnan(critical)
    if not hasattr(rule, "rate_table"):            # a constant rate per run
        lr = np.asarray(rule.lr_at(0), dtype=float)
        return [None if known[k] or not lr[k] > critical[k] else 0 for k in range(K)]
    for start in range(0, int(steps), chunk):
        if known.all():
            break
        rates = rule.rate_table(start, min(int(steps), start + chunk))
        above = rates > critical
        for k in np.flatnonzero(~known & above.any(axis=0)):
            out[k] = start + int(np.argmax(above[:, k]))
            known[k] = True
    return out


def run_forecasts(recipes, rule, lam_max: float, steps: int) -> list[dict]:
    """Per run: ``optimizer``, ``critical_lr`` (c/λ_max; None for RMSprop and Adam) and
    ``crosses_at`` (None if the rate never exceeds it, or for RMSprop and Adam)."""
    recipes = tuple(recipes)
    with np.errstate(divide="ignore"):
        crit = np.array([np.nan if r.adaptive else r.limit_factor / lam_max for r in recipes])
    cross = crosses_at(rule, crit, steps)
    return [{"optimizer": r.optimizer, "critical_lr": None if math.isnan(c) else float(c), "crosses_at": x}
            for r, c, x in zip(recipes, crit.tolist(), cross)]


ADAPTIVE_NOTE = ("RMSprop and Adam: no forecast at the initial point is exact — their limit bounds the "
                 "preconditioned sharpness λ_max(P^(−1/2) H P^(−1/2)), and P (from the squared gradients) "
                 "forms only as they train; measure it with train --sharpness-every K --json "
                 "(preconditioned_sharpness)")


# -- the preconditioned sharpness, measured as the runs train -----------------------------------------
__all__ = ["with_fields", "parse_run", "run_keys", "column_labels", "optimizer_token", "schedule_token",
           "describe", "crosses_at", "run_forecasts", "ADAPTIVE_NOTE"]
