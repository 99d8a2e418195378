"""Training engine: K learning rates stepped in lockstep as one vectorized computation.

Every run starts from the same parameters on the same data, so the learning rate is
the only difference between runs.  ``losses[k, t]`` is run k's loss after t updates,
for every t: an oscillation of period 2 would vanish if only every second step were
kept.  The outcome of every run is kept current while it trains (see ``outcomes``).

Mini-batches (``batch_size`` B < N): update t + 1 takes the gradient on batch t of the
order core.batches describes (the same batches for every run).  ``losses`` stays the loss
on the whole data set after every update (a forward pass alone), so curves compare across
batch sizes; ``batch_losses[k, t]`` is run k's loss on batch t at θ_t, the loss the update
after it descends (PyTorch's loop: forward, loss, backward, step).  At full batch the two are
one array.  With ``loss_every="epoch"`` the whole-data loss is computed only after every
epoch (and at the end of the budget), NaN at the other steps: for speed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .batches import BatchOrder
from .curvature import eigenvalues, preconditioned_eigenvalues
from .data import Dataset
from .models import ModelSpec
from .optim import GradientDescent
from . import outcomes as oc


@dataclass(frozen=True)
class Progress:
    """What a viewer needs after a batch of steps (plain arrays, safe to hand to another thread)."""
    t: int                       # updates done so far
    start: int                   # first step whose loss is in ``losses``
    losses: np.ndarray           # (K, t − start + 1): losses[k, start … t]
    theta: np.ndarray            # (K, P) current parameters
    grad: np.ndarray             # (K, P) ∂L/∂θ at the current parameters
    delta: np.ndarray            # (K, P) the last update Δθ (θ_t − θ_{t−1})
    outcomes: tuple              # one outcome string per run
    diverged_step: np.ndarray    # (K,) step at which each run diverged, −1 if it has not
    stopped: np.ndarray          # (K,) bool: the run blew up and no longer updates
    sharpness_steps: tuple = ()  # steps at which λ_max was measured (sharpness_every > 0)
    sharpness: np.ndarray | None = None     # (K, M) λ_max of every run at those steps
    dead_units: np.ndarray | None = None    # (K,) ReLU units that output 0 on every sample
    # (K, M) λ_max of P^(−1/2) H P^(−1/2) at ``sharpness_steps`` (P: the run's preconditioner, core.optim);
    # NaN for the runs that are not adaptive (RMSprop, Adam); None when no run is
    preconditioned_sharpness: np.ndarray | None = None
    batch_losses: np.ndarray | None = None  # (K, t − start + 1) the mini-batch losses (None at full batch)
    updates_per_epoch: int = 1              # ceil(N/B): epochs done = t / updates_per_epoch


class Trainer:
    """K runs of one model on one data set, trained in lockstep by one update rule.

    Build it with ``Experiment.trainer`` (which picks the experiment's update rule);
    ``rule`` is a core.optim rule, gradient descent at ``learning_rates`` by default.
    Every update takes the gradient on the whole data set (full batch), or, with
    ``batch_size`` B < N, on the batches of ``batch_rng`` (core.batches); ``loss_every``
    ("update" or "epoch") says when the whole-data loss is recorded then (module docstring).

    ``theta0`` is one parameter vector shared by every run (the usual case: the learning
    rate is then the only difference), or one row per run.  With ``sharpness_every`` = k
    > 0 the top and bottom Hessian eigenvalues of every run are measured at step 0 and
    every k steps (``sharpness_steps``, ``sharpness``, ``lambda_min``).  Training only
    notes the parameters at those steps; the eigenvalues are worked out, in batches, when
    ``sharpness`` or ``lambda_min`` is read (a window that does not show them does not
    pay for them while it trains).  For adaptive runs (RMSprop, Adam: the rule's ``adaptive``)
    it also notes the rule's ``preconditioner`` P there, and ``preconditioned_sharpness`` is
    λ_max of P^(−1/2) H P^(−1/2), from the same Hessians (NaN for the other runs).
    """

    def __init__(self, data: Dataset, model: ModelSpec, learning_rates, theta0: np.ndarray,
                 steps: int, rule=None, sharpness_every: int = 0, batch_size: int | None = None,
                 batch_rng: np.random.Generator | None = None, loss_every: str = "update"):
        self.data, self.model = data, model
        self.hidden, self.activation = model.hidden, model.activation
        self.learning_rates = np.asarray(learning_rates, dtype=float)
        self.steps = int(steps)
        K = self.runs = self.learning_rates.size
        self.rule = rule or GradientDescent(self.learning_rates)
        self.net = model.build(runs=K)
        theta0 = np.asarray(theta0, dtype=float)
        # C-ordered whatever K (np.array would keep the broadcast's layout, Fortran for K > 1),
        # so each run's products see the same strides as a run alone (see network.MLP)
        self.theta = np.array(np.broadcast_to(theta0, (K, model.n_params)), order="C")
        self.grad = np.empty_like(self.theta)
        # The last W + 1 updates and the parameters after them (W = the outcome window), in
        # rings indexed by step % (W + 1): the update rule writes each update straight into its
        # slot, and the outcome monitor reads the window once per batch, not every step.
        R = oc.WINDOW + 1
        self._deltas = np.zeros((R,) + self.theta.shape)
        self._thetas = np.zeros((R,) + self.theta.shape)
        self._delta_slots = list(self._deltas)
        self._theta_slots = list(self._thetas)
        # float64 on purpose: the CSV promises full precision.  np.empty pages memory in
        # lazily, so a long budget costs only what has been trained: 8·K bytes a step.
        # Stored step-major (row t: every run's loss after t updates), so a step writes
        # one short row and memory is paged in in the order it is trained; ``losses`` is
        # the (K, steps + 1) view of it.
        self._loss_rows = np.empty((self.steps + 1, K))
        self.losses = self._loss_rows.T
        self.t = 0
        self.active = np.ones(K, dtype=bool)
        self._stopped_rows = None             # the runs that stopped (an index array), once any did
        self.diverged_step = np.full(K, -1)
        N = len(data)
        if loss_every not in ("update", "epoch"):
            raise ValueError(f"loss_every must be 'update' or 'epoch'; got {loss_every!r}")
        self.batch_size = None if batch_size is None or int(batch_size) >= N else int(batch_size)
        self.loss_every = loss_every if self.batch_size else "update"
        if self.batch_size is None:                    # full batch: the batch loss is the loss
            self.updates_per_epoch, self.batch_losses = 1, self.losses
            with np.errstate(all="ignore"):
                loss0 = self.net.loss_and_grad(self.theta, data.x, data.y, self.grad)
        else:
            if batch_rng is None:
                raise ValueError("Trainer: a batch size needs batch_rng (Experiment.rngs()[2])")
            self._order = BatchOrder(N, self.batch_size, batch_rng)
            self.updates_per_epoch = self._order.per_epoch
            self._batch_rows = np.empty((self.steps + 1, K))
            self.batch_losses = self._batch_rows.T
            # One network, hence one work area, per size: all the data, a batch, the last smaller batch.
            self._nets = {N: self.net}
            self._r = np.empty((K, N))
            with np.errstate(all="ignore"):
                loss0 = self._whole_loss()
                self._batch_rows[0] = self._batch_grad(0)
        self.losses[:, 0] = loss0
        self.bound = oc.divergence_bound(loss0, data.y)
        self.monitor = oc.OutcomeMonitor(K, floor=oc.loss_floor(data.y), noisy=self.batch_size is not None)
        self._mark_diverged(loss0)
        self.sharpness_every = int(sharpness_every)
        self.sharpness_steps, self._lam_max, self._lam_min = [], [], []
        self._unmeasured = []                   # (θ, active, P or None) at the steps not yet measured
        adaptive = getattr(self.rule, "adaptive", None)
        self._adaptive = None if adaptive is None or not np.any(adaptive) else np.asarray(adaptive, dtype=bool)
        self._lam_pre = []
        if self.sharpness_every:
            self._note_sharpness()

    @property
    def done(self) -> bool:
        return self.t >= self.steps

    @property
    def delta(self) -> np.ndarray:
        """(K, P) the last update Δθ = θ_t − θ_{t−1} (zeros before the first)."""
        return self._deltas[self.t % len(self._deltas)]

    # -- mini-batches ----------------------------------------------------------------------
    def _whole_loss(self) -> np.ndarray:
        """(K,) the loss on all the data at θ: a forward pass and a mean of squares, no gradient."""
        r = np.subtract(self.net.forward(self.theta, self.data.x), self.data.y, out=self._r)
        return np.einsum("kn,kn->k", r, r) / r.shape[1]

    def _batch_grad(self, t: int) -> np.ndarray:
        """(K,) the loss of batch t at θ; its gradient into ``grad`` (for update t + 1)."""
        idx = self._order.indices(t)
        net = self._nets.get(idx.size)
        if net is None:
            net = self._nets[idx.size] = self.model.build(runs=self.runs)
        return net.loss_and_grad(self.theta, self.data.x[idx], self.data.y[idx], self.grad)

    def epochs(self, t: int | None = None) -> float:
        """Epochs done after t updates (default: now): t / updates_per_epoch (1 at full batch)."""
        return (self.t if t is None else t) / self.updates_per_epoch

    def step(self, n: int = 1) -> int:
        """Take up to ``n`` updates (fewer at the end of the budget); returns how many."""
        if self.batch_size is not None:
            return self._step_batches(n)
        n = max(0, min(int(n), self.steps - self.t))
        theta, grad, net, rows, bound = self.theta, self.grad, self.net, self._loss_rows, self.bound
        x, y = self.data.x, self.data.y
        update, deltas, thetas = self.rule.update, self._delta_slots, self._theta_slots
        R, t, every = len(deltas), self.t, self.sharpness_every
        t0 = t
        keep_from = t0 + n - oc.WINDOW      # the outcome monitor reads θ of the batch's last WINDOW steps only
        with np.errstate(all="ignore"):      # overflow is detected below, never printed
            for _ in range(n):
                delta = deltas[(t + 1) % R]
                update(grad, t, out=delta)                          # Δθ (gradient descent: −η·∂L/∂θ)
                if self._stopped_rows is not None:                  # a stopped run stays where it is
                    delta[self._stopped_rows] = 0.0
                theta += delta
                loss = net.loss_and_grad(theta, x, y, grad)
                self.t = t = t + 1
                rows[t] = loss
                if t > keep_from:
                    np.copyto(thetas[t % R], theta)
                # Losses are ≥ 0, so a sum within the bound means every one is; NaN or inf
                # anywhere makes the sum fail the test too.  (A stopped run's loss is that of
                # its kept parameters, within the bound.)
                if not (sum(loss.tolist()) <= bound):
                    self._mark_diverged(loss)
                if every and t % every == 0:
                    self._note_sharpness()
            self.monitor.record_ring(self._deltas, self._thetas, t, n)
        self._blank_stopped(t0 + 1, t + 1)
        self.monitor.classify(self.losses, self.t, self.active)
        return n

    def _step_batches(self, n: int) -> int:
        """``step`` with mini-batches: the update from batch t's gradient, then the whole-data
        loss (every update, or once an epoch) and batch t + 1's loss and gradient."""
        n = max(0, min(int(n), self.steps - self.t))
        theta, rows, brows, bound = self.theta, self._loss_rows, self._batch_rows, self.bound
        update, deltas, thetas = self.rule.update, self._delta_slots, self._theta_slots
        R, t, every, U = len(deltas), self.t, self.sharpness_every, self.updates_per_epoch
        per_epoch = self.loss_every == "epoch"
        t0 = t
        keep_from = t0 + n - oc.WINDOW
        with np.errstate(all="ignore"):
            for _ in range(n):
                delta = deltas[(t + 1) % R]
                update(self.grad, t, out=delta)
                if self._stopped_rows is not None:
                    delta[self._stopped_rows] = 0.0
                theta += delta
                self.t = t = t + 1
                if not per_epoch or t % U == 0 or t == self.steps:
                    loss = rows[t] = self._whole_loss()
                else:
                    rows[t] = np.nan
                    loss = None
                batch = brows[t] = self._batch_grad(t)
                if t > keep_from:
                    np.copyto(thetas[t % R], theta)
                # The bound is tested on the whole-data loss when it was computed, and on the
                # batch loss at every step (a batch's loss blows up with the run).
                if not (sum(batch.tolist()) <= bound) or (loss is not None and not (sum(loss.tolist()) <= bound)):
                    self._mark_diverged(batch if loss is None else np.where(batch <= bound, loss, batch))
                if every and t % every == 0:
                    self._note_sharpness()
            self.monitor.record_ring(self._deltas, self._thetas, t, n)
        self._blank_stopped(t0 + 1, t + 1)
        self.monitor.classify(self.batch_losses if per_epoch else self.losses, self.t, self.active,
                              start=self.losses[:, 0])
        return n

    def _mark_diverged(self, loss: np.ndarray) -> None:
        """Stop the runs whose loss is no longer finite or passed the bound.

        A stopped run keeps its last parameters whose loss was within the bound (its
        updates are set to 0 from then on, whatever the update rule); its later
        losses are NaN (empty cells in the CSV, blanked by ``_blank_stopped``); the
        other runs go on.
        """
        new = self.active & ~(loss <= self.bound)
        if not new.any():
            return
        if self.t > 0:
            self.theta[new] -= self.delta[new]
        self.active &= ~new
        self.diverged_step[new] = self.t
        self.losses[new & ~np.isfinite(loss), self.t] = np.nan
        if self.batch_size is not None:
            self.batch_losses[new, self.t] = np.nan
        self.grad[new] = 0.0                     # it was taken where the run blew up
        self._stopped_rows = np.flatnonzero(~self.active)

    def _blank_stopped(self, a: int, b: int) -> None:
        """NaN for the losses of steps [a, b) after the step each stopped run blew up at."""
        for k in np.flatnonzero(~self.active):
            self._loss_rows[max(a, self.diverged_step[k] + 1):b, k] = np.nan
            if self.batch_size is not None:
                self._batch_rows[max(a, self.diverged_step[k] + 1):b, k] = np.nan

    def hessian(self) -> np.ndarray:
        """(K, P, P) the exact Hessian of every run's loss at its current parameters."""
        return self.model.hessian(self.theta, self.data.x, self.data.y)

    def _note_sharpness(self) -> None:
        """Note this step's parameters (and which runs still train, and the adaptive runs'
        preconditioner: that of the update that led here) for a λ measurement."""
        self.sharpness_steps.append(self.t)
        pre = None if self._adaptive is None else self.rule.preconditioner(self.theta.shape[1])[self._adaptive]
        self._unmeasured.append((self.theta.copy(), self.active.copy(), pre))

    def _measure_noted(self, batch: int = 32) -> None:
        """λ_max and λ_min at the noted steps, ``batch`` steps' worth of Hessians at a time."""
        K = self.runs
        while self._unmeasured:
            noted, self._unmeasured = self._unmeasured[:batch], self._unmeasured[batch:]
            hess = self.model.hessian(np.concatenate([th for th, _, _ in noted]), self.data.x, self.data.y)
            ev = eigenvalues(hess)
            stopped = ~np.concatenate([active for _, active, _ in noted])
            top, bottom = ev[:, -1].copy(), ev[:, 0].copy()
            top[stopped] = bottom[stopped] = np.nan             # a stopped run has no curvature to show
            self._lam_max.extend(top.reshape(-1, K))
            self._lam_min.extend(bottom.reshape(-1, K))
            if self._adaptive is not None:
                rows = np.tile(self._adaptive, len(noted))      # the adaptive runs' Hessians, step by step
                pre = np.full(top.shape, np.nan)
                pre[rows] = preconditioned_eigenvalues(hess[rows], np.concatenate([p for _, _, p in noted]))[:, -1]
                pre[stopped] = np.nan
                self._lam_pre.extend(pre.reshape(-1, K))

    @property
    def sharpness(self) -> np.ndarray:
        """(K, M) λ_max of every run at each step of ``sharpness_steps``."""
        self._measure_noted()
        return np.array(self._lam_max).reshape(-1, self.runs).T

    @property
    def preconditioned_sharpness(self) -> np.ndarray | None:
        """(K, M) λ_max of P^(−1/2) H P^(−1/2) at ``sharpness_steps`` for the adaptive runs (NaN for
        the others); None when no run is adaptive."""
        if self._adaptive is None:
            return None
        self._measure_noted()
        return np.array(self._lam_pre).reshape(-1, self.runs).T

    @property
    def lambda_min(self) -> np.ndarray:
        """(K, M) the smallest Hessian eigenvalue of every run at ``sharpness_steps``."""
        self._measure_noted()
        return np.array(self._lam_min).reshape(-1, self.runs).T

    def run(self, chunk: int = 1000):
        """Generator: train to the end of the budget, yielding a Progress after every chunk."""
        while not self.done:
            start = self.t
            self.step(chunk)
            yield self.progress(start)

    def progress(self, start: int = 0, sharpness: bool = True) -> Progress:
        """The state after the last step, with the losses from step ``start`` on; with the
        sharpness history (measured now if need be) unless ``sharpness`` is False."""
        dead = self.model.dead_units(self.theta, self.data.x)
        grad = self.grad.copy()
        grad[~self.active] = 0.0                 # a stopped run no longer moves
        return Progress(self.t, start, self.losses[:, start:self.t + 1].copy(), self.theta.copy(),
                        grad, self.delta.copy(), self.outcomes, self.diverged_steps(), ~self.active,
                        tuple(self.sharpness_steps), self.sharpness if self.sharpness_every and sharpness else None,
                        dead, self.preconditioned_sharpness if self.sharpness_every and sharpness else None,
                        None if self.batch_size is None else self.batch_losses[:, start:self.t + 1].copy(),
                        self.updates_per_epoch)

    @property
    def outcomes(self) -> tuple:
        return self.monitor.outcomes

    def diverged_steps(self) -> np.ndarray:
        """(K,) the step each run diverged at (blew up, or began climbing), −1 if it has not."""
        return np.where(self.active, self.monitor.climbed_step, self.diverged_step)

    def loss_history(self) -> np.ndarray:
        """(K, t + 1) view of every loss recorded so far (NaN after a run diverged)."""
        return self.losses[:, :self.t + 1]
