"""Copy as PyTorch: one experiment as a standalone PyTorch script.

``torch_script(experiment)`` returns the text of a Python script that needs torch and numpy
only (no LR Lab import) and does what ``train --csv`` does:

* the same data and initial parameters, written into the script as literals (each float as
  its shortest round-trip ``repr``, so they are the same float64 numbers to the bit);
* the model as a ``torch.nn.Module`` in float64, with LR Lab's parameters: ``w1``, ``b1``,
  ``w2`` (H each) and ``b2`` for the network (z1 = w1·x + b1, a1 = σ(z1), y_pred = a1·w2 + b2),
  ``w`` and ``b`` for the model without a hidden layer; the loss mean((y_pred − y)²);
* every run's optimizer (``torch.optim.SGD`` for gd, momentum and nesterov, ``RMSprop``,
  ``Adam``) and scheduler (``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR`` with T_max =
  the updates after the warmup, ``OneCycleLR`` with ``cycle_momentum=False``; a warmup is
  ``LinearLR`` in front, through ``SequentialLR``), as core.optim and core.schedules describe;
* training for the same number of updates, one run after another: full batch, or with the
  experiment's batch size B < N on LR Lab's batches (core.batches), which the script draws the
  documented way, ``numpy.random.default_rng(numpy.random.SeedSequence(seed).spawn(3)[2])``, one
  ``permutation(N)`` an epoch cut into batches of B (never PyTorch's shuffling), and checks
  against the order written into it (the first epoch's, and a checksum of every epoch it uses);
  the loss recorded after every update is the loss on the whole data set, as in LR Lab, and the
  update descends the batch loss (forward, loss, backward, step);
* a run whose loss is no longer finite or passes LR Lab's divergence bound, 1e6 × max(mean(y²),
  initial loss) (core.outcomes), stops there as in LR Lab: that step's loss is written if finite,
  the later cells are empty (under mini-batches the bound is tested on the whole-data loss and on
  the loss of the batch the next update would descend, as core.engine tests it);
* the losses in LR Lab's CSV format (``step`` then one column per run headed as LR Lab heads
  it, full float64 precision, an empty cell for a missing loss), to the path it is given.

Run on the same experiment, its CSV equals ``train --csv`` to about 1e-9 (tests/test_export_torch.py
compares them where PyTorch is installed): both compute the same float64 formulas, in an order
that differs only in the rounding of sums.
"""
from __future__ import annotations

import numpy as np

from .outcomes import DIVERGENCE_FACTOR
from .recipes import column_labels

_ACTIVATIONS = {"sigmoid": "torch.sigmoid(z1)", "tanh": "torch.tanh(z1)", "relu": "torch.relu(z1)",
                "identity": "z1"}


def _floats(values) -> str:
    return "[" + ", ".join(repr(float(v)) for v in np.asarray(values, dtype=float).ravel().tolist()) + "]"


def _model_code(experiment, theta0) -> str:
    spec = experiment.model_spec()
    if not spec.has_hidden_layer:
        return f'''INIT = {{"w": {float(theta0[0])!r}, "b": {float(theta0[1])!r}}}


class Model(torch.nn.Module):
    """The model without a hidden layer: y_pred = w·x + b."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(INIT["w"], dtype=torch.float64))
        self.b = torch.nn.Parameter(torch.tensor(INIT["b"], dtype=torch.float64))

    def forward(self, x):
        return self.w * x + self.b
'''
    H = spec.hidden
    w1, b1, w2, b2 = theta0[:H], theta0[H:2 * H], theta0[2 * H:3 * H], theta0[3 * H]
    activation = _ACTIVATIONS[spec.activation]
    return f'''INIT = {{
    "w1": {_floats(w1)},
    "b1": {_floats(b1)},
    "w2": {_floats(w2)},
    "b2": {float(b2)!r},
}}


class Model(torch.nn.Module):
    """LR Lab's network 1 → {H} → 1: z1 = w1·x + b1, a1 = {spec.activation}(z1), y_pred = a1·w2 + b2."""

    def __init__(self):
        super().__init__()
        for name in ("w1", "b1", "w2", "b2"):
            setattr(self, name, torch.nn.Parameter(torch.tensor(INIT[name], dtype=torch.float64)))

    def forward(self, x):
        z1 = x[:, None] * self.w1 + self.b1          # (N, H)
        a1 = {activation}
        return a1 @ self.w2 + self.b2                # (N,)
'''


def order_checksum(perms) -> int:
    """A fingerprint of the epochs' orders: Σₑ (e + 1)·Σᵢ i·permₑ[i] (the script computes it too)."""
    return sum((e + 1) * int(np.dot(np.asarray(p, dtype=np.int64), np.arange(len(p), dtype=np.int64)))
               for e, p in enumerate(perms))


def _batch_code(exp, n_samples) -> str:
    """The script's batch settings: None at full batch; else the first epoch's order and the
    checksum of every epoch the run draws from (batches 0 … steps: core.engine takes the loss of
    batch ``steps`` too), for the script to check its numpy against."""
    B = exp.batch_size
    if B is None or B >= n_samples:
        return "BATCH_SIZE = None                 # full batch: every update sees all the data\nFIRST_ORDER = None\nORDER_CHECKSUM = None"
    per_epoch = -(-n_samples // B)
    rng = exp.rngs()[2]
    perms = [rng.permutation(n_samples) for _ in range(exp.steps // per_epoch + 1)]
    return (f"BATCH_SIZE = {int(B)}\n"
            f"SEED = {int(exp.seed)}\n"
            f"FIRST_ORDER = {[int(i) for i in perms[0]]!r}     # LR Lab's order of the first epoch\n"
            f"ORDER_CHECKSUM = {order_checksum(perms)}     # order_checksum of every epoch the runs use")


def torch_script(experiment) -> str:
    """The standalone PyTorch script of ``experiment`` (validated); see the module's docstring."""
    exp = experiment.validated()
    data = exp.make_data()
    batched = exp.batch_size is not None and exp.batch_size < len(data)
    theta0 = np.asarray(exp.initial_params(), dtype=float)
    recipes = exp.recipes()
    runs = [{"column": label, **r.to_dict()} for label, r in zip(column_labels(recipes), recipes)]
    runs_text = "[\n" + "".join(f"    {r!r},\n" for r in runs) + "]"
    experiment_json = "\n".join("#   " + line for line in exp.to_json().splitlines())
    return f'''#!/usr/bin/env python3
"""LR Lab's experiment as a standalone PyTorch script (written by `main.py export-torch`).

Usage:  python {{this script}} OUT.csv

Trains every run ({"on LR Lab's mini-batches of " + str(exp.batch_size) + " samples" if batched else "full batch"}, float64, one run after another) with torch.optim and
torch.optim.lr_scheduler and writes the loss {"on the whole data set " if batched else ""}after every update in LR Lab's CSV format:
`step`, then one column per run.  LR Lab's `train --csv` on the same experiment writes the
same numbers (to ~1e-9).  Needs torch and numpy only.

The experiment, as LR Lab saves it:
"""
{experiment_json}
import math
import sys

import numpy as np
import torch

STEPS = {exp.steps}
DIVERGENCE_FACTOR = {DIVERGENCE_FACTOR!r}     # LR Lab stops a run whose loss passes this × max(mean(y²), initial loss)
X = {_floats(data.x)}
Y = {_floats(data.y)}
{_batch_code(exp, len(data))}
{_model_code(exp, theta0)}

# One entry per run, in the order of the CSV's columns: its rate, optimizer and schedule.
RUNS = {runs_text}


def make_optimizer(params, run):
    """The run's torch.optim optimizer (single-tensor code path: foreach=False)."""
    lr, name = run["lr"], run["optimizer"]
    if name == "gd":
        return torch.optim.SGD(params, lr=lr, foreach=False)
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD(params, lr=lr, momentum=run["momentum"], dampening=0,
                               nesterov=name == "nesterov", foreach=False)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=run["alpha"], eps=run["eps"], foreach=False)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(run["betas"]), eps=run["eps"], foreach=False)
    raise ValueError(name)


def make_scheduler(optimizer, run):
    """The run's torch.optim.lr_scheduler (None for a constant rate).  A warmup is LinearLR in
    front of the decay (SequentialLR); the decay spans the updates after it."""
    s = run["schedule"]
    warmup = s.get("warmup")
    W = warmup["steps"] if warmup else 0
    T = STEPS - W
    sched = torch.optim.lr_scheduler
    name = s["name"]
    warm = (sched.LinearLR(optimizer, start_factor=warmup["start_factor"], end_factor=1.0, total_iters=W)
            if warmup else None)
    if name == "constant":
        return warm
    if name == "step":
        decay = sched.StepLR(optimizer, step_size=s["step_size"], gamma=s["gamma"])
    elif name == "exponential":
        decay = sched.ExponentialLR(optimizer, gamma=s["gamma"])
    elif name == "cosine":
        decay = sched.CosineAnnealingLR(optimizer, T_max=T, eta_min=s["eta_min"])
    elif name == "one-cycle":
        decay = sched.OneCycleLR(optimizer, max_lr=run["lr"], total_steps=T, pct_start=s["pct_start"],
                                 anneal_strategy="cos", cycle_momentum=False, div_factor=s["div_factor"],
                                 final_div_factor=s["final_div_factor"], three_phase=False)
    else:
        raise ValueError(name)
    return decay if warm is None else sched.SequentialLR(optimizer, [warm, decay], milestones=[W])


def order_checksum(perms):
    return sum((e + 1) * int(np.dot(np.asarray(p, dtype=np.int64), np.arange(len(p), dtype=np.int64)))
               for e, p in enumerate(perms))


def batch_indices():
    """batch(t): the sample indices of batch t, t = 0 … STEPS (update t + 1 descends batch t), drawn
    as LR Lab draws them: one permutation(N) an epoch of the seed's third stream, cut into batches
    of BATCH_SIZE (the last one smaller when it does not divide N).  None at full batch."""
    if BATCH_SIZE is None:
        return None
    n = len(X)
    rng = np.random.default_rng(np.random.SeedSequence(SEED).spawn(3)[2])
    per_epoch = -(-n // BATCH_SIZE)
    perms = [rng.permutation(n) for _ in range(STEPS // per_epoch + 1)]
    if perms[0].tolist() != FIRST_ORDER or order_checksum(perms) != ORDER_CHECKSUM:
        sys.exit(f"numpy {{np.__version__}} draws another batch order than the LR Lab that wrote this "
                 "script: its losses would not be LR Lab's")
    orders = np.stack(perms)                       # (epochs, N)

    def batch(t):
        epoch, j = divmod(t, per_epoch)
        return torch.from_numpy(orders[epoch, j * BATCH_SIZE:(j + 1) * BATCH_SIZE].copy())
    return batch


def train(run, x, y, bound, batches):
    """The loss on the whole data set after 0 … STEPS updates (NaN after the run passed the bound).
    ``batches(t)``: the indices of batch t, which update t + 1 descends (None: full batch)."""
    model = Model()
    optimizer = make_optimizer(model.parameters(), run)
    scheduler = make_scheduler(optimizer, run)
    losses = [math.nan] * (STEPS + 1)

    def batch_loss(t):                             # the loss update t + 1 descends, at the parameters now
        if batches is None:
            return torch.mean((model(x) - y) ** 2)
        i = batches(t)
        return torch.mean((model(x[i]) - y[i]) ** 2)

    def whole_loss():
        with torch.no_grad():
            return torch.mean((model(x) - y) ** 2).item()

    loss = batch_loss(0)
    losses[0] = loss.item() if batches is None else whole_loss()
    for t in range(STEPS):
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        loss = batch_loss(t + 1)
        value = loss.item()
        whole = value if batches is None else whole_loss()
        if not (value <= bound and whole <= bound):   # blew up: LR Lab stops the run here
            tested = whole if value <= bound else value
            losses[t + 1] = whole if math.isfinite(tested) else math.nan
            break
        losses[t + 1] = whole
    return losses


def cell(v):
    return repr(v) if math.isfinite(v) else ""


def main(out_path):
    x = torch.tensor(X, dtype=torch.float64)
    y = torch.tensor(Y, dtype=torch.float64)
    with torch.no_grad():
        loss0 = torch.mean((Model()(x) - y) ** 2).item()
    bound = DIVERGENCE_FACTOR * max([float(np.mean(np.square(np.array(Y))))]
                                    + ([loss0] if math.isfinite(loss0) else []) + [1e-300])
    batches = batch_indices()
    columns = [train(run, x, y, bound, batches) for run in RUNS]
    with open(out_path, "w", newline="") as fh:
        fh.write(",".join(["step"] + [run["column"] for run in RUNS]) + "\\n")
        for t in range(STEPS + 1):
            fh.write(f"{{t}},{{','.join(cell(c[t]) for c in columns)}}\\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: python {{sys.argv[0]}} OUT.csv")
    main(sys.argv[1])
'''
