"""An experiment: data, model, learning rates, steps, seed and (optionally) the
initial parameters.  One versioned JSON format, shared by the command line and the
window; presets named after the tutorial's worked example and exercises.

Seeding: ``SeedSequence(seed).spawn(3)`` gives three independent streams, the first
for the data noise, the second for the initial parameters, the third for the order of
the mini-batches (core.batches; drawn from only when the batch size B < N).  The first
two are what ``spawn(2)`` gives (tests/test_batches.py checks it), so experiments from
before the batch size are the same.  Seeded initial parameters, shared by every run::

    w1 ~ N(0, 1),  b1 ~ N(0, 1),  w2 ~ N(0, 1/H),  b2 = 0      (the network)
    w ~ N(0, 1),   b = 0                                      (the model without a hidden layer)
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace

import numpy as np

from .data import TARGETS, Dataset, count_rows, load_csv, make_dataset
from .engine import Trainer
from .errors import ConfigError, read_text, shown
from .fields import FIELDS, MAX_HIDDEN, MAX_RUNS, MAX_SAMPLES, MAX_STEPS, check_batch_size, check_fields  # noqa: F401 (the bounds)
from .outcomes import WINDOW
from .models import ModelSpec
from .optim import GradientDescent, MixedRule, Recipe, rule_for  # noqa: F401 (MixedRule, Recipe: for importers)
from .schedules import Schedule

FORMAT = "lrlab-experiment"
VERSION = 1                 # what a file of plain gradient descent at constant rates is written as
VERSION_RUNS = 2            # a file with "runs": one recipe per run (rate, optimizer, schedule)
VERSIONS = (VERSION, VERSION_RUNS)
# Version 2's experiment-level recipe keys: the defaults of the runs that do not say (PyTorch's names).
RECIPE_DEFAULT_KEYS = ("optimizer", "momentum", "alpha", "eps", "betas", "schedule")

# The memory an experiment may take (working_set_bytes): half of this machine's physical
# memory (os.sysconf), and at least MEMORY_FLOOR (also where sysconf cannot tell).
MEMORY_FRACTION = 0.5
MEMORY_FLOOR = 2 * 2**30


def memory_limit() -> int:
    """Bytes an experiment may use: MEMORY_FRACTION of the physical memory, at least MEMORY_FLOOR."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        physical = 0
    return max(MEMORY_FLOOR, int(MEMORY_FRACTION * physical))


def _gib(n: int) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**30 else f"{n / 2**20:.3g} MiB"


@dataclass(frozen=True)
class Experiment:
    """The settings of an experiment; core.fields.FIELDS describes each one (bounds,
    default, words, flag) in this order."""

    dataset: str = FIELDS["dataset"].default          # a name in data.TARGETS; ignored when data_file is set
    data_file: str | None = FIELDS["data_file"].default   # the user's x,y CSV
    samples: int = FIELDS["samples"].default
    noise: float = FIELDS["noise"].default
    x_range: tuple = FIELDS["x_range"].default
    model: str = FIELDS["model"].default              # "mlp" (the network) or "linear" (no hidden layer)
    activation: str = FIELDS["activation"].default
    hidden: int = FIELDS["hidden"].default
    learning_rates: tuple = FIELDS["learning_rates"].default
    steps: int = FIELDS["steps"].default
    seed: int = FIELDS["seed"].default
    init: dict | None = field(default=FIELDS["init"].default, compare=True)   # explicit w1, b1, w2, b2
    # One core.optim.Recipe per run (rate, optimizer, schedule), or None: every run is gradient
    # descent at a constant rate from ``learning_rates`` (LR Lab's numbers before recipes, bit
    # for bit).  When set, ``validated()`` makes ``learning_rates`` the runs' rates.
    runs: tuple | None = FIELDS["runs"].default
    batch_size: int | None = FIELDS["batch_size"].default   # None: full batch (core.batches: the order)

    # -- validation ---------------------------------------------------------------------
    def validated(self) -> "Experiment":
        """Return self with normalized types, or raise ConfigError naming the field and value
        (every field checked as core.fields.FIELDS describes it)."""
        checked = check_fields({name: getattr(self, name) for name in FIELDS})
        if checked["runs"] is not None:                  # the runs' rates are the learning rates
            checked["learning_rates"] = tuple(r.lr for r in checked["runs"])
        return replace(self, **checked)

    def recipes(self) -> tuple:
        """One core.optim.Recipe per run: ``runs``, or gradient descent at each learning rate."""
        return self.runs if self.runs is not None else tuple(Recipe(lr) for lr in self.learning_rates)

    def n_samples(self) -> int:
        """Points of the data: ``samples`` (generated), the fixed set's, or the data file's
        non-blank lines (read no further than MAX_SAMPLES + 1: ConfigError past it; 1 if the
        file cannot be read, which ``make_data`` then reports)."""
        if self.data_file is not None:
            return count_rows(self.data_file) or 1
        target = TARGETS[self.dataset]
        return self.samples if target.generated else len(target.make()[0])

    def working_set_bytes(self, n_samples: int | None = None, loss_records: int = 1,
                          hessian_runs: int = 0) -> int:
        """Bytes training takes, from K runs, N samples (``n_samples``, else ``n_samples()``),
        H hidden units (P = 3H + 1 parameters) and the step budget, counted in float64s:

        * the loss record, K·(steps + 1) per copy (``loss_records``: the window keeps two; one
          more under mini-batches, the batch losses).
          It is np.empty, paged in as it is written; counted whole: training to the budget
          writes all of it;
        * the network's work area (2H + 2)·K·N (core.network.MLP; the linear model: 3·K·N);
        * the outcome window's rings of updates and parameters, 2·(WINDOW + 1)·K·P;
        * ``hessian_runs`` exact Hessians at once (core.curvature.mlp_hessian): its Jacobian
          N·P, a network work area (2H + 2)·N and about 4 temporaries of N·H per run, and
          the P×P matrix with what the eigenvalue solver copies (3·P²).
        """
        K, H, steps = len(self.learning_rates), self.hidden, self.steps
        N = self.n_samples() if n_samples is None else int(n_samples)
        spec = self.model_spec()
        mlp, P = spec.has_hidden_layer, spec.n_params
        if self.batch_size is not None and self.batch_size < N:
            loss_records += 1                   # the mini-batch losses beside the whole-data ones
        floats = (loss_records * K * (steps + 1)
                  + ((2 * H + 2) if mlp else 3) * K * N
                  + 2 * (WINDOW + 1) * K * P
                  + 6 * N
                  + hessian_runs * ((N * (P + 2 * H + 2 + 4 * H) if mlp else 2 * N) + 3 * P * P))
        return 8 * floats

    def check_working_set(self, n_samples: int | None = None, loss_records: int = 1,
                          hessian_runs: int = 0) -> None:
        """ConfigError naming the sizes if ``working_set_bytes`` is over ``memory_limit()``,
        before anything is allocated."""
        N = self.n_samples() if n_samples is None else int(n_samples)
        need, limit = self.working_set_bytes(N, loss_records, hessian_runs), memory_limit()
        if need > limit:
            K = len(self.learning_rates)
            sizes = (f"{K} run{'s' if K > 1 else ''} × {N} samples"
                     + (f" × {self.hidden} hidden units" if self.model_spec().has_hidden_layer else "")
                     + f", {self.steps} steps")
            raise ConfigError(f"the experiment needs about {_gib(need)} of memory ({sizes}); the limit is "
                              f"{_gib(limit)} (half of this machine's memory): use fewer runs, samples, "
                              "hidden units or steps")

    # -- what it builds -----------------------------------------------------------------
    def rngs(self):
        """Fresh generators of the three streams: (data noise, initial parameters, batch order)."""
        return tuple(np.random.default_rng(ss) for ss in np.random.SeedSequence(self.seed).spawn(3))

    def make_data(self) -> Dataset:
        if self.data_file is not None:
            return load_csv(self.data_file)
        return make_dataset(self.dataset, self.samples, self.noise, self.x_range, self.rngs()[0])

    def model_spec(self) -> ModelSpec:
        return ModelSpec(self.model, self.hidden, self.activation)

    def initial_params(self) -> np.ndarray:
        """θ₀ shared by every run: the explicit ``init``, else seeded (the second stream)."""
        return self.model_spec().initial_params(self.rngs()[1], self.init)

    def update_rule(self, learning_rates=None, schedule=None, steps: int | None = None):
        """The experiment's update rule (core.optim) at ``learning_rates`` (default: the
        experiment's); ``schedule`` (an object with ``lr_at(t)``) varies them over the updates.

        Without ``runs``: gradient descent (``GradientDescent``, today's numbers).  With ``runs``:
        each run's recipe (``MixedRule``, or ``GradientDescent`` if every run is plain gradient
        descent at a constant rate).  ``learning_rates`` given with ``runs`` (one run alone, the
        range test): each rate takes the recipe of the first run with that rate, else the first
        run's recipe at that rate.  ``steps``: the budget the schedules span (the experiment's)."""
        if self.runs is None:
            lrs = self.learning_rates if learning_rates is None else learning_rates
            return GradientDescent(lrs, schedule=schedule)
        recipes = self.runs
        if learning_rates is not None:
            by_lr = {}
            for r in self.runs:
                by_lr.setdefault(r.lr, r)
            recipes = tuple(by_lr.get(float(lr), replace(self.runs[0], lr=float(lr))) for lr in learning_rates)
        return rule_for(recipes, self.steps if steps is None else steps, schedule=schedule)

    def trainer(self, data: Dataset | None = None, sharpness_every: int = 0, *,
                learning_rates=None, steps: int | None = None, rule=None, loss_every: str = "update") -> Trainer:
        """The one way to build a Trainer: the experiment's data (or ``data``), model,
        initial parameters, update rule and batches.  ``learning_rates``, ``steps`` and ``rule``
        override the experiment's (one run alone, the range test's ramp); ``loss_every``
        ("update" or "epoch"): when the whole-data loss is recorded under mini-batches.
        A batch size above the data's N is refused (ConfigError), never clamped."""
        data = self.make_data() if data is None else data
        check_batch_size(FIELDS["batch_size"].label, self.batch_size, len(data))
        lrs = self.learning_rates if learning_rates is None else tuple(learning_rates)
        if rule is None:
            rule = self.update_rule(None if learning_rates is None else lrs, steps=steps)
        return Trainer(data, self.model_spec(), lrs, self.initial_params(),
                       self.steps if steps is None else steps, rule=rule, sharpness_every=sharpness_every,
                       batch_size=self.batch_size, batch_rng=self.rngs()[2], loss_every=loss_every)

    # -- JSON ---------------------------------------------------------------------------
    def to_dict(self, folder=None) -> dict:
        """The JSON file's object.  Version 1 (byte for byte the file LR Lab has always written)
        when every run is plain gradient descent at a constant rate; else version 2, with
        ``"runs"`` (each run's whole recipe, ``Recipe.to_dict``) in place of ``"learning_rates"``.
        With ``folder`` (the file's folder), a data file beside it or below it is written
        relative to it, any other as an absolute path."""
        plain = self.runs is None or all(r.optimizer == "gd" and r.schedule.is_constant for r in self.runs)
        d = {"format": FORMAT, "version": VERSION if plain else VERSION_RUNS}
        for name, f in FIELDS.items():
            value = getattr(self, name)
            if name == "data_file" and value is not None and folder is not None:
                value = _path_from(folder, value)
            if name == "runs":
                if not plain:
                    d.pop("learning_rates", None)
                    d["runs"] = [r.to_dict() for r in value]
            elif name == "learning_rates" and plain and self.runs is not None:
                d[name] = [r.lr for r in self.runs]
            elif not (value is None and f.omitted_when_none):
                d[name] = f.to_json(value)
        return d

    @classmethod
    def from_dict(cls, d: dict, where: str = "config", base: "Experiment | None" = None,
                  folder=None) -> "Experiment":
        """Keys present in ``d`` override ``base`` (default: the default experiment).  A
        relative ``data_file`` of ``d`` is taken from ``folder`` (the file's folder) if given."""
        if not isinstance(d, dict):
            raise ConfigError(f"{where}: must be a JSON object; got {type(d).__name__}")
        d = dict(d)
        fmt, version = d.pop("format", FORMAT), d.pop("version", VERSION)
        if fmt != FORMAT:
            raise ConfigError(f"{where}: format must be {FORMAT!r}; got {shown(fmt)}")
        if version not in VERSIONS or isinstance(version, bool):
            raise ConfigError(f"{where}: version must be {VERSION} or {VERSION_RUNS}; got {shown(version)}")
        defaults = {k: d.pop(k) for k in RECIPE_DEFAULT_KEYS if k in d} if version == VERSION_RUNS else {}
        unknown = sorted(set(d) - set(FIELDS))
        if unknown:
            known = sorted(FIELDS) + (list(RECIPE_DEFAULT_KEYS) if version == VERSION_RUNS else [])
            raise ConfigError(f"{where}: unknown key {shown(unknown[0])} (known: {', '.join(sorted(known))})")
        over = {k: FIELDS[k].from_json(v) for k, v in d.items()}
        base = base or cls()
        if "runs" in d:
            over["runs"] = _runs_from_json(d["runs"], defaults, where)
            if "learning_rates" in d:
                raise ConfigError(f"{where}: give the rates either in learning_rates or in runs, not both")
        elif defaults:                    # the experiment's recipe for every rate
            default = Recipe.from_dict(defaults, where=f"{where}")
            over["runs"] = tuple(replace(default, lr=lr) for lr in over.get("learning_rates", base.learning_rates))
        elif "learning_rates" in d:       # version 1: the rates replace the base's runs
            over["runs"] = None
        exp = replace(base, **over).validated()
        if folder is not None and d.get("data_file") is not None and not os.path.isabs(exp.data_file):
            exp = replace(exp, data_file=os.path.join(folder, exp.data_file))
        return exp

    def to_json(self, folder=None) -> str:
        return json.dumps(self.to_dict(folder), indent=2) + "\n"

    @classmethod
    def parse(cls, text: str, where: str = "config", base: "Experiment | None" = None,
              folder=None) -> "Experiment":
        """The experiment a JSON text describes (a leading UTF-8 BOM allowed), or ConfigError:
        never another exception, whatever the text (nesting too deep for the parser, an
        integer too long to convert, a wrong type anywhere)."""
        try:
            d = json.loads(text.removeprefix("\ufeff"))
        except RecursionError:
            raise ConfigError(f"{where}: not valid JSON (nested too deeply)") from None
        except ValueError as e:                 # JSONDecodeError; an integer past 4300 digits
            raise ConfigError(f"{where}: not valid JSON ({shown(str(e), quote=False)})") from None
        try:
            return cls.from_dict(d, where=where, base=base, folder=folder)
        except RecursionError:                  # a value nested just under the parser's limit
            raise ConfigError(f"{where}: a value is nested too deeply") from None

    @classmethod
    def load(cls, path, base: "Experiment | None" = None) -> "Experiment":
        """The experiment file at ``path``; a relative data file in it is taken from its folder."""
        where = f"config {shown(str(path), quote=False)}"
        text = read_text(path, where, undecodable="not valid JSON")
        return cls.parse(text, where=where, base=base, folder=os.path.dirname(os.fspath(path)))

    def file_text(self, path) -> str:
        """The text of the experiment file ``path`` (a data file beside it written relative to it)."""
        return self.to_json(folder=os.path.dirname(os.path.abspath(os.fspath(path))))


def _path_from(folder, path: str) -> str:
    """``path`` as a file in ``folder`` names it: relative if it lies in ``folder`` or below,
    else absolute."""
    folder, target = os.path.abspath(folder), os.path.abspath(path)
    try:
        inside = os.path.commonpath([folder, target]) == folder
    except ValueError:                          # another drive
        inside = False
    return os.path.relpath(target, folder).replace(os.sep, "/") if inside else target


def _runs_from_json(runs, defaults: dict, where: str):
    """Version 2's ``"runs"``: one object per run, each key it leaves out taken from the
    experiment-level ``defaults`` (optimizer, its parameters, schedule), then from plain
    gradient descent at a constant rate; ``lr`` is required."""
    if not isinstance(runs, list) or not runs:
        raise ConfigError(f"{where}: runs must be a list of one or more run objects; got {shown(runs)}")
    default = Recipe.from_dict(defaults, where=where)
    out = []
    for i, r in enumerate(runs, 1):
        if not isinstance(r, dict):
            raise ConfigError(f"{where}: run {i} must be an object with lr, optimizer, schedule; got {shown(r)}")
        if "lr" not in r:
            raise ConfigError(f"{where}: run {i} has no lr; got {shown(r)}")
        out.append(Recipe.from_dict(r, where=f"run {i}", base=default))
    return tuple(out)


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    experiment: Experiment


TUTORIAL_INIT = {"w1": [2.0], "b1": [-1.0], "w2": [1.5], "b2": 0.5}
_EXERCISE3 = Experiment(dataset="linear", samples=50, noise=0.1, x_range=(0.0, 2.0),
                        activation="sigmoid", hidden=2, learning_rates=(0.1,), steps=2000, seed=0)

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("tutorial", "Worked example",
               "The tutorial's 1-1-1 sigmoid network on the single point x = 3, y = 2.5, "
               "from w1 = 2, b1 = −1, w2 = 1.5, b2 = 0.5, with η = 0.1.",
               Experiment(dataset="tutorial", samples=1, noise=0.0, activation="sigmoid", hidden=1,
                          learning_rates=(0.1,), steps=100, init=TUTORIAL_INIT)),
        Preset("exercise1", "Exercise 1: two hidden units",
               "The worked example with the hidden layer widened to two units.",
               Experiment(dataset="tutorial", samples=1, noise=0.0, activation="sigmoid", hidden=2,
                          learning_rates=(0.1,), steps=100,
                          init={"w1": [2.0, -1.0], "b1": [-1.0, 0.5], "w2": [1.5, 0.5], "b2": 0.5})),
        Preset("exercise2", "Exercise 2: ReLU",
               "Exercise 3's training loop with ReLU in place of the sigmoid.",
               replace(_EXERCISE3, activation="relu", hidden=2)),
        Preset("exercise3", "Exercise 3: a training loop",
               "Two sigmoid hidden units fitted to y = 2x + 1 + noise (50 points on [0, 2]).",
               _EXERCISE3),
        Preset("exercise4", "Exercise 4: four learning rates",
               "Exercise 3 with η = 0.01, 0.1, 0.5 and 1.0 side by side: slow, good, "
               "oscillating, not converging.",
               replace(_EXERCISE3, learning_rates=(0.01, 0.1, 0.5, 1.0))),
        Preset("momentum", "Momentum: the same η trains",
               "The model without a hidden layer on 100 points of y = 2x + 1 over [0, 1]: λ_max = 2.536, so "
               "η = 1 is above gradient descent's critical rate 2/λ_max = 0.789 and diverges, and below heavy "
               "ball's (2 + 2β)/λ_max = 1.498 (β = 0.9), which trains.",
               Experiment(dataset="linear", samples=100, noise=0.0, x_range=(0.0, 1.0), model="linear",
                          learning_rates=(1.0, 1.0), steps=500,
                          runs=(Recipe(1.0), Recipe(1.0, "momentum", momentum=0.9)))),
        Preset("warmup", "Warmup: the same η trains",
               "A tanh network (8 units) on Exercise 3's data at η = 0.3, twice its critical rate at the "
               "start (2/λ_max = 0.144): at once it blows up within 10 steps; warmed up from 0.003 over 500 "
               "updates, it flattens while the rate is small (λ_max 13.9 → 6.7) and trains at the edge of "
               "stability, λ_max ≈ 2/η.",
               replace(_EXERCISE3, activation="tanh", hidden=8, learning_rates=(0.3, 0.3), steps=3000,
                       runs=(Recipe(0.3), Recipe(0.3, schedule=Schedule("constant", warmup_steps=500,
                                                                          warmup_start_factor=0.01))))),
    )
}


# Mini-batches (the command line's --preset; the window has a button for each, after PRESETS'
# (ALL_PRESETS)).  The same rates at full batch and at one sample per update; and
# a phase diagram over learning rate × batch size (rows BATCH_PHASE_SIZES) whose noise scale
# at the start is B_noise ≈ 13.6 (ε_max ≈ 0.23): the model without a hidden layer started
# near its minimum, on 1,000 points with noise σ = 1 (far from the minimum the noise scale of
# our models is below 1: no batch size is below the critical one).
_BATCH_RATES = replace(_EXERCISE3, learning_rates=(0.1, 0.5))
BATCH_PHASE_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000)
BATCH_PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("full-batch", "Full batch, η = 0.1 and 0.5",
               "Exercise 3 at η = 0.1 and 0.5, every update on all 50 points: compare with one-sample.",
               _BATCH_RATES),
        Preset("one-sample", "One sample per update, η = 0.1 and 0.5",
               "The same rates with batch size 1: the loss falls, then wanders at a noise floor, higher "
               "for the larger rate.",
               replace(_BATCH_RATES, batch_size=1)),
        Preset("batch-phase", "Learning rate × batch size",
               "The model without a hidden layer near its minimum (1,000 points, noise 1, w = 1.8, b = 1), "
               "5 updates: the best rate grows with the batch size up to the noise scale B_noise ≈ 14, "
               "then levels off at ε_max ≈ 0.23 (phase diagram rows: BATCH_PHASE_SIZES).",
               Experiment(dataset="linear", samples=1000, noise=1.0, x_range=(0.0, 2.0), model="linear",
                          init={"w": 1.8, "b": 1.0}, steps=5, seed=0,
                          learning_rates=tuple(float(f"{v:.3g}") for v in np.geomspace(0.005, 0.5, 16)),
                          batch_size=16)),
    )
}
ALL_PRESETS = {**PRESETS, **BATCH_PRESETS}


def preset(name: str) -> Experiment:
    try:
        return ALL_PRESETS[name].experiment
    except KeyError:
        raise ConfigError(f"preset must be one of {', '.join(ALL_PRESETS)}; got {name!r}") from None
