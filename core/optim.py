"""Update rules.  A rule turns the gradient into the step Δθ for every run.

The engine only calls ``update(grad, t, out)``: write Δθ for update t (t = 0 is the
first) into ``out``, shape (K, P), the run axis first.  A rule also answers what the
views would otherwise work out with a formula of their own:

* ``lr_at(t)``                the learning rate of every run at update t, shape (K,);
* ``critical_lr(lam_max)``    the largest rate at which the steepest direction of a
                              quadratic with top curvature λ_max does not grow;
* ``sharpness_limit(t)``      the other way round: the λ_max above which each run's
                              update t makes that direction grow (the "edge of stability");
* ``best_lr(lam_lo, lam_max)``  the best constant rate on such a quadratic.

``GradientDescent`` is the tutorial's θ ← θ − η·∂L/∂θ, the rule of every experiment whose
runs give no recipe (its numbers are those LR Lab has always produced).  ``MixedRule`` trains
runs that each follow a ``Recipe`` — a rate, an optimizer with its parameters, a schedule
(core.schedules) — in lockstep: the runs are grouped by optimizer, and each group's update
is one vectorized computation on its rows (a loop over at most five optimizers, never over
runs).  Per-run state (a momentum buffer, Adam's two moments) is arrays over the run axis;
every operation is row by row, so a run that blew up (its state inf or NaN; the trainer
zeroes its update) cannot touch another run's numbers.

The optimizers, exactly as PyTorch 2 computes them (torch/optim/sgd.py ``_single_tensor_sgd``,
rmsprop.py, adam.py ``_single_tensor_adam``; g = ∂L/∂θ, ηₜ the rate of update t, float64,
in the same order of operations)::

    gd        θ ← θ − ηₜ·g                                   SGD(lr)
    momentum  b ← g at the first update, else b ← β·b + g;   SGD(lr, momentum=β, dampening=0)
              θ ← θ − ηₜ·b
    nesterov  b as momentum;  θ ← θ − ηₜ·(g + β·b)           SGD(lr, momentum=β, dampening=0, nesterov=True)
    rmsprop   s ← α·s + (1 − α)·g²  (s₀ = 0);                RMSprop(lr, alpha=α, eps=ε)
              θ ← θ − ηₜ·g/(√s + ε)                          (ε outside the root; momentum=0, centered=False)
    adam      n = t + 1 (the step count starts at 1);        Adam(lr, betas=(β1, β2), eps=ε)
              m ← m + (1 − β1)·(g − m)   (PyTorch's lerp; m₀ = v₀ = 0)
              v ← β2·v + (1 − β2)·g²
              denom = √v/√(1 − β2ⁿ) + ε,   θ ← θ − (ηₜ/(1 − β1ⁿ))·m/denom

β1ⁿ, β2ⁿ and √(1 − β2ⁿ) are Python's ``**`` (the C library's pow, as PyTorch's), worked out a
chunk of updates ahead; numpy's SIMD power may differ in the last bit.  PyTorch's CPU kernels
may fuse a multiply and an add (FMA) where numpy rounds twice: the two agree to a few units in
the last place per update (benchmarks/check_torch.py measures it).

Stability limits on a quadratic with Hessian eigenvalue λ (the critical rate is c/λ_max, the
sharpness limit of update t is c/ηₜ, with c per optimizer)::

    gd        c = 2                 (the error along λ's eigenvector is multiplied by 1 − ηλ)
    momentum  c = 2 + 2β            (stable iff 0 < ηλ < 2 + 2β)
    nesterov  c = (2 + 2β)/(1 + 2β) (stable iff ηλ < (2 + 2β)/(1 + 2β))
    rmsprop   c = 2                 on the preconditioned sharpness λ_max(P^(−1/2) H P^(−1/2)),
    adam      c = (2 + 2β1)/(1 − β1)  P = diag(√v + ε) (RMSprop) or diag(√v̂ + ε) (Adam):
                                    38/η at β1 = 0.9 (Cohen et al. 2022)

For the adaptive optimizers P changes as they train: ``preconditioner()`` gives the current
diagonal and core.curvature.preconditioned_eigenvalues the sharpness to hold against the limit.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields as _dc_fields, replace

import numpy as np

from .errors import ConfigError, shown
from .fields import FIELDS, OPTIMIZERS, RECIPE_FIELDS
from .schedules import RateTable, Schedule


class GradientDescent:
    """θ ← θ − ηₜ·∂L/∂θ with one η per run (the run axis is axis 0).

    ``schedule``: None for a constant rate (ηₜ = ``learning_rates``), or an object whose
    ``lr_at(t)`` gives the (K,) rates of update t (the range test's exponential ramp).

    On a quadratic with Hessian eigenvalue λ the error along its eigenvector is
    multiplied by (1 − ηλ) every step: it shrinks iff η < 2/λ, so the critical rate is
    2/λ_max, and the rate that shrinks the slowest and the fastest mode alike is
    2/(λ_lo + λ_max).
    """

    name = "gd"

    def __init__(self, learning_rates, schedule=None):
        self.learning_rates = np.asarray(learning_rates, dtype=float).reshape(-1)
        self.schedule = schedule
        self._neg_lr = -self.learning_rates[:, None]

    def lr_at(self, t: int) -> np.ndarray:
        """(K,) the learning rate of every run at update t."""
        if self.schedule is None:
            return self.learning_rates
        return np.asarray(self.schedule.lr_at(t), dtype=float)

    def update(self, grad: np.ndarray, t: int, out: np.ndarray) -> np.ndarray:
        """Write Δθ = −ηₜ·∂L/∂θ into ``out``."""
        neg_lr = self._neg_lr if self.schedule is None else -self.lr_at(t)[:, None]
        return np.multiply(grad, neg_lr, out=out)

    @staticmethod
    def critical_lr(lam_max):
        """η* = 2/λ_max: above it the steepest direction grows."""
        return 2.0 / lam_max

    def sharpness_limit(self, t: int = 0) -> np.ndarray:
        """(K,) 2/ηₜ: the λ_max above which each run's update t makes the steepest direction grow."""
        return 2.0 / self.lr_at(t)

    @staticmethod
    def best_lr(lam_lo, lam_max):
        """2/(λ_lo + λ_max): the constant rate that shrinks the slowest and the fastest mode alike."""
        return 2.0 / (lam_lo + lam_max)


RULES = {GradientDescent.name: GradientDescent}


# -- recipes: what each run trains with -------------------------------------------------
_R = RECIPE_FIELDS
OPTIMIZER_PARAMS = {        # the parameters each optimizer reads (PyTorch's argument names)
    "gd": (),
    "momentum": ("momentum",),
    "nesterov": ("momentum",),
    "rmsprop": ("alpha", "eps"),
    "adam": ("betas", "eps"),
}


@dataclass(frozen=True)
class Recipe:
    """One run: its learning rate, its optimizer with that optimizer's parameters, its schedule.

    The fields are core.fields.RECIPE_FIELDS' (``betas`` is beta1 and beta2 there); an optimizer
    reads only its own parameters (``OPTIMIZER_PARAMS``).  ``Recipe(lr)`` is plain gradient
    descent at a constant rate.
    """

    lr: float = 0.1
    optimizer: str = _R["optimizer"].default
    momentum: float = _R["momentum"].default
    alpha: float = _R["alpha"].default
    eps: float = _R["eps"].default
    betas: tuple = (_R["beta1"].default, _R["beta2"].default)
    schedule: Schedule = field(default_factory=Schedule)

    def check(self, steps: int | None = None, where: str = "") -> "Recipe":
        """Self with normalized types, or ConfigError naming the field and the value (``where``
        prefixes the message, e.g. "run 2: ").  With ``steps``, the schedule's budget checks too."""
        p = where
        try:
            lr = FIELDS["learning_rates"]._number(self.lr)
            opt = _R["optimizer"].check(self.optimizer)
            momentum = _R["momentum"].check(self.momentum)
            alpha = _R["alpha"].check(self.alpha)
            eps = _R["eps"].check(self.eps)
            try:
                b1, b2 = self.betas
            except (TypeError, ValueError):
                raise ConfigError(f"betas must be two numbers [beta1, beta2]; got {shown(self.betas)}") from None
            betas = (_R["beta1"].check(b1), _R["beta2"].check(b2))
            if not isinstance(self.schedule, Schedule):
                raise ConfigError(f"schedule must be a Schedule; got {shown(self.schedule)}")
            schedule = self.schedule.check(steps)
        except ConfigError as e:
            raise ConfigError(f"{p}{e}") from None
        if opt == "nesterov" and momentum == 0:
            raise ConfigError(f"{p}momentum must be > 0 for nesterov (PyTorch refuses it too); got 0")
        return Recipe(lr, opt, momentum, alpha, eps, betas, schedule)

    @property
    def params(self) -> tuple:
        """The names of the parameters its optimizer reads."""
        return OPTIMIZER_PARAMS.get(self.optimizer, ())

    @property
    def limit_factor(self) -> float:
        """c of the stability limit: critical rate c/λ_max, sharpness limit c/η (see the module)."""
        b = self.momentum
        return {"gd": 2.0, "momentum": 2.0 + 2.0 * b, "nesterov": (2.0 + 2.0 * b) / (1.0 + 2.0 * b),
                "rmsprop": 2.0, "adam": (2.0 + 2.0 * self.betas[0]) / (1.0 - self.betas[0])}[self.optimizer]

    @property
    def adaptive(self) -> bool:
        """Its limit is on the preconditioned sharpness (RMSprop, Adam)."""
        return self.optimizer in ("rmsprop", "adam")

    def to_dict(self) -> dict:
        """``{"lr": …, "optimizer": …, <its parameters>, "schedule": {…}}`` (PyTorch's names)."""
        d = {"lr": self.lr, "optimizer": self.optimizer}
        for k in self.params:
            d[k] = list(self.betas) if k == "betas" else getattr(self, k)
        d["schedule"] = self.schedule.to_dict()
        return d

    @classmethod
    def from_dict(cls, d, where: str = "run", base: "Recipe | None" = None) -> "Recipe":
        """The inverse of ``to_dict``; keys absent take ``base``'s values (not yet checked)."""
        if not isinstance(d, dict):
            raise ConfigError(f"{where} must be an object with lr, optimizer, …; got {shown(d)}")
        base = base or cls()
        known = {f.name for f in _dc_fields(cls)}
        for k in d:
            if k not in known:
                raise ConfigError(f"{where}: unknown key {shown(k)} (known: {', '.join(sorted(known))})")
        kw = dict(d)
        if "betas" in kw and isinstance(kw["betas"], list):
            kw["betas"] = tuple(kw["betas"])
        if "schedule" in kw:
            kw["schedule"] = Schedule.from_dict(kw["schedule"], where=f"{where} schedule")
        return replace(base, **kw)


# -- the optimizers, each vectorized over its rows --------------------------------------
class _GD:
    """θ ← θ − η·g."""

    def __init__(self, recipes):
        pass

    def update(self, g, lr, n, out):
        return np.multiply(g, -lr[:, None], out=out)


class _Momentum:
    """b ← g at the first update, else b ← β·b + g;  θ ← θ − η·b   (SGD, momentum=β)."""

    nesterov = False

    def __init__(self, recipes):
        self.beta = np.array([r.momentum for r in recipes])[:, None]
        self.buf = None

    def update(self, g, lr, n, out):
        if self.buf is None:
            self.buf = g.copy()                      # PyTorch: buf = grad.clone() at the first step
        else:
            self.buf *= self.beta                    # buf.mul_(β).add_(grad)
            self.buf += g
        if self.nesterov:
            np.multiply(self.buf, self.beta, out=out)    # grad.add(buf, alpha=β) = g + β·b
            out += g
            return np.multiply(out, -lr[:, None], out=out)
        return np.multiply(self.buf, -lr[:, None], out=out)


class _Nesterov(_Momentum):
    """b as momentum;  θ ← θ − η·(g + β·b)   (SGD, momentum=β, nesterov=True)."""

    nesterov = True


class _RMSprop:
    """s ← α·s + (1 − α)·g²;  θ ← θ − η·g/(√s + ε)   (RMSprop, momentum=0, centered=False)."""

    def __init__(self, recipes):
        self.alpha = np.array([r.alpha for r in recipes])[:, None]
        self.one_minus_alpha = 1.0 - self.alpha
        self.eps = np.array([r.eps for r in recipes])[:, None]
        self.square_avg = None
        self.avg = None                              # √s + ε of the last update: the preconditioner

    def update(self, g, lr, n, out):
        if self.square_avg is None:
            self.square_avg = np.zeros_like(g)
        s = self.square_avg
        s *= self.alpha                              # square_avg.mul_(α).addcmul_(g, g, value=1 − α)
        s += self.one_minus_alpha * g * g
        self.avg = np.sqrt(s)                        # avg = square_avg.sqrt().add_(eps)
        self.avg += self.eps
        np.multiply(g, -lr[:, None], out=out)        # param.addcdiv_(g, avg, value=−lr)
        return np.divide(out, self.avg, out=out)

    def preconditioner(self):
        return self.avg


class _PowTable:
    """1 − βⁿ (or its root) for the step count n = t + 1 with Python's ``**`` (the C pow PyTorch calls), a chunk of updates at
    a time, once per distinct β (a loop over distinct values, never over runs)."""

    CHUNK = 4096

    def __init__(self, betas, sqrt: bool = False):
        self.uniq, self.inv = np.unique(np.asarray(betas, dtype=float), return_inverse=True)
        self.sqrt, self.start, self.rows = sqrt, 0, np.empty((0, len(betas)))

    def at(self, n):
        """(K,) 1 − βⁿ of every run (√(1 − βⁿ) if ``sqrt``)."""
        if not self.start <= n < self.start + len(self.rows):
            cols = []
            for b in self.uniq.tolist():
                bc = [1 - b ** float(i) for i in range(n, n + self.CHUNK)]
                cols.append([x ** 0.5 for x in bc] if self.sqrt else bc)
            self.start, self.rows = n, np.array(cols).T[:, self.inv]
        return self.rows[n - self.start]


class _Adam:
    """m ← m + (1 − β1)(g − m);  v ← β2·v + (1 − β2)·g²;
    θ ← θ − (η/(1 − β1ⁿ))·m/(√v/√(1 − β2ⁿ) + ε)   (Adam, amsgrad=False, weight_decay=0)."""

    def __init__(self, recipes):
        b1 = np.array([r.betas[0] for r in recipes])
        b2 = np.array([r.betas[1] for r in recipes])
        self.w = (1.0 - b1)[:, None]                 # lerp's weight 1 − β1
        self.small = np.abs(self.w) < 0.5            # PyTorch's lerp: two formulas, by the weight
        self.one_minus_w = 1.0 - self.w
        self.beta2 = b2[:, None]
        self.one_minus_beta2 = 1.0 - self.beta2
        self.eps = np.array([r.eps for r in recipes])[:, None]
        self.bc1 = _PowTable(b1)
        self.bc2_sqrt = _PowTable(b2, sqrt=True)
        self.m = self.v = self.denom = None

    def update(self, g, lr, n, out):
        if self.m is None:
            self.m, self.v = np.zeros_like(g), np.zeros_like(g)
        m, v = self.m, self.v
        diff = g - m
        if self.small.all():                         # exp_avg.lerp_(g, 1 − β1)
            diff *= self.w
            m += diff
        else:
            m[:] = np.where(self.small, m + self.w * diff, g - diff * self.one_minus_w)
        v *= self.beta2                              # exp_avg_sq.mul_(β2).addcmul_(g, g, value=1 − β2)
        v += self.one_minus_beta2 * g * g
        step_size = lr / self.bc1.at(n)              # lr / (1 − β1ⁿ)
        self.denom = np.sqrt(v)                      # (√v / √(1 − β2ⁿ)).add_(eps)
        self.denom /= self.bc2_sqrt.at(n)[:, None]
        self.denom += self.eps
        np.multiply(m, -step_size[:, None], out=out)     # param.addcdiv_(m, denom, value=−step_size)
        return np.divide(out, self.denom, out=out)

    def preconditioner(self):
        return self.denom


KINDS = {"gd": _GD, "momentum": _Momentum, "nesterov": _Nesterov, "rmsprop": _RMSprop, "adam": _Adam}
assert set(KINDS) == set(OPTIMIZERS)


class MixedRule:
    """K runs, each with its own ``Recipe`` (rate, optimizer and parameters, schedule), in lockstep.

    The runs are grouped by optimizer; ``update`` calls each group's vectorized update on its
    rows (no fancy indexing when every run shares one optimizer).  ``steps`` is the budget the
    schedules span.  ``schedule`` (an object with ``lr_at(t)`` → (K,), the range test's ramp)
    replaces the recipes' schedules.
    """

    name = "mixed"

    def __init__(self, recipes, steps: int, schedule=None):
        self.recipes = tuple(recipes)
        self.steps = int(steps)
        self.learning_rates = np.array([r.lr for r in self.recipes], dtype=float)
        self.schedule = schedule
        self.rates = RateTable(self.learning_rates, [r.schedule for r in self.recipes], self.steps)
        self.limit_factors = np.array([r.limit_factor for r in self.recipes])
        self.adaptive = np.array([r.adaptive for r in self.recipes], dtype=bool)
        K = len(self.recipes)
        self.groups = []                             # (kind, rows: slice or index array, update object)
        for kind, cls in KINDS.items():
            rows = np.array([k for k, r in enumerate(self.recipes) if r.optimizer == kind], dtype=int)
            if rows.size:
                sel = slice(None) if rows.size == K else rows
                self.groups.append((kind, sel, cls([self.recipes[k] for k in rows])))

    def lr_at(self, t: int) -> np.ndarray:
        """(K,) the rate of every run at update t."""
        if self.schedule is not None:
            return np.asarray(self.schedule.lr_at(t), dtype=float)
        return self.rates.lr_at(t)

    def rate_table(self, start: int, stop: int) -> np.ndarray:
        """(stop − start, K) every run's rate of updates start … stop − 1 (the η_t plot)."""
        if self.schedule is not None:
            return np.array([self.lr_at(t) for t in range(start, stop)])
        return self.rates.table(start, stop)

    def update(self, grad: np.ndarray, t: int, out: np.ndarray) -> np.ndarray:
        """Write every run's Δθ of update t into ``out``."""
        lr = self.lr_at(t)
        n = t + 1                                    # PyTorch's step count (Adam's bias corrections)
        for _, rows, opt in self.groups:
            if isinstance(rows, slice):
                opt.update(grad, lr, n, out)
            else:
                o = np.empty((rows.size, grad.shape[1]))
                opt.update(grad[rows], lr[rows], n, o)
                out[rows] = o
        return out

    def critical_lr(self, lam_max) -> np.ndarray:
        """(K,) each run's critical rate c/λ_max (λ_max: preconditioned for adaptive runs)."""
        return self.limit_factors / np.asarray(lam_max, dtype=float)

    def sharpness_limit(self, t: int = 0) -> np.ndarray:
        """(K,) c/ηₜ: the (preconditioned, for adaptive runs) λ_max above which update t grows."""
        return self.limit_factors / self.lr_at(t)

    def best_lr(self, lam_lo, lam_max) -> np.ndarray:
        """(K,) 2/(λ_lo + λ_max) for gradient-descent runs; NaN for the others (no such constant)."""
        return np.where([r.optimizer == "gd" for r in self.recipes], 2.0 / (lam_lo + lam_max), np.nan)

    def preconditioner(self, n_params: int) -> np.ndarray:
        """(K, P) the diagonal P of each run's last update: √v̂ + ε (Adam), √s + ε (RMSprop), 1 for
        the others and before the first update."""
        P = np.ones((len(self.recipes), n_params))
        for _, rows, opt in self.groups:
            p = getattr(opt, "preconditioner", lambda: None)()
            if p is not None:
                P[rows] = p
        return P


def rule_for(recipes, steps: int, schedule=None):
    """The rule of these recipes: ``GradientDescent`` (today's numbers, bit for bit) when every run
    is gradient descent at a constant rate and ``schedule`` is None or a ramp, else ``MixedRule``."""
    recipes = tuple(recipes)
    lrs = [r.lr for r in recipes]
    if all(r.optimizer == "gd" and r.schedule.is_constant for r in recipes):
        return GradientDescent(lrs, schedule=schedule)
    return MixedRule(recipes, steps, schedule=schedule)
