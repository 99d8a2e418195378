"""The fields of an experiment, described once: what each one is, its bounds and default,
the words shown for it, and its command-line flag.

``FIELDS`` is the one table (keyed by name, in the order of ``Experiment``'s fields, of
the JSON file and of ``--help``).  Everything else reads it:

* ``Experiment.validated()`` checks every field with ``check_fields`` (the messages name
  the field and repeat the value: "noise must be >= 0; got -1");
* ``Experiment.to_dict`` / ``from_dict`` write and read each value with ``Field.to_json``
  and ``Field.from_json``;
* the command line builds its options from ``flag``, ``metavar`` and ``help``;
* the window takes each field's ``title``, ``tip``, bounds and group from here.

Adding a setting is one ``Field`` below, the code that uses the value, and its tests.
The checks of single numbers are public (``check_number``, ``check_integer``) for the
settings that are not part of an experiment (``--lr-min``, the analysis views' fields).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .activations import ACTIVATIONS
from .data import MAX_MAGNITUDE, MAX_SAMPLES, TARGETS
from .errors import ConfigError, shown
from .linear import PARAM_NAMES as LINEAR_PARAM_NAMES
from .models import MODELS, ModelSpec
from .network import PARAM_NAMES

MAX_HIDDEN = 512
MAX_STEPS = 10_000_000
MAX_SEED = 2**63 - 1
MAX_RUNS = 16             # learning rates of one experiment: the flags, the files, the window's run list
# MAX_SAMPLES (also a data file's rows) and MAX_MAGNITUDE (|x|, noise) live in core.data.

# What a field holds.  The kind decides its check, its JSON form and its command-line arity.
NUMBER = "number"        # a finite float, optionally > 0 and/or within [lo, hi]
INTEGER = "integer"      # a whole number within [lo, hi]
CHOICE = "choice"        # a name among ``choices``
PATH = "path"            # a file name (text), or None (the file itself is read when used)
PAIR = "pair"            # two numbers LO < HI
NUMBERS = "numbers"      # one to ``max_count`` numbers (each checked like NUMBER)
PARAMS = "params"        # explicit initial parameters, or None (their shape depends on model and hidden)
BATCH = "batch"          # None (full batch) or a whole number within [lo, the data's N]
KINDS = (NUMBER, INTEGER, CHOICE, PATH, PAIR, NUMBERS, PARAMS, BATCH)
FULL_BATCH = "full"      # the batch size's word for None (command line, window)


# -- the checks of single values (public: main.py and the analysis views use them) ------
def format_value(v) -> str:
    """A value as a message repeats it: typed text stripped, a float as %g, other text quoted;
    at most core.errors.SHOWN_CHARS characters."""
    if isinstance(v, str):
        return shown(v.strip(), quote=False) if _is_number(v) else shown(v)
    return f"{v:g}" if isinstance(v, float) else shown(v, quote=not isinstance(v, int))


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def check_number(name: str, v, positive: bool = False) -> float:
    """``v`` (a number or its text) as a finite float, > 0 when ``positive``; else ConfigError."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ConfigError(f"{name} must be a number; got {shown(v)}")
    try:
        f = float(v)
    except ValueError:
        raise ConfigError(f"{name} must be a number; got {shown(v)}") from None
    except OverflowError:                     # an integer past float's range (400 digits)
        raise ConfigError(f"{name} must be a finite number; got {format_value(v)}") from None
    if not math.isfinite(f):
        raise ConfigError(f"{name} must be a finite number; got {format_value(v)}")
    if positive and f <= 0:
        raise ConfigError(f"{name} must be > 0; got {format_value(v)}")
    return f


def check_integer(name: str, v, lo: int, hi: int | None = None) -> int:
    """``v`` (a whole number or its text) as an int in [lo, hi] (hi None: no upper bound)."""
    if isinstance(v, bool):
        raise ConfigError(f"{name} must be a whole number; got {shown(v)}")
    try:
        i = int(v)
        if isinstance(v, float) and v != i:
            raise ValueError
        if isinstance(v, str):
            i = int(v.strip())
    except (TypeError, ValueError, OverflowError):     # ValueError: also past int's 4300 digits
        raise ConfigError(f"{name} must be a whole number; got {shown(v)}") from None
    if hi is None:
        if i < lo:
            raise ConfigError(f"{name} must be >= {lo}; got {shown(i)}")
    elif not lo <= i <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}; got {shown(i)}")
    return i


def check_init(init, others: Mapping) -> dict:
    """Explicit initial parameters of the model ``others`` describes (its model and hidden)."""
    if not ModelSpec(others["model"], others["hidden"]).has_hidden_layer:
        if not isinstance(init, dict) or set(init) != set(LINEAR_PARAM_NAMES):
            raise ConfigError(f"init of the linear model must have exactly the keys w, b; got {shown(init)}")
        return {k: check_number(f"init {k}", init[k]) for k in LINEAR_PARAM_NAMES}
    hidden = others["hidden"]
    if not isinstance(init, dict):
        raise ConfigError(f"init must be an object with w1, b1, w2, b2; got {shown(init)}")
    missing = [k for k in PARAM_NAMES if k not in init]
    extra = sorted(set(init) - set(PARAM_NAMES))
    if missing or extra:
        raise ConfigError(f"init must have exactly the keys w1, b1, w2, b2; "
                          f"{'missing ' + missing[0] if missing else 'unknown ' + shown(extra[0])}")
    out = {}
    for k in ("w1", "b1", "w2"):
        v = init[k]
        vals = [v] if isinstance(v, (int, float)) and not isinstance(v, bool) else v
        if not isinstance(vals, (list, tuple)):
            raise ConfigError(f"init {k} must be a list of {hidden} numbers; got {shown(v)}")
        if len(vals) != hidden:
            raise ConfigError(f"init {k} must have {hidden} values (one per hidden unit); got {len(vals)}")
        out[k] = [check_number(f"init {k}", x) for x in vals]
    out["b2"] = check_number("init b2", init["b2"][0] if isinstance(init["b2"], list) and len(init["b2"]) == 1
                             else init["b2"])
    return out


# -- a field ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """One setting of an experiment.

    ``label`` names it in messages; ``title`` names it in the window's form; ``help`` (the
    command line) and ``tip`` (the window's tooltip) may use ``{lo}``, ``{hi}`` and
    ``{choices}``.  A PAIR's ``tip`` is one tooltip per part (LO, HI).
    """

    name: str
    kind: str
    default: Any
    label: str
    title: str
    help: str
    tip: str | tuple
    group: str                            # the window's group: Data, Model, Learning rates, Training
    flag: str | None = None               # None: no command-line option
    metavar: str | tuple | None = None
    lo: float | None = None               # NUMBER, INTEGER: inclusive bounds
    hi: float | None = None
    hi_open: bool = False                 # NUMBER: hi itself is refused (momentum β in [0, 1))
    max_count: int | None = None          # NUMBERS: at most this many
    positive: bool = False                # NUMBER, NUMBERS: > 0
    choices: Mapping | None = None        # CHOICE: name -> what it is
    ignored_if: str | None = None         # not checked when this other field is set (dataset: data_file)
    clears: str | None = None             # setting it on the command line sets that field to None
    exclusive: str | None = None          # command-line flags of one tag exclude each other
    check_value: Callable | None = None   # PARAMS: (value, the other fields) -> value

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"field {self.name}: kind must be one of {', '.join(KINDS)}; got {self.kind!r}")

    # -- words ------------------------------------------------------------------------
    def _words(self, text: str) -> str:
        return text.format(lo=self.lo, hi=self.hi, choices=", ".join(self.choices or ()))

    @property
    def help_text(self) -> str:
        return self._words(self.help)

    @property
    def tip_text(self) -> str | tuple:
        return tuple(map(self._words, self.tip)) if isinstance(self.tip, tuple) else self._words(self.tip)

    @property
    def nargs(self):
        """How many command-line values the flag takes (None: one)."""
        return {PAIR: 2, NUMBERS: "+"}.get(self.kind)

    # -- the check ----------------------------------------------------------------------
    def check(self, value, others: Mapping | None = None):
        """The normalized value, or ConfigError naming the field and repeating the value.
        ``others``: the other fields' values (for a field that depends on them)."""
        others = {} if others is None else others
        if self.ignored_if is not None and others.get(self.ignored_if) is not None:
            return value
        return _CHECKS[self.kind](self, value, others)

    def _number(self, v) -> float:
        f = check_number(self.label, v, positive=self.positive)
        if self.lo is not None and f < self.lo:
            raise ConfigError(f"{self.label} must be >= {format_value(self.lo)}; got {format_value(f)}")
        if self.hi is not None and (f >= self.hi if self.hi_open else f > self.hi):
            raise ConfigError(f"{self.label} must be {'<' if self.hi_open else '<='} {format_value(self.hi)}; "
                              f"got {format_value(f)}")
        return f

    # -- JSON ---------------------------------------------------------------------------
    def to_json(self, value):
        """The value as the JSON file holds it (sequences as lists)."""
        value = copy.deepcopy(value)
        return list(value) if self.kind in (PAIR, NUMBERS) else value

    def from_json(self, value):
        """A value read from JSON (a list becomes the tuple the experiment holds)."""
        return tuple(value) if self.kind in (PAIR, NUMBERS) and isinstance(value, list) else value

    @property
    def omitted_when_none(self) -> bool:
        """Left out of the JSON file while unset (explicit initial parameters)."""
        return self.kind in (PARAMS, BATCH)


def _check_number(f: Field, v, others):
    return f._number(v)


def _check_integer(f: Field, v, others):
    return check_integer(f.label, v, f.lo, f.hi)


def _check_choice(f: Field, v, others):
    if not isinstance(v, str) or v not in f.choices:
        raise ConfigError(f"{f.label} must be one of {', '.join(f.choices)}; got {shown(v)}")
    return v


def _check_path(f: Field, v, others):
    """None, or a file name: text, not empty, no NUL (an integer would be taken as a file
    descriptor: 0 reads the keyboard)."""
    if v is not None and (not isinstance(v, str) or not v.strip() or "\0" in v):
        raise ConfigError(f"{f.label} must be a file name; got {shown(v)}")
    return v


def _check_pair(f: Field, v, others):
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        raise ConfigError(f"{f.label} must be two numbers LO HI; got {shown(v)}")
    lo, hi = v
    lo, hi = f._number(lo), f._number(hi)
    if not lo < hi:
        raise ConfigError(f"{f.label} must have LO < HI; got {format_value(lo)} {format_value(hi)}")
    return (lo, hi)


def _check_numbers(f: Field, v, others):
    values = (v,) if isinstance(v, (int, float, str)) else v
    if not isinstance(values, (list, tuple)):
        raise ConfigError(f"{f.label} must be a list of numbers; got {shown(v)}")
    if not values:
        raise ConfigError(f"{f.label}: give at least one")
    if f.max_count is not None and len(values) > f.max_count:
        raise ConfigError(f"{f.label}: at most {f.max_count} runs; got {len(values)}")
    return tuple(f._number(x) for x in values)


def _check_params(f: Field, v, others):
    return None if v is None else f.check_value(v, others)


def known_samples(others: Mapping) -> int | None:
    """N of the data the other fields describe, when it is known without reading a file."""
    if others.get("data_file") is not None:
        return None
    target = TARGETS.get(others.get("dataset"))
    if target is None:
        return None
    if not target.generated:
        return len(target.make()[0])
    n = others.get("samples")
    return n if isinstance(n, int) and not isinstance(n, bool) else None


def check_batch_size(label: str, v, n_samples: int | None = None, lo: int = 1, hi: int = MAX_SAMPLES):
    """None (full batch; also the word "full"), or a whole number from ``lo`` to the data's N
    (``n_samples``, when known; refused above it, never clamped)."""
    if v is None or (isinstance(v, str) and v.strip().lower() == FULL_BATCH):
        return None
    b = check_integer(label, v, lo, hi)
    if n_samples is not None and b > n_samples:
        raise ConfigError(f"{label} must be at most the number of samples ({n_samples}), or {FULL_BATCH!r}; "
                          f"got {b}")
    return b


def _check_batch(f: Field, v, others):
    return check_batch_size(f.label, v, known_samples(others), int(f.lo), int(f.hi))


_CHECKS = {NUMBER: _check_number, INTEGER: _check_integer, CHOICE: _check_choice, PATH: _check_path,
           PAIR: _check_pair, NUMBERS: _check_numbers, PARAMS: _check_params, BATCH: _check_batch}


# -- the table -------------------------------------------------------------------------
FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("dataset", CHOICE, "linear", "dataset", "Data set",
              "one of: {choices}",
              "The data the network learns: the tutorial's single point, a generated target, or your own CSV.",
              "Data", flag="--dataset", metavar="NAME", choices=TARGETS, ignored_if="data_file",
              clears="data_file", exclusive="source"),
        Field("data_file", PATH, None, "data file", "Your data",
              "your own x,y data (header optional)",
              "Load your own data: a CSV file with two columns x,y (header optional).",
              "Data", flag="--data", metavar="FILE.csv", exclusive="source"),
        Field("samples", INTEGER, 50, "samples", "Samples",
              "number of generated points",
              "How many points are generated, evenly spaced over the x range.",
              "Data", flag="--samples", metavar="N", lo=1, hi=MAX_SAMPLES),
        Field("noise", NUMBER, 0.1, "noise", "Noise σ",
              "standard deviation of the noise added to y",
              "Standard deviation of the Gaussian noise added to each y.",
              "Data", flag="--noise", metavar="SIGMA", lo=0, hi=MAX_MAGNITUDE),
        Field("x_range", PAIR, (0.0, 2.0), "x range", "x range",
              "x values, evenly spaced",
              ("Smallest x of the generated points.", "Largest x of the generated points."),
              "Data", flag="--x-range", metavar=("LO", "HI"), lo=-MAX_MAGNITUDE, hi=MAX_MAGNITUDE),
        Field("model", CHOICE, "mlp", "model", "Model",
              "one of: {choices} (linear: no hidden layer)",
              "The tutorial's network, or the model without a hidden layer (its loss is quadratic, so the "
              "stability forecast is exact).",
              "Model", flag="--model", metavar="NAME", choices=MODELS),
        Field("activation", CHOICE, "sigmoid", "activation", "Activation",
              "one of: {choices}",
              "The hidden layer's activation function.",
              "Model", flag="--activation", metavar="NAME", choices=ACTIVATIONS),
        Field("hidden", INTEGER, 2, "hidden", "Hidden units",
              "hidden units, {lo} to {hi}",
              "Number of hidden units, {lo} to {hi}.",
              "Model", flag="--hidden", metavar="H", lo=1, hi=MAX_HIDDEN),
        Field("learning_rates", NUMBERS, (0.1,), "learning rate", "Learning rates",
              "learning rates, trained side by side",
              "Type the selected run's learning rate (such as 0.1 or 3e-3) and press Enter.",
              "Learning rates", flag="--lr", metavar="LR", positive=True, max_count=MAX_RUNS),
        Field("steps", INTEGER, 2000, "steps", "Step budget",
              "gradient-descent updates per run",
              "Gradient-descent updates per run: the step budget.",
              "Training", flag="--steps", metavar="S", lo=1, hi=MAX_STEPS),
        Field("seed", INTEGER, 0, "seed", "Seed",
              "seed of the data noise and the initial parameters",
              "Seed of the noise and of the initial parameters: same seed, same experiment.",
              "Data", flag="--seed", metavar="S", lo=0, hi=MAX_SEED),
        Field("init", PARAMS, None, "init", "Initial parameters",
              "explicit initial parameters: w1, b1, w2, b2 (w, b for the linear model)",
              "Explicit initial parameters, shared by every run.",
              "Model", check_value=check_init),
        Field("runs", PARAMS, None, "runs", "Recipes",
              "one recipe per run: lr, optimizer and its parameters, schedule",
              "Each run's recipe: its learning rate, optimizer and schedule (None: gradient descent at "
              "each learning rate).",
              "Learning rates", check_value=lambda v, others: check_runs(v, others)),
        Field("batch_size", BATCH, None, "batch size", "Batch size",
              "samples per update, {lo} to N, or 'full' (the default: every update sees all the data)",
              "Samples per update (mini-batch gradient descent: each epoch visits the data in a fresh "
              "seeded order, cut into batches of this size), or full batch: every update sees all the data.",
              "Training", flag="--batch-size", metavar="B", lo=1, hi=MAX_SAMPLES),
    )
}


def check_runs(runs, others: Mapping) -> tuple:
    """One checked core.optim.Recipe per run (the budget is ``others["steps"]``); the messages
    name the run: "run 2: momentum must be < 1; got 1"."""
    from .optim import Recipe                     # core.optim reads this module's RECIPE_FIELDS
    if isinstance(runs, (str, bytes, Mapping)) or not hasattr(runs, "__len__") or len(runs) == 0:
        raise ConfigError(f"runs must be a list of one or more recipes; got {shown(runs)}")
    out = []
    for i, r in enumerate(runs, 1):
        if isinstance(r, Mapping):                # a run as the JSON file writes it
            r = Recipe.from_dict(dict(r), where=f"run {i}")
        if not isinstance(r, Recipe):
            raise ConfigError(f"run {i} must be a recipe (lr, optimizer, schedule); got {shown(r)}")
        out.append(r.check(others.get("steps"), where=f"run {i}: "))
    return tuple(out)


def check_fields(values: Mapping) -> dict:
    """Every field of ``values`` checked, in the table's order; a field sees the others, those
    before it checked (init sees model and hidden).  Raises ConfigError at the first bad one."""
    checked: dict = {}
    for name, f in FIELDS.items():
        checked[name] = f.check(values[name], {**values, **checked})
    return checked


# -- the fields of a run's recipe: its optimizer and its learning-rate schedule ----------
# Read by core.optim.Recipe.check and core.schedules.Schedule.check (one description of each
# bound); the command line, JSON version 2 and the window read them from here too.  The names
# are PyTorch's (torch.optim.SGD / RMSprop / Adam, torch.optim.lr_scheduler), so what a user
# learns here reads like their PyTorch code; ``betas`` is two fields, beta1 and beta2.
OPTIMIZERS = {
    "gd": "gradient descent: θ ← θ − η·g",
    "momentum": "heavy ball (SGD with momentum): v ← βv + g; θ ← θ − ηv",
    "nesterov": "Nesterov (SGD, nesterov=True): v ← βv + g; θ ← θ − η(g + βv)",
    "rmsprop": "RMSprop: s ← αs + (1 − α)g²; θ ← θ − η·g/(√s + ε)",
    "adam": "Adam: bias-corrected moments, θ ← θ − η·m̂/(√v̂ + ε)",
}
SCHEDULES = {
    "constant": "the run's rate at every update",
    "step": "multiplied by gamma every step_size updates (StepLR)",
    "exponential": "multiplied by gamma every update (ExponentialLR)",
    "cosine": "half a cosine from the rate down to eta_min over the updates after the warmup (CosineAnnealingLR)",
    "one-cycle": "up from rate/div_factor to the rate, then down to rate/(div_factor·final_div_factor) (OneCycleLR)",
}

RECIPE_FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("optimizer", CHOICE, "gd", "optimizer", "Optimizer",
              "one of: {choices}",
              "How the gradient becomes the update: plain gradient descent, momentum, Nesterov, RMSprop or Adam.",
              "Optimizer", flag="--optimizer", metavar="NAME", choices=OPTIMIZERS),
        Field("momentum", NUMBER, 0.9, "momentum", "Momentum β",
              "momentum β of momentum and nesterov, in [{lo}, {hi})",
              "β of heavy-ball and Nesterov momentum (PyTorch SGD's momentum), in [{lo}, {hi}).",
              "Optimizer", flag="--momentum", metavar="BETA", lo=0.0, hi=1.0, hi_open=True),
        Field("alpha", NUMBER, 0.99, "alpha", "RMSprop α",
              "RMSprop's smoothing constant α, in [{lo}, {hi})",
              "RMSprop's smoothing constant of the squared gradients, in [{lo}, {hi}).",
              "Optimizer", flag="--alpha", metavar="ALPHA", lo=0.0, hi=1.0, hi_open=True),
        Field("eps", NUMBER, 1e-8, "eps", "ε",
              "ε of RMSprop and Adam, > 0",
              "Added to the root of the squared-gradient average (RMSprop, Adam), > 0.",
              "Optimizer", flag="--eps", metavar="EPS", positive=True),
        Field("beta1", NUMBER, 0.9, "betas[0]", "Adam β1",
              "Adam's β1, in [{lo}, {hi})",
              "Adam's smoothing of the gradient (betas[0]), in [{lo}, {hi}).",
              "Optimizer", flag="--beta1", metavar="B1", lo=0.0, hi=1.0, hi_open=True),
        Field("beta2", NUMBER, 0.999, "betas[1]", "Adam β2",
              "Adam's β2, in [{lo}, {hi})",
              "Adam's smoothing of the squared gradient (betas[1]), in [{lo}, {hi}).",
              "Optimizer", flag="--beta2", metavar="B2", lo=0.0, hi=1.0, hi_open=True),
        Field("schedule", CHOICE, "constant", "schedule", "Schedule",
              "one of: {choices}",
              "How the learning rate changes over the updates.",
              "Schedule", flag="--schedule", metavar="NAME", choices=SCHEDULES),
        Field("step_size", INTEGER, 1000, "step_size", "Step size",
              "step schedule: updates between two decays, >= {lo}",
              "The step schedule multiplies the rate by γ every this many updates.",
              "Schedule", flag="--step-size", metavar="S", lo=1, hi=MAX_STEPS),
        Field("gamma", NUMBER, 0.1, "gamma", "γ",
              "step and exponential schedules: the decay factor γ, > 0",
              "The factor the rate is multiplied by (every step_size updates, or every update).",
              "Schedule", flag="--gamma", metavar="G", positive=True),
        Field("eta_min", NUMBER, 0.0, "eta_min", "Minimum rate",
              "cosine schedule: the rate it ends at, >= {lo}",
              "The rate the cosine schedule decays to.",
              "Schedule", flag="--eta-min", metavar="LR", lo=0.0),
        Field("pct_start", NUMBER, 0.3, "pct_start", "Rising part",
              "one-cycle: the fraction of the updates spent rising, in (0, {hi})",
              "The fraction of the one-cycle spent rising to the rate.",
              "Schedule", flag="--pct-start", metavar="P", positive=True, hi=1.0, hi_open=True),
        Field("div_factor", NUMBER, 25.0, "div_factor", "Start divisor",
              "one-cycle: starts at rate/div_factor, > 0",
              "The one-cycle starts at the rate divided by this.",
              "Schedule", flag="--div-factor", metavar="D", positive=True),
        Field("final_div_factor", NUMBER, 1e4, "final_div_factor", "Final divisor",
              "one-cycle: ends at rate/(div_factor·final_div_factor), > 0",
              "The one-cycle ends at its starting rate divided by this.",
              "Schedule", flag="--final-div-factor", metavar="D", positive=True),
        Field("warmup_steps", INTEGER, 0, "warmup steps", "Warmup steps",
              "linear warmup over the first W updates (0: none)",
              "A linear warmup over this many updates in front of the schedule (0: none).",
              "Schedule", flag="--warmup", metavar="W", lo=0, hi=MAX_STEPS),
        Field("warmup_start_factor", NUMBER, 1.0 / 3.0, "warmup start_factor", "Warmup start",
              "the warmup starts at start_factor × the rate, in (0, {hi}]",
              "The warmup's first rate, as a fraction of the run's rate (PyTorch LinearLR's start_factor).",
              "Schedule", flag="--warmup-start", metavar="S", positive=True, hi=1.0),
    )
}
