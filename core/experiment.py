"""An experiment: data, model, learning rates, steps, seed and (optionally) the
initial parameters.  One versioned JSON format, shared by the command line and the
window; presets named after the tutorial's worked example and exercises.

Seeding: ``SeedSequence(seed).spawn(2)`` gives two independent streams, the first
for the data noise, the second for the initial parameters.  Seeded initial
parameters, shared by every run of the experiment::

    w1 ~ N(0, 1),  b1 ~ N(0, 1),  w2 ~ N(0, 1/H),  b2 = 0      (the network)
    w ~ N(0, 1),   b = 0                                      (the model without a hidden layer)
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

from .activations import ACTIVATIONS
from .data import TARGETS, Dataset, load_csv, make_dataset
from .engine import Trainer
from .errors import ConfigError
from .linear import PARAM_NAMES as LINEAR_PARAM_NAMES
from .models import MODELS, ModelSpec
from .network import PARAM_NAMES
from .optim import GradientDescent

FORMAT = "lrlab-experiment"
VERSION = 1
MAX_HIDDEN = 512
MAX_STEPS = 10_000_000
MAX_SAMPLES = 100_000


@dataclass(frozen=True)
class Experiment:
    dataset: str = "linear"          # a name in data.TARGETS; ignored when data_file is set
    data_file: str | None = None     # the user's x,y CSV
    samples: int = 50
    noise: float = 0.1
    x_range: tuple = (0.0, 2.0)
    model: str = "mlp"               # "mlp" (the network) or "linear" (no hidden layer)
    activation: str = "sigmoid"
    hidden: int = 2
    learning_rates: tuple = (0.1,)
    steps: int = 2000
    seed: int = 0
    init: dict | None = field(default=None, compare=True)   # explicit w1, b1, w2, b2

    # -- validation ---------------------------------------------------------------------
    def validated(self) -> "Experiment":
        """Return self with normalized types, or raise ConfigError naming the field and value."""
        lrs = self.learning_rates
        if isinstance(lrs, (int, float, str)):
            lrs = (lrs,)
        if len(lrs) == 0:
            raise ConfigError("learning rate: give at least one")
        lrs = tuple(_number("learning rate", v, positive=True) for v in lrs)
        hidden = _integer("hidden", self.hidden, 1, MAX_HIDDEN)
        if self.model not in MODELS:
            raise ConfigError(f"model must be one of {', '.join(MODELS)}; got {self.model!r}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {self.activation!r}")
        if self.data_file is None and self.dataset not in TARGETS:
            raise ConfigError(f"dataset must be one of {', '.join(TARGETS)}; got {self.dataset!r}")
        try:
            lo, hi = self.x_range
        except (TypeError, ValueError):
            raise ConfigError(f"x range must be two numbers LO HI; got {self.x_range!r}") from None
        lo, hi = _number("x range", lo), _number("x range", hi)
        if not lo < hi:
            raise ConfigError(f"x range must have LO < HI; got {_fmt(lo)} {_fmt(hi)}")
        noise = _number("noise", self.noise)
        if noise < 0:
            raise ConfigError(f"noise must be >= 0; got {_fmt(noise)}")
        init = None if self.init is None else (
            _init(self.init, hidden) if self.model_spec().has_hidden_layer else _linear_init(self.init))
        return replace(
            self, learning_rates=lrs, hidden=hidden, x_range=(lo, hi), noise=noise, init=init,
            samples=_integer("samples", self.samples, 1, MAX_SAMPLES),
            steps=_integer("steps", self.steps, 1, MAX_STEPS),
            seed=_integer("seed", self.seed, 0, 2**63 - 1))

    # -- what it builds -----------------------------------------------------------------
    def rngs(self):
        data_ss, init_ss = np.random.SeedSequence(self.seed).spawn(2)
        return np.random.default_rng(data_ss), np.random.default_rng(init_ss)

    def make_data(self) -> Dataset:
        if self.data_file is not None:
            return load_csv(self.data_file)
        return make_dataset(self.dataset, self.samples, self.noise, self.x_range, self.rngs()[0])

    def model_spec(self) -> ModelSpec:
        return ModelSpec(self.model, self.hidden, self.activation)

    def initial_params(self) -> np.ndarray:
        """θ₀ shared by every run: the explicit ``init``, else seeded (the second stream)."""
        return self.model_spec().initial_params(self.rngs()[1], self.init)

    def update_rule(self, learning_rates=None, schedule=None):
        """The experiment's update rule (core.optim) at ``learning_rates`` (default: the
        experiment's); ``schedule`` (an object with ``lr_at(t)``) varies them over the updates."""
        lrs = self.learning_rates if learning_rates is None else learning_rates
        return GradientDescent(lrs, schedule=schedule)

    def trainer(self, data: Dataset | None = None, sharpness_every: int = 0, *,
                learning_rates=None, steps: int | None = None, rule=None) -> Trainer:
        """The one way to build a Trainer: the experiment's data (or ``data``), model,
        initial parameters and update rule.  ``learning_rates``, ``steps`` and ``rule``
        override the experiment's (one run alone, the range test's ramp)."""
        data = self.make_data() if data is None else data
        lrs = self.learning_rates if learning_rates is None else tuple(learning_rates)
        rule = self.update_rule(lrs) if rule is None else rule
        return Trainer(data, self.model_spec(), lrs, self.initial_params(),
                       self.steps if steps is None else steps, rule=rule, sharpness_every=sharpness_every)

    # -- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = {"format": FORMAT, "version": VERSION}
        d.update(asdict(self))
        d["x_range"] = list(self.x_range)
        d["learning_rates"] = list(self.learning_rates)
        if self.init is None:
            del d["init"]
        return d

    @classmethod
    def from_dict(cls, d: dict, where: str = "config", base: "Experiment | None" = None) -> "Experiment":
        """Keys present in ``d`` override ``base`` (default: the default experiment)."""
        if not isinstance(d, dict):
            raise ConfigError(f"{where}: must be a JSON object; got {type(d).__name__}")
        d = dict(d)
        fmt, version = d.pop("format", FORMAT), d.pop("version", VERSION)
        if fmt != FORMAT:
            raise ConfigError(f"{where}: format must be {FORMAT!r}; got {fmt!r}")
        if version != VERSION:
            raise ConfigError(f"{where}: version must be {VERSION}; got {version!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
        if "x_range" in d and isinstance(d["x_range"], list):
            d["x_range"] = tuple(d["x_range"])
        if "learning_rates" in d and isinstance(d["learning_rates"], list):
            d["learning_rates"] = tuple(d["learning_rates"])
        return replace(base or cls(), **d).validated()

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def load(cls, path, base: "Experiment | None" = None) -> "Experiment":
        try:
            with open(path, encoding="utf-8") as fh:
                d = json.load(fh)
        except OSError as e:
            raise ConfigError(f"config {path}: cannot be read ({e.strerror})") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"config {path}: not valid JSON ({e})") from None
        return cls.from_dict(d, where=f"config {path}", base=base)


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
    )
}


def preset(name: str) -> Experiment:
    try:
        return PRESETS[name].experiment
    except KeyError:
        raise ConfigError(f"preset must be one of {', '.join(PRESETS)}; got {name!r}") from None


# -- helpers for the messages ----------------------------------------------------------
def _fmt(v) -> str:
    if isinstance(v, str):
        return v.strip() if _is_number(v) else repr(v)
    return f"{v:g}" if isinstance(v, float) else str(v)


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _number(name, v, positive=False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ConfigError(f"{name} must be a number; got {v!r}")
    try:
        f = float(v)
    except ValueError:
        raise ConfigError(f"{name} must be a number; got {v!r}") from None
    if not math.isfinite(f):
        raise ConfigError(f"{name} must be a finite number; got {v}")
    if positive and f <= 0:
        raise ConfigError(f"{name} must be > 0; got {_fmt(v)}")
    return f


def _integer(name, v, lo, hi) -> int:
    if isinstance(v, bool):
        raise ConfigError(f"{name} must be a whole number; got {v!r}")
    try:
        i = int(v)
        if isinstance(v, float) and v != i:
            raise ValueError
        if isinstance(v, str):
            i = int(v.strip())
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{name} must be a whole number; got {v!r}") from None
    if not lo <= i <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}; got {i}")
    return i


def _linear_init(init) -> dict:
    if not isinstance(init, dict) or set(init) != set(LINEAR_PARAM_NAMES):
        raise ConfigError(f"init of the linear model must have exactly the keys w, b; got {init!r}")
    return {k: _number(f"init {k}", init[k]) for k in LINEAR_PARAM_NAMES}


def _init(init, hidden: int) -> dict:
    if not isinstance(init, dict):
        raise ConfigError(f"init must be an object with w1, b1, w2, b2; got {init!r}")
    missing = [k for k in PARAM_NAMES if k not in init]
    extra = sorted(set(init) - set(PARAM_NAMES))
    if missing or extra:
        raise ConfigError(f"init must have exactly the keys w1, b1, w2, b2; "
                          f"{'missing ' + missing[0] if missing else 'unknown ' + repr(extra[0])}")
    out = {}
    for k in ("w1", "b1", "w2"):
        v = init[k]
        vals = [v] if isinstance(v, (int, float)) and not isinstance(v, bool) else v
        if not isinstance(vals, (list, tuple)):
            raise ConfigError(f"init {k} must be a list of {hidden} numbers; got {v!r}")
        if len(vals) != hidden:
            raise ConfigError(f"init {k} must have {hidden} values (one per hidden unit); got {len(vals)}")
        out[k] = [_number(f"init {k}", x) for x in vals]
    out["b2"] = _number("init b2", init["b2"][0] if isinstance(init["b2"], list) and len(init["b2"]) == 1
                        else init["b2"])
    return out
