"""Lessons: predict, run, explain.  A lesson is a small Markdown file a teacher writes in a text
editor: the metadata in a front matter, the text to read, the experiment as a fenced JSON block,
one question asked *before* the run, and what the run shows (after a ``## After the run`` line).

Every answer comes from the lab.  The lesson names WHAT to compute (``critical_lr`` of run 2,
the ``outcome`` of run 4, the ``gradient`` of w1); ``evaluate`` trains the experiment and
computes it (``COMPUTATIONS``, keyed by name).  ``expect`` is the teacher's claim about that
answer: ``check_lesson`` (``python main.py lesson check``) and the tests verify that it holds;
a student's prediction is always judged against the computed truth, never against ``expect``.

The file (format "lrlab-lesson", version 1)::

    ---
    format: lrlab-lesson
    version: 1
    title: The four behaviours
    summary: Exercise 4: slow, good, oscillating, not converging.
    preset: exercise4                      (optional: the experiment starts from a preset)
    kind: pick-run                         (pick-run | pick-outcome | pick-sign | number | free-text)
    question: Which learning rate diverges?
    outcome: diverged                      (pick-run: the outcome the right runs have)
    expect: 4                              (optional: the teacher's claim, checked)
    ---
    Text the student reads before the run.

    ```json
    {"learning_rates": [0.01, 0.1, 0.5, 1.0]}
    ```

    ## After the run
    Run {answer} diverged at step {diverged_step:4}; see [the curvature tab](view:curvature)
    and [run 4](run:4).

Front-matter keys (``KEYS``): one ``key: value`` a line; blank lines and lines starting with
``#`` are skipped.  The JSON block (any version of the experiment format, read by
``Experiment.from_dict``; keys it gives override the preset's) may be left out if ``preset``
is given.  In the explanation, ``{name}`` or ``{name:arg}`` is the computation ``name`` (of run
``arg``, or of parameter ``arg`` for ``gradient``), ``{answer}`` the question's truth; a
Markdown link to ``view:NAME`` (``VIEWS``) or ``run:N`` is a reference the window follows.

Question kinds (``KINDS``):

* ``pick-run``      the runs whose computed outcome is ``outcome``; a prediction of one run holds
                    if it is one of them, of several runs if it is exactly them;
* ``pick-outcome``  the outcome (converging, slow, oscillating, diverged) of ``run``;
* ``pick-sign``     the sign (negative, zero, positive) of ``compute`` (of ``run`` or ``param``);
* ``number``        ``compute`` (of ``run`` or ``param``); a prediction holds within
                    ``tolerance``, relative to the truth (0.1: within 10 %);
* ``free-text``     no check: the prediction is shown back beside the explanation.
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from .errors import ConfigError, read_text, shown
from .outcomes import DIVERGED, OUTCOMES

FORMAT = "lrlab-lesson"
VERSION = 1
SUFFIX = ".md"
COURSE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "resources", "lessons")
AFTER_HEADING = "## After the run"

PICK_RUN, PICK_OUTCOME, PICK_SIGN, NUMBER, FREE_TEXT = "pick-run", "pick-outcome", "pick-sign", "number", "free-text"
KINDS = {
    PICK_RUN: "pick the run(s) whose outcome is `outcome`",
    PICK_OUTCOME: "pick the outcome of `run`",
    PICK_SIGN: "pick the sign of `compute`",
    NUMBER: "a number: `compute`, within `tolerance` (relative)",
    FREE_TEXT: "free text, no check: shown back after the run",
}
SIGNS = ("negative", "zero", "positive")
# The window's views a lesson may point to: its tabs (gui/app.py TABS) and the analysis tabs.
VIEWS = ("overlay", "side", "why", "curvature", "range-test", "landscape", "phase")

# The front matter's keys: what each holds, and which kinds use it.
KEYS = {
    "format": "always lrlab-lesson",
    "version": "1",
    "title": "the lesson's title",
    "summary": "one line for the course list",
    "preset": "start the experiment from this preset (core.experiment.PRESETS)",
    "kind": "the question's kind: " + ", ".join(KINDS),
    "question": "the question asked before the run",
    "outcome": "pick-run: the outcome the right runs have",
    "run": "the run the question is about (1 is the first)",
    "compute": "pick-sign, number: the computation whose value is the answer (COMPUTATIONS)",
    "param": "gradient: the parameter (w1, b1, w2, b2; w1[1] for the second hidden unit)",
    "tolerance": "number: relative tolerance, > 0 (0.1: within 10 %)",
    "expect": "the teacher's claim about the answer, verified by `lesson check`",
}
REQUIRED = ("format", "version", "title", "kind", "question")
KIND_KEYS = {PICK_RUN: {"outcome"}, PICK_OUTCOME: {"run"}, PICK_SIGN: {"compute"},
             NUMBER: {"compute", "tolerance"}, FREE_TEXT: set()}
KIND_ALLOWED = {PICK_RUN: {"outcome", "expect"}, PICK_OUTCOME: {"run", "expect"},
                PICK_SIGN: {"compute", "run", "param", "expect"},
                NUMBER: {"compute", "run", "param", "tolerance", "expect"}, FREE_TEXT: set()}


# -- what the lab computes ----------------------------------------------------------------------
class Evaluation:
    """An experiment trained to its budget, and everything a lesson may ask about it (worked out
    when first asked).  ``trainer``: a Trainer of ``experiment`` already trained (the window's);
    None: train it here.  Works off the GUI thread (numpy only)."""

    def __init__(self, experiment, trainer=None, data=None):
        self.experiment = experiment
        self.data = data if data is not None else (trainer.data if trainer is not None else experiment.make_data())
        if trainer is None:
            experiment.check_working_set(len(self.data))
            trainer = experiment.trainer(self.data)
            trainer.step(experiment.steps)
        self.trainer = trainer
        self.runs = trainer.runs
        self.model = experiment.model_spec()
        self.rule = trainer.rule
        self._cache: dict = {}

    def value(self, name: str, arg=None):
        key = (name, arg)
        if key not in self._cache:
            self._cache[key] = COMPUTATIONS[name].fn(self, arg)
        return self._cache[key]

    # shared pieces
    @property
    def theta0(self) -> np.ndarray:
        return self.experiment.initial_params()

    def initial_sharpness(self) -> float:
        if "λ0" not in self._cache:
            from .curvature import eigenvalues
            h = self.model.hessian(self.theta0[None], self.data.x, self.data.y)
            self._cache["λ0"] = float(eigenvalues(h)[0, -1])
        return self._cache["λ0"]

    def recipe(self, k: int):
        return self.experiment.recipes()[k]

    def initial_noise(self):
        """The gradient noise scale at the initial parameters (core.noise.NoiseScale, one row)."""
        if "noise0" not in self._cache:
            from .noise import noise_scale
            self._cache["noise0"] = noise_scale(self.model, self.theta0, self.data.x, self.data.y)
        return self._cache["noise0"]

    @property
    def batch_size(self) -> int:
        """The experiment's batch size (N at full batch)."""
        B = self.experiment.batch_size
        return len(self.data) if B is None else min(int(B), len(self.data))


def _k(ev: Evaluation, run) -> int:
    return (1 if run is None else run) - 1


def _num(v) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def _critical_lr(ev: Evaluation, run):
    k = _k(ev, run)
    if ev.recipe(k).adaptive:
        return None                  # its limit bounds the preconditioned sharpness, unknown before it trains
    crit = np.broadcast_to(np.asarray(ev.rule.critical_lr(ev.initial_sharpness()), dtype=float), (ev.runs,))
    return _num(crit[k])


def _rates(rule, steps: int) -> np.ndarray:
    """(steps, K) every run's rate of updates 0 … steps − 1."""
    if hasattr(rule, "rate_table"):
        return rule.rate_table(0, steps)
    return np.array([rule.lr_at(t) for t in range(steps)]) if rule.schedule is not None \
        else np.broadcast_to(rule.lr_at(0), (steps, len(rule.lr_at(0))))


def _crosses_at(ev: Evaluation, run):
    crit = _critical_lr(ev, run)
    if crit is None:
        return None
    above = _rates(ev.rule, ev.experiment.steps)[:, _k(ev, run)] > crit
    return int(np.argmax(above)) if above.any() else None


def _diverged_step(ev: Evaluation, run):
    s = int(ev.trainer.diverged_steps()[_k(ev, run)])
    return None if s < 0 else s


def _gradient(ev: Evaluation, param):
    names = ev.model.param_names
    name = param if param in names else f"{param}[0]" if f"{param}[0]" in names and ev.model.hidden == 1 else None
    if name is None:
        raise ConfigError(f"param must be one of {', '.join(names)}; got {shown(param)}")
    net = ev.model.build(runs=1)
    grad = np.empty((1, ev.model.n_params))
    net.loss_and_grad(ev.theta0[None].copy(), ev.data.x, ev.data.y, grad)
    return float(grad[0, names.index(name)])


def _final_sharpness(ev: Evaluation, run):
    """λ_max at the run's last parameters; for RMSprop and Adam, the preconditioned one."""
    from .curvature import eigenvalues, preconditioned_eigenvalues
    k = _k(ev, run)
    if not ev.trainer.active[k]:
        return None
    h = ev.model.hessian(ev.trainer.theta[k:k + 1], ev.data.x, ev.data.y)
    if ev.recipe(k).adaptive and hasattr(ev.rule, "preconditioner"):
        return _num(preconditioned_eigenvalues(h, ev.rule.preconditioner(ev.model.n_params)[k:k + 1])[0, -1])
    return _num(eigenvalues(h)[0, -1])


def _sharpness_limit(ev: Evaluation, run):
    """c/η of the run's last update: the λ_max above which it grows (2/η for gradient descent)."""
    last = ev.experiment.steps - 1
    return _num(np.broadcast_to(ev.rule.sharpness_limit(last), (ev.runs,))[_k(ev, run)])


# How finely ``largest_stable_lr`` searches: GRID rates a pass, PASSES passes, first between
# SPAN⁻¹ and SPAN times the run's own rate.
GRID, PASSES, SPAN = 33, 2, 16.0


def _largest_stable_lr(ev: Evaluation, run):
    """The largest rate at which the run's recipe does not diverge within the budget, by training:
    GRID rates (geometric) side by side from rate/SPAN to rate·SPAN, then GRID rates between the
    last that did not diverge and the first that did (every rate below it did not diverge)."""
    from .optim import rule_for
    exp, k = ev.experiment, _k(ev, run)
    recipe = ev.recipe(k)
    lo, hi = recipe.lr / SPAN, recipe.lr * SPAN
    for p in range(PASSES):
        grid = np.geomspace(lo, hi, GRID)
        rule = rule_for([replace(recipe, lr=float(g)) for g in grid], exp.steps)
        trainer = exp.trainer(ev.data, learning_rates=grid, rule=rule)
        trainer.step(exp.steps)
        bad = np.array([o == DIVERGED for o in trainer.outcomes])
        if not bad.any():                    # no cliff in the range (first pass), or none found again
            return None if p == 0 else _num(hi)
        first = int(np.argmax(bad))
        if first == 0:                       # every rate diverged (first pass)
            return None if p == 0 else _num(lo)
        lo, hi = float(grid[first - 1]), float(grid[first])
    return _num(lo)


def _dead_units(ev: Evaluation, run):
    dead = ev.model.dead_units(ev.trainer.theta, ev.data.x)
    return None if dead is None else int(dead[_k(ev, run)])


@dataclass(frozen=True)
class Computation:
    name: str
    about: str          # "run", "param" or "" (the experiment)
    help: str
    fn: Callable


COMPUTATIONS: dict[str, Computation] = {
    c.name: c
    for c in (
        Computation("outcome", "run", "the run's outcome after its budget (core.outcomes)",
                    lambda ev, r: ev.trainer.outcomes[_k(ev, r)]),
        Computation("lr", "run", "the run's learning rate", lambda ev, r: ev.recipe(_k(ev, r)).lr),
        Computation("initial_loss", "", "the loss before the first update",
                    lambda ev, r: float(ev.trainer.losses[0, 0])),
        Computation("final_loss", "run", "the run's loss after its budget (none if it blew up)",
                    lambda ev, r: _num(ev.trainer.losses[_k(ev, r), ev.trainer.t])),
        Computation("best_loss", "run", "the run's lowest loss",
                    lambda ev, r: _num(np.nanmin(ev.trainer.loss_history()[_k(ev, r)]))),
        Computation("diverged_step", "run", "the step the run diverged at (none if it did not)", _diverged_step),
        Computation("sharpness", "", "λ_max, the Hessian's largest eigenvalue at the initial parameters",
                    lambda ev, r: ev.initial_sharpness()),
        Computation("critical_lr", "run", "the run's critical rate c/λ_max at the start (2/λ_max for gradient "
                    "descent; none for RMSprop and Adam)", _critical_lr),
        Computation("crosses_at", "run", "the first update whose rate exceeds the run's critical rate (none "
                    "if it never does)", _crosses_at),
        Computation("largest_stable_lr", "run", "the largest rate at which the run's recipe does not diverge, "
                    "found by training", _largest_stable_lr),
        Computation("final_sharpness", "run", "λ_max at the run's last parameters (preconditioned for RMSprop "
                    "and Adam)", _final_sharpness),
        Computation("sharpness_limit", "run", "c/η at the run's last update: the λ_max above which it grows",
                    _sharpness_limit),
        Computation("gradient", "param", "∂L/∂param at the initial parameters", _gradient),
        Computation("noise_scale", "", "B_noise = tr(HΣ)/GᵀHG at the initial parameters (core.noise): the "
                    "critical batch size", lambda ev, r: _num(ev.initial_noise().noise[0])),
        Computation("eps_max", "", "ε_max = |G|²/GᵀHG at the initial parameters: the best step at full batch",
                    lambda ev, r: _num(ev.initial_noise().eps_max[0])),
        Computation("eps_opt", "", "ε_opt(B) at the initial parameters for the experiment's batch size B",
                    lambda ev, r: _num(ev.initial_noise().eps_opt(ev.batch_size)[0])),
        Computation("dead_units", "run", "ReLU units that output 0 on every point at the end", _dead_units),
    )
}


def format_value(v) -> str:
    """A computed value as the lesson shows it: 4 significant digits, "none" for no value."""
    if v is None:
        return "none"
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v)).lower()
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (tuple, list)):
        return ", ".join(map(format_value, v))
    return str(v)


def _within(value: float, truth: float, tolerance: float) -> bool:
    """|value − truth| ≤ tolerance·|truth| (with 1e-12 of slack: 1.1 is within 10 % of 1.0)."""
    return abs(value - truth) <= tolerance * abs(truth) * (1 + 1e-12)


def plain(text: str) -> str:
    """``text`` with each ``[label](view:…)`` / ``[label](run:…)`` link reduced to its label (the terminal)."""
    return _LINK.sub(lambda m: m.group(1), text)


def sign_of(v: float) -> str:
    return SIGNS[int(np.sign(v)) + 1]


# -- the question ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """What a prediction met: ``held`` True/False (None for free text), the computed ``truth``."""
    held: bool | None
    prediction: object
    truth: object
    message: str


@dataclass(frozen=True)
class Question:
    kind: str
    text: str
    outcome: str | None = None
    run: int | None = None
    compute: str | None = None
    param: str | None = None
    tolerance: float | None = None
    expect: object = None

    def truth(self, ev: Evaluation):
        """The answer, computed by the lab: a tuple of run numbers (pick-run), an outcome, a sign,
        a number, or None (free text)."""
        if self.kind == PICK_RUN:
            return tuple(k + 1 for k, o in enumerate(ev.trainer.outcomes) if o == self.outcome)
        if self.kind == PICK_OUTCOME:
            return ev.value("outcome", self.run)
        if self.kind in (PICK_SIGN, NUMBER):
            v = ev.value(self.compute, self.arg)
            if v is None:
                return None
            return sign_of(v) if self.kind == PICK_SIGN else float(v)
        return None

    @property
    def arg(self):
        return self.param if self.compute and COMPUTATIONS[self.compute].about == "param" else self.run

    def choices(self, runs: int | None = None) -> tuple:
        """What the student picks from: run numbers, outcomes or signs (empty for number and free text)."""
        if self.kind == PICK_RUN:
            return tuple(range(1, (runs or 0) + 1))
        return {PICK_OUTCOME: OUTCOMES, PICK_SIGN: SIGNS}.get(self.kind, ())

    def judge(self, prediction, truth) -> Verdict:
        if self.kind == FREE_TEXT:
            return Verdict(None, prediction, None, f"your prediction: {prediction}")
        if truth is None or truth == ():
            return Verdict(False, prediction, truth, "the lab found no answer to this question")
        if self.kind == PICK_RUN:
            picked = {prediction} if isinstance(prediction, int) else set(prediction)
            held = (picked <= set(truth)) if isinstance(prediction, int) else picked == set(truth)
        elif self.kind == NUMBER:
            held = _within(float(prediction), truth, self.tolerance)
        else:
            held = prediction == truth
        said = format_value(truth)
        tol = f" (within {self.tolerance:.3g} of it, relative)" if self.kind == NUMBER else ""
        return Verdict(held, prediction, truth,
                       f"{'your prediction held' if held else 'your prediction did not hold'}: the lab says {said}{tol}")

    def parse_prediction(self, text: str, runs: int):
        """A prediction typed as text (the terminal): run numbers separated by commas or spaces,
        an outcome, a sign, a number; ConfigError if it is none of these."""
        text = text.strip()
        if self.kind == FREE_TEXT:
            return text
        if self.kind == PICK_RUN:
            try:
                picked = tuple(int(t) for t in re.split(r"[,\s]+", text) if t)
            except ValueError:
                raise ConfigError(f"a run number (1 to {runs}); got {shown(text)}") from None
            if not picked or not all(1 <= p <= runs for p in picked):
                raise ConfigError(f"a run number (1 to {runs}); got {shown(text)}")
            return picked[0] if len(picked) == 1 else picked
        if self.kind == NUMBER:
            from .fields import check_number
            return check_number("your prediction", text)
        if text not in self.choices():
            raise ConfigError(f"one of {', '.join(self.choices())}; got {shown(text)}")
        return text


# -- the lesson -------------------------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)(?::([^{}\s]+))?\}")
_LINK = re.compile(r"\[([^\]]+)\]\(((?:view|run):[^)\s]*)\)")


@dataclass(frozen=True)
class Lesson:
    """A lesson, ready to show: the window displays ``title``, ``text``, ``question`` (its
    ``choices``), locks a prediction, trains ``experiment`` and calls ``evaluate(trainer)``, then
    ``check(prediction, evaluation)`` and ``explanation(evaluation)``; ``references`` are the
    explanation's links (("the curvature tab", "view:curvature"), ("run 2", "run:2"))."""
    name: str
    title: str
    summary: str
    text: str
    experiment: object
    question: Question
    explanation_template: str
    path: str | None = None
    preset: str | None = None
    references: tuple = field(default=())

    def evaluate(self, trainer=None) -> Evaluation:
        """The experiment trained (here, or ``trainer`` already trained) and ready for questions."""
        return Evaluation(self.experiment, trainer)

    def truth(self, ev: Evaluation):
        return self.question.truth(ev)

    def check(self, prediction, ev: Evaluation) -> Verdict:
        """Whether ``prediction`` (a run number or several, an outcome, a sign, a number, text) held."""
        return self.question.judge(prediction, self.truth(ev))

    def explanation(self, ev: Evaluation) -> str:
        """The text after the run, each ``{name:arg}`` replaced by what the lab computed."""
        truth = self.truth(ev)

        def fill(m):
            name, arg = m.group(1), m.group(2)
            if name == "answer":
                return format_value(truth)
            return format_value(ev.value(name, _arg(name, arg, self)))
        return _PLACEHOLDER.sub(fill, self.explanation_template)

    def claim(self, ev: Evaluation) -> str:
        """ConfigError if the lesson's claim (``expect``, else that an answer exists) does not hold
        for what the lab computed; else a short description of the answer."""
        q, truth = self.question, self.truth(ev)
        where = self.where
        if q.kind == FREE_TEXT:
            self.explanation(ev)
            return "free text (no check)"
        if truth is None or truth == ():
            what = f"no run is {q.outcome}" if q.kind == PICK_RUN else \
                f"{q.compute}{'' if q.arg is None else ' of ' + ('run ' if isinstance(q.arg, int) else '') + str(q.arg)} has no value"
            raise ConfigError(f"{where}: the question has no answer: {what}")
        if q.expect is not None:
            if q.kind == NUMBER:
                held = _within(q.expect, truth, q.tolerance)
            elif q.kind == PICK_RUN:
                held = set(q.expect) == set(truth)
            else:
                held = q.expect == truth
            if not held:
                tol = f" (tolerance {q.tolerance:g})" if q.kind == NUMBER else ""
                raise ConfigError(f"{where}: expect is {format_value(q.expect)}, but the lab computes "
                                  f"{format_value(truth)}{tol}")
        self.explanation(ev)                   # every placeholder computes
        return f"{q.kind} → {format_value(truth)}" + (" (as expected)" if q.expect is not None else "")

    @property
    def where(self) -> str:
        return f"lesson {shown(self.path or self.name)}"


def _arg(name: str, arg, lesson: Lesson):
    c = COMPUTATIONS[name]
    if c.about == "run":
        return 1 if arg is None else int(arg)
    return arg


# -- reading a lesson file -------------------------------------------------------------------------
def parse(text: str, where: str = "lesson", name: str = "lesson", folder=None, path=None) -> Lesson:
    """The lesson a text describes, or ConfigError naming ``where``, the field and the value."""
    from .experiment import PRESETS, Experiment, preset as preset_experiment
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ConfigError(f"{where}: must start with a front matter: a line '---', key: value lines, a line '---'")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ConfigError(f"{where}: the front matter has no closing '---' line") from None
    meta: dict = {}
    for n, line in enumerate(lines[1:end], 2):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        key, colon, value = s.partition(":")
        key, value = key.strip(), value.strip()
        if not colon or not key:
            raise ConfigError(f"{where}: line {n} must be key: value; got {shown(s)}")
        if key not in KEYS:
            raise ConfigError(f"{where}: unknown key {shown(key)} (known: {', '.join(KEYS)})")
        if key in meta:
            raise ConfigError(f"{where}: {key} is given twice")
        meta[key] = value
    for key in REQUIRED:
        if not meta.get(key):
            raise ConfigError(f"{where}: {key} is missing")
    if meta["format"] != FORMAT:
        raise ConfigError(f"{where}: format must be {FORMAT!r}; got {shown(meta['format'])}")
    if meta["version"] != str(VERSION):
        raise ConfigError(f"{where}: version must be {VERSION}; got {shown(meta['version'])}")

    # the body: the text, the experiment's JSON block, the explanation
    body = "\n".join(lines[end + 1:])
    before, heading, after = body.partition("\n" + AFTER_HEADING)
    if not heading and body.startswith(AFTER_HEADING):
        before, heading, after = "", AFTER_HEADING, body[len(AFTER_HEADING):]
    if not heading:
        raise ConfigError(f"{where}: the explanation is missing: add a line {AFTER_HEADING!r} and the text after it")
    after = after.partition("\n")[2] if "\n" in after else ""
    blocks = list(re.finditer(r"^```json[ \t]*\n(.*?)^```[ \t]*$", before, re.S | re.M))
    if len(blocks) > 1:
        raise ConfigError(f"{where}: experiment: give one ```json block; got {len(blocks)}")
    base = None
    if meta.get("preset"):
        if meta["preset"] not in PRESETS:
            raise ConfigError(f"{where}: preset must be one of {', '.join(PRESETS)}; got {shown(meta['preset'])}")
        base = preset_experiment(meta["preset"])
    if blocks:
        try:
            d = json.loads(blocks[0].group(1))
        except (ValueError, RecursionError) as e:
            raise ConfigError(f"{where}: experiment: not valid JSON ({shown(str(e), quote=False)})") from None
        try:
            experiment = Experiment.from_dict(d, where=f"{where}: experiment", base=base, folder=folder)
        except ConfigError as e:                # the field checks do not say where: add it
            said = str(e)
            raise ConfigError(said if said.startswith(where) else f"{where}: experiment: {said}") from None
        except RecursionError:
            raise ConfigError(f"{where}: experiment: a value is nested too deeply") from None
        before = before[:blocks[0].start()] + before[blocks[0].end():]
    elif base is not None:
        experiment = base
    else:
        raise ConfigError(f"{where}: experiment is missing: give a preset or a ```json block")
    runs = len(experiment.learning_rates)
    question = _question(meta, runs, where)
    explanation = after.strip()
    refs = []
    for m in _LINK.finditer(explanation):
        target = m.group(2)
        kind, _, value = target.partition(":")
        if kind == "view" and value not in VIEWS:
            raise ConfigError(f"{where}: explanation: view must be one of {', '.join(VIEWS)}; got {shown(value)}")
        if kind == "run" and not (value.isdigit() and 1 <= int(value) <= runs):
            raise ConfigError(f"{where}: explanation: run:{value} names no run (the experiment has {runs})")
        refs.append((m.group(1), target))
    for m in _PLACEHOLDER.finditer(explanation):
        _check_placeholder(m.group(1), m.group(2), runs, where)
    return Lesson(name=name, title=meta["title"], summary=meta.get("summary", ""), text=before.strip(),
                  experiment=experiment, question=question, explanation_template=explanation,
                  path=path, preset=meta.get("preset"), references=tuple(refs))


def _check_placeholder(name, arg, runs, where):
    if name == "answer":
        if arg is not None:
            raise ConfigError(f"{where}: explanation: {{answer}} takes no argument; got {shown(arg)}")
        return
    if name not in COMPUTATIONS:
        raise ConfigError(f"{where}: explanation: {{{name}}} is no computation (known: answer, "
                          f"{', '.join(COMPUTATIONS)})")
    about = COMPUTATIONS[name].about
    if about == "run" and arg is not None and not (arg.isdigit() and 1 <= int(arg) <= runs):
        raise ConfigError(f"{where}: explanation: {{{name}:{arg}}}: run must be 1 to {runs}; got {shown(arg)}")
    if about == "param" and arg is None:
        raise ConfigError(f"{where}: explanation: {{{name}}} needs a parameter, such as {{{name}:w1}}")
    if about == "" and arg is not None:
        raise ConfigError(f"{where}: explanation: {{{name}}} takes no argument; got {shown(arg)}")


def _question(meta: dict, runs: int, where: str) -> Question:
    kind = meta["kind"]
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind must be one of {', '.join(KINDS)}; got {shown(kind)}")
    present = {k for k in meta if k in {"outcome", "run", "compute", "param", "tolerance", "expect"}}
    for k in sorted(KIND_KEYS[kind] - present):
        raise ConfigError(f"{where}: {k} is missing (a {kind} question needs it)")
    for k in sorted(present - KIND_ALLOWED[kind]):
        raise ConfigError(f"{where}: {k} is not used by a {kind} question; got {shown(meta[k])}")
    q = {"kind": kind, "text": meta["question"]}
    if "outcome" in meta:
        if meta["outcome"] not in OUTCOMES:
            raise ConfigError(f"{where}: outcome must be one of {', '.join(OUTCOMES)}; got {shown(meta['outcome'])}")
        q["outcome"] = meta["outcome"]
    if "run" in meta:
        q["run"] = _run_number("run", meta["run"], runs, where)
    if "compute" in meta:
        c = meta["compute"]
        if c not in COMPUTATIONS or c == "outcome" or (c == "lr"):
            known = [n for n in COMPUTATIONS if n not in ("outcome", "lr")]
            raise ConfigError(f"{where}: compute must be one of {', '.join(known)}; got {shown(c)}")
        about = COMPUTATIONS[c].about
        if about == "param" and "param" not in meta:
            raise ConfigError(f"{where}: param is missing ({c} is about a parameter: w1, b1, w2, b2)")
        if about != "param" and "param" in meta:
            raise ConfigError(f"{where}: param is not used by {c}; got {shown(meta['param'])}")
        if about != "run" and "run" in meta:
            raise ConfigError(f"{where}: run is not used by {c}; got {shown(meta['run'])}")
        q["compute"] = c
    if "param" in meta:
        q["param"] = meta["param"]
    if "tolerance" in meta:
        from .fields import check_number
        try:
            q["tolerance"] = check_number("tolerance", meta["tolerance"], positive=True)
        except ConfigError as e:
            raise ConfigError(f"{where}: {e}") from None
    if "expect" in meta:
        q["expect"] = _expect(kind, meta["expect"], runs, where)
    return Question(**q)


def _run_number(key: str, value: str, runs: int, where: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise ConfigError(f"{where}: {key} must be a run number (1 to {runs}); got {shown(value)}") from None
    if not 1 <= n <= runs:
        raise ConfigError(f"{where}: {key} must be a run of the experiment (1 to {runs}); got {n}")
    return n


def _expect(kind: str, value: str, runs: int, where: str):
    if kind == PICK_RUN:
        return tuple(_run_number("expect", v, runs, where) for v in re.split(r"[,\s]+", value) if v)
    if kind == PICK_OUTCOME and value not in OUTCOMES:
        raise ConfigError(f"{where}: expect must be one of {', '.join(OUTCOMES)}; got {shown(value)}")
    if kind == PICK_SIGN and value not in SIGNS:
        raise ConfigError(f"{where}: expect must be one of {', '.join(SIGNS)}; got {shown(value)}")
    if kind == NUMBER:
        from .fields import check_number
        try:
            return check_number("expect", value)
        except ConfigError as e:
            raise ConfigError(f"{where}: {e}") from None
    return value


def load(path) -> Lesson:
    """The lesson file at ``path`` (a relative data file in its experiment is taken from its folder)."""
    p = os.fspath(path)
    where = f"lesson {shown(p)}"
    text = read_text(p, where)
    return parse(text, where=where, name=lesson_name(p), folder=os.path.dirname(p), path=p)


def lesson_name(path) -> str:
    """The course name of a lesson file: its file name without the order prefix and the suffix
    (01-worked-example.md → worked-example)."""
    stem = os.path.basename(os.fspath(path)).removesuffix(SUFFIX)
    return re.sub(r"^\d+-", "", stem)


def course(folder: str = COURSE_DIR) -> list[str]:
    """The built-in lesson files, in order."""
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(SUFFIX))


def find(name_or_path: str, folder: str = COURSE_DIR) -> Lesson:
    """A built-in lesson by name (``critical-rate``), or a lesson file by path."""
    if os.path.sep in name_or_path or name_or_path.endswith(SUFFIX) or os.path.exists(name_or_path):
        return load(name_or_path)
    for path in course(folder):
        if lesson_name(path) == name_or_path:
            return load(path)
    names = [lesson_name(p) for p in course(folder)]
    raise ConfigError(f"lesson must be a file or one of {', '.join(names)}; got {shown(name_or_path)}")


def check_lesson(lesson: Lesson, trainer=None) -> str:
    """Train the lesson's experiment and verify its claim: ConfigError if it does not hold; else
    the line ``lesson check`` prints."""
    ev = lesson.evaluate(trainer)
    return f"{lesson.name}: {lesson.claim(ev)}"
