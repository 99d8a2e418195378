"""The tutorial's network, 1 → H → 1, vectorized over a run axis.

Shapes (K runs, N samples, H hidden units)::

    x, y          (N,)
    theta         (K, P), P = 3H + 1, laid out as [w1 | b1 | w2 | b2]
    z1, a1        (K, N, H)      z1 = w1·x + b1,   a1 = σ(z1)
    y_pred        (K, N)         y_pred = w2·a1 + b2
    loss          (K,)           L = mean((y_true − y_pred)²)

The data come with every call (``forward(theta, x)``, ``loss_and_grad(theta, x, y,
grad)``), so a mini-batch is just a shorter x and y.  Both layers are affine maps, so
each is one batched matmul with the bias folded in: ``[w1; b1]·[x; 1]`` and
``[w2 | b2]·[a1; 1]`` (the "ones row" trick).  The backward pass is the tutorial's chain
rule written out by hand, each derivative beside the forward line it differentiates.
``record()`` hands out what the last pass computed (a ``Pass``) for the views that show
it: the worked example, the Hessian, the dead units.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .activations import get_activation

PARAM_NAMES = ("w1", "b1", "w2", "b2")


def n_params(hidden: int) -> int:
    return 3 * hidden + 1


def unpack(theta: np.ndarray, hidden: int):
    """Views (w1, b1, w2, b2) into flat parameters of shape (..., 3H + 1)."""
    H = hidden
    return theta[..., :H], theta[..., H:2 * H], theta[..., 2 * H:3 * H], theta[..., 3 * H]


def pack(w1, b1, w2, b2) -> np.ndarray:
    """One flat parameter vector [w1 | b1 | w2 | b2] from the tutorial's names."""
    w1, b1, w2 = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (w1, b1, w2))
    return np.concatenate([w1, b1, w2, [float(b2)]])


@dataclass(frozen=True)
class Pass:
    """What one pass computed, every run and sample (copies: safe to keep).

    ``da1_dz1`` and ``dL_dy_pred`` are None after a forward pass alone."""
    x: np.ndarray                  # (N,)
    w2: np.ndarray                 # (K, H)
    z1: np.ndarray                 # (K, N, H)  z1 = w1·x + b1
    a1: np.ndarray                 # (K, N, H)  a1 = σ(z1)
    y_pred: np.ndarray             # (K, N)     y_pred = w2·a1 + b2
    da1_dz1: np.ndarray | None     # (K, N, H)  σ'(z1)
    dL_dy_pred: np.ndarray | None  # (K, N)     2(y_pred − y_true)/N

    @property
    def dL_da1(self) -> np.ndarray:
        """(K, N, H) ∂L/∂a1 = ∂L/∂y_pred·w2."""
        return self.dL_dy_pred[:, :, None] * self.w2[:, None, :]

    @property
    def dL_dz1(self) -> np.ndarray:
        """(K, N, H) ∂L/∂z1 = ∂L/∂a1·σ'(z1)."""
        return self.dL_da1 * self.da1_dz1


class MLP:
    """Forward and backward passes of K networks of one architecture.

    Speed (benchmarks/bench_network.py, K = 16, N = 100, H = 16, best of 400): the plain
    version of this pass — z1, a1, dL_dz1 … as fresh (K, N, H) arrays, sums over samples
    by matmul, the loss as mean(r²) — does 0.18× (sigmoid) and 0.12× (ReLU) the run-steps
    per second of the one below, so it keeps these tricks:

    * one work area per data size, made once (a step allocates nothing), laid out
      feature-major, one row of N samples per hidden unit and run::

          block (2H + 2, K, N) = [ y_pred − y_true | σ'(z1) (H rows) | a1 (H rows) | 1 ]

      z1 is computed into the σ'(z1) rows (they are free until the backward pass), every
      elementwise pass runs over one contiguous (H, K, N) stretch, and the backward pass
      is two matrix–vector products per run: ``block·∂L/∂y_pred`` gives, in one go,
      Σₙ ∂L/∂y_pred·(y_pred − y_true) = 2L (so the loss costs nothing more),
      Σₙ ∂L/∂y_pred·σ'(z1), ∂L/∂w2 = Σₙ ∂L/∂y_pred·a1 and ∂L/∂b2 = Σₙ ∂L/∂y_pred;
      ``σ'(z1)·(x·∂L/∂y_pred)`` gives the rest.  w2 is the same for every sample, so
      ∂L/∂z1 = ∂L/∂y_pred·w2·σ'(z1) is never formed sample by sample:
      ∂L/∂w1 = w2·Σₙ x·∂L/∂y_pred·σ'(z1) and ∂L/∂b1 = w2·Σₙ ∂L/∂y_pred·σ'(z1).
    * [w1; b1] and its gradient are read and written in place as strided (K, H, 2)
      and (K, 2, H) views of θ and ∂L/∂θ (no copy in, no scatter out).
      Not timed on its own: it also keeps the BLAS calls, hence every number, those of
      the code before the change.
    * the sigmoid from e^−z1: the first layer computes −z1 = [w1; b1]·[−x; −1] (negating
      is exact, so this is −z1 to the bit) and saves σ's own negation, one pass over
      (K, H, N): without it the sigmoid pass ran at 0.96× (``--tricks-only``) and at
      0.85× the code before the change (old vs new rows), below the 0.9 goal.

    A run's numbers do not depend on what trains beside it (issue 18: a run exported alone
    matches its column in a comparison, bit for bit; tests/test_network.py and
    tests/test_engine.py check it on random K, H, N, activations and rates).  Every
    product is one per run (stacked matmuls: numpy calls BLAS once per run), and θ and
    ∂L/∂θ come C-ordered (the engine makes them so; with another layout the strides BLAS
    gets change with K).  What still changes with K is the row stride of the work area
    (K·N), and OpenBLAS's gemv has a path of its own for a row stride equal to N ≤ 3 with
    a unit-stride vector (a run alone, K = 1).  So the output layer reads [w2 | b2] from
    a copy made every pass into every second slot of a small buffer: a stride-2 vector
    whatever K.  That is also how the code before the change read it for K > 1 (θ was then
    Fortran-ordered), so those CSVs keep every bit; with a unit stride, exercise 4's
    oscillating η = 0.5 column moves by 3.7e-7 relative.  (A per-run work area
    (K, 2H + 2, N), rows N apart whatever K, interleaves the σ'(z1) and a1 rows, and numpy
    copies an input that may overlap the output before every elementwise pass: 0.5× the
    run-steps per second.)
    """

    def __init__(self, hidden: int, activation: str, runs: int = 1):
        self.hidden, self.runs = int(hidden), int(runs)
        self.activation = get_activation(activation)
        self._x = self._x_given = self._theta = self._grad = None
        self._backward_done = False

    @property
    def n_params(self) -> int:
        return n_params(self.hidden)

    # -- the data and the parameters, bound once and re-bound only when they change --------
    def _bind_data(self, x: np.ndarray) -> None:
        """The work area for len(x) samples (made again only when that changes) and x's rows."""
        self._x_given = x
        x = np.ascontiguousarray(x, dtype=float)
        K, N, H = self.runs, x.size, self.hidden
        if self._x is None or self._x.size != N:
            block = np.empty((2 * H + 2, K, N))               # [y_pred − y | σ'(z1) | a1 | 1]
            block[2 * H + 1] = 1.0
            self._block = block.transpose(1, 0, 2)            # (K, 2H + 2, N): per-run matrices
            self._r = block[0]                                # y_pred − y_true        (K, N)
            self._d = block[1:H + 1]                          # z1, then σ'(z1)        (H, K, N)
            self._a = block[H + 1:2 * H + 1]                  # a1                     (H, K, N)
            self._z1_rows = self._d.transpose(1, 0, 2)        # (K, H, N) view of the same rows
            self._a1_1 = self._block[:, H + 1:, :]            # [a1; 1]                (K, H + 1, N)
            self._y_pred = np.empty((K, 1, N))
            self._dy = np.empty((K, 2, N))                    # [x·∂L/∂y_pred; ∂L/∂y_pred]
            self._x_dy = self._dy[:, 0, :, None]
            self._dy_col = self._dy[:, 1, :, None]
            self._loss = np.empty(K)
        self._x = x
        self._x1 = np.stack([x, np.ones_like(x)])             # [x; 1]    (2, N)
        self._x1_in = -self._x1 if self.activation.from_exp_neg_z else self._x1
        self._x2_N = self._x1 * (2.0 / N)                     # [x; 1]·2/N: ∂L/∂y_pred's factors

    def _bind(self, theta: np.ndarray, grad: np.ndarray | None) -> None:
        """Views of theta (and grad), made again only when a different array comes in."""
        K, H = theta.shape[0], self.hidden
        s0, s1 = theta.strides
        self._theta = theta
        self._w1_b1 = np.lib.stride_tricks.as_strided(         # [w1; b1]ᵀ  (K, H, 2)
            theta, shape=(K, H, 2), strides=(s0, s1, H * s1), writeable=False)
        self._w2_b2_theta = theta[:, None, 2 * H:]             # [w2 | b2]  (K, 1, H + 1)
        self._w2_b2 = np.empty((K, 1, 2 * H + 2))[:, :, ::2]   # its copy, every second slot
        self._w2 = theta[:, None, 2 * H:3 * H]                 # (K, 1, H)
        if grad is not None:
            g0, g1 = grad.strides
            self._grad = grad
            self._dL_dw1_db1 = np.lib.stride_tricks.as_strided(  # [∂w1; ∂b1]  (K, 2, H)
                grad, shape=(K, 2, H), strides=(g0, H * g1, g1), writeable=True)
            # block·∂L/∂y_pred, 2H + 2 numbers, lands on grad[H − 1:]: 2L on the last
            # ∂w1 slot (read, then overwritten), then ∂b1/w2, ∂w2, ∂b2 in place.
            self._dL_dblock = grad[:, H - 1:, None]
            self._two_L = grad[:, H - 1]
            self._dL_dw1 = grad[:, :H, None]

    # -- the passes ----------------------------------------------------------------------------
    def forward(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        """(K, N) y_pred of every run at the points x; keeps a1 for the backward pass."""
        if x is not self._x_given:
            self._bind_data(x)
        if theta is not self._theta:
            self._bind(theta, None)
        self._backward_done = False
        from_exp = self.activation.from_exp_neg_z
        if from_exp:
            np.matmul(self._w1_b1, self._x1_in, out=self._z1_rows)    # −z1 = −(w1·x + b1)
            np.exp(self._d, out=self._d)                               # e^−z1
            from_exp(self._d, out=self._a)                             # a1 = σ(z1) = 1/(1 + e^−z1)
        else:
            np.matmul(self._w1_b1, self._x1_in, out=self._z1_rows)    # z1 = w1·x + b1
            self.activation.forward(self._d, out=self._a)              # a1 = σ(z1)
        np.copyto(self._w2_b2, self._w2_b2_theta)
        np.matmul(self._w2_b2, self._a1_1, out=self._y_pred)           # y_pred = w2·a1 + b2
        return self._y_pred[:, 0, :]

    def loss_and_grad(self, theta: np.ndarray, x: np.ndarray, y: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """(K,) loss of every run on (x, y); writes ∂L/∂θ into ``grad`` (same layout as ``theta``)."""
        if theta is not self._theta or grad is not self._grad:
            self._bind(theta, grad)
        y_pred = self.forward(theta, x)

        # L = mean((y_true − y_pred)²)              dL_dy_pred = 2(y_pred − y_true)/N
        np.subtract(y_pred, y, out=self._r)
        np.multiply(self._r[:, None, :], self._x2_N, out=self._dy)       # [x·dL_dy_pred; dL_dy_pred]

        # a1 = σ(z1)                                  da1_dz1 = σ'(z1), from a1 (over z1's rows)
        self.activation.derivative(self._a, out=self._d)

        # y_pred = w2·a1 + b2                         dL_dw2 = Σₙ dL_dy_pred·a1,  dL_db2 = Σₙ dL_dy_pred
        # (one product with the block, which also gives 2L and Σₙ dL_dy_pred·σ'(z1))
        np.matmul(self._block, self._dy_col, out=self._dL_dblock)
        np.multiply(self._two_L, 0.5, out=self._loss)                    # L = ½·Σₙ dL_dy_pred·(y_pred − y)
        # a1 = σ(z1), z1 = w1·x + b1                  dL_da1 = dL_dy_pred·w2,  dL_dz1 = dL_da1·σ'(z1)
        #                                             dL_dw1 = Σₙ dL_dz1·x = w2·Σₙ σ'(z1)·x·dL_dy_pred
        #                                             dL_db1 = Σₙ dL_dz1   = w2·Σₙ σ'(z1)·dL_dy_pred
        np.matmul(self._z1_rows, self._x_dy, out=self._dL_dw1)
        np.multiply(self._dL_dw1_db1, self._w2, out=self._dL_dw1_db1)
        self._backward_done = True
        return self._loss

    def record(self) -> Pass:
        """Copies of what the last pass computed (z1 worked out again from its parameters)."""
        if self._theta is None:
            raise RuntimeError("MLP.record(): no pass yet")
        backward = self._backward_done
        z1 = np.matmul(self._w1_b1, self._x1).transpose(0, 2, 1)
        return Pass(x=self._x.copy(), w2=self._w2[:, 0, :].copy(), z1=z1,
                    a1=self._a.transpose(1, 2, 0).copy(), y_pred=self._y_pred[:, 0, :].copy(),
                    da1_dz1=self._d.transpose(1, 2, 0).copy() if backward else None,
                    dL_dy_pred=self._dy[:, 1, :].copy() if backward else None)


def initial_params(hidden: int, rng: np.random.Generator) -> np.ndarray:
    """w1 ~ N(0, 1), b1 ~ N(0, 1), w2 ~ N(0, 1/H), b2 = 0: one vector [w1 | b1 | w2 | b2]."""
    w1 = rng.standard_normal(hidden)
    b1 = rng.standard_normal(hidden)
    w2 = rng.standard_normal(hidden) / math.sqrt(hidden)
    return pack(w1, b1, w2, 0.0)
