"""The tutorial's network, 1 → H → 1, vectorized over a run axis.

Shapes (K runs, N samples, H hidden units)::

    x, y          (N,)
    theta         (K, P), P = 3H + 1, laid out as [w1 | b1 | w2 | b2]
    z1, a1        (K, N, H)      z1 = w1·x + b1,   a1 = σ(z1)
    y_pred        (K, N)         y_pred = w2·a1 + b2
    loss          (K,)           L = mean((y_true − y_pred)²)

Both layers are affine maps, so each is one batched matmul with the bias folded in:
``[x, 1] @ [w1; b1]`` and ``[a1, 1] @ [w2; b2]`` (the "ones column" trick).  The
backward pass is the tutorial's chain rule written out by hand, each derivative
beside the forward line it differentiates.  Buffers are allocated once: a training
step allocates nothing.
"""
from __future__ import annotations

import numpy as np

from .activations import _FROM_EXP_NEG_Z, get_activation

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


class MLP:
    """Forward and backward passes of K networks of one architecture on one data set.

    The hidden layer is laid out feature-major, one row of N samples per hidden unit
    and run, in one work area of shape (2H + 2, K, N)::

        [ y_pred − y_true | σ'(z1) (H rows) | a1 (H rows) | 1 ]

    so every elementwise pass runs over one contiguous (H, K, N) stretch (views of one
    array whose extents interleave would make numpy copy to rule out overlap), and the
    backward pass is two matrix-vector products per run: ``block·∂L/∂y_pred`` gives
    Σ ∂L/∂y_pred·(y_pred − y_true) = 2L, Σ ∂L/∂y_pred·σ'(z1), ∂L/∂w2 = Σ ∂L/∂y_pred·a1
    and ∂L/∂b2 = Σ ∂L/∂y_pred; ``σ'(z1)·(x·∂L/∂y_pred)`` the rest.  w2 is the same for
    every sample, so ∂L/∂z1 = ∂L/∂y_pred·w2·σ'(z1) is never formed sample by sample:
    ∂L/∂w1 = w2·Σₙ x·∂L/∂y_pred·σ'(z1) and ∂L/∂b1 = w2·Σₙ ∂L/∂y_pred·σ'(z1).
    ``a1``, ``da1_dz1`` (K, N, H), ``y_pred`` and ``dL_dy_pred`` (K, N) are views of the
    last pass; ``z1``, ``dL_da1`` and ``dL_dz1`` are worked out when read, from the
    parameters last passed.
    """

    def __init__(self, x, y, hidden: int, activation: str, runs: int = 1):
        x = np.ascontiguousarray(x, dtype=float)
        self.x, self.y = x, np.ascontiguousarray(y, dtype=float)
        self.hidden, self.runs = int(hidden), int(runs)
        self.activation = get_activation(activation)
        K, N, H = self.runs, x.size, self.hidden
        self.x1 = np.stack([x, np.ones_like(x)], axis=1)      # [x, 1]   (N, 2)
        self.x1_T = np.ascontiguousarray(self.x1.T)           # (2, N)
        # The sigmoid needs e^−z: the first layer computes −z1 = [−x, −1]·[w1; b1] (negation
        # is exact, so this is −z1 to the bit) and saves a pass over (K, H, N).
        self._of_exp = _FROM_EXP_NEG_Z.get(self.activation.forward)
        self._x1_T_in = -self.x1_T if self._of_exp else self.x1_T
        block = np.empty((2 * H + 2, K, N))                   # [y_pred − y | σ'(z1) | a1 | 1]
        block[2 * H + 1] = 1.0
        self._r = block[0]                                    # (K, N)
        self._d = block[1:H + 1]                              # (H, K, N), contiguous:
        self._a = block[H + 1:2 * H + 1]                      # elementwise passes use these
        self._block = block.transpose(1, 0, 2)                # (K, 2H + 2, N): per-run matrices
        self._d_rows = self._d.transpose(1, 0, 2)             # z1 (or −z1) until σ'(z1) is due
        self._a_1 = self._block[:, H + 1:, :]                 # [a1; 1]
        self._y_pred = np.empty((K, 1, N))
        self._dy = np.empty((K, 2, N))                        # [x·∂L/∂y_pred; ∂L/∂y_pred]
        self._x2 = np.stack([x * (2.0 / N), np.full(N, 2.0 / N)])
        self._dy_col = self._dy[:, 1, :, None]
        self._xdy_col = self._dy[:, 0, :, None]
        self.y_pred = self._y_pred[:, 0, :]
        self.dL_dy_pred = self._dy[:, 1, :]
        self.a1 = self._a.transpose(1, 2, 0)                  # (K, N, H) views
        self.da1_dz1 = self._d.transpose(1, 2, 0)             # σ'(z1)
        self.loss = np.empty(K)
        self._theta = self._grad = None
        self._w2 = np.zeros((K, 1, H))

    @property
    def n_params(self) -> int:
        return n_params(self.hidden)

    @property
    def z1(self) -> np.ndarray:
        """(K, N, H) z1 = w1·x + b1 of the parameters last passed (worked out when read)."""
        if self._theta is None:
            return np.zeros(self.a1.shape)
        return np.matmul(self._first, self.x1_T).transpose(0, 2, 1)

    @property
    def dL_da1(self) -> np.ndarray:
        """(K, N, H) ∂L/∂a1 = ∂L/∂y_pred·w2 of the last backward pass."""
        return self.dL_dy_pred[:, :, None] * self._w2

    @property
    def dL_dz1(self) -> np.ndarray:
        """(K, N, H) ∂L/∂z1 = ∂L/∂a1·σ'(z1) of the last backward pass."""
        return self.dL_da1 * self.da1_dz1

    def _bind(self, theta, grad):
        """Views of theta (and grad), made again only when a different array comes in."""
        K, H = theta.shape[0], self.hidden
        s0, s1 = theta.strides
        self._theta = theta
        self._first = np.lib.stride_tricks.as_strided(            # [w1; b1]ᵀ  (K, H, 2)
            theta, shape=(K, H, 2), strides=(s0, s1, H * s1), writeable=False)
        self._second = theta[:, None, 2 * H:]                     # [w2 | b2]  (K, 1, H+1)
        self._w2 = theta[:, None, 2 * H:3 * H]                    # (K, 1, H)
        if grad is not None:
            g0, g1 = grad.strides
            self._grad = grad
            self._g_first = np.lib.stride_tricks.as_strided(      # [∂w1; ∂b1]  (K, 2, H)
                grad, shape=(K, 2, H), strides=(g0, H * g1, g1), writeable=True)
            # block·∂L/∂y_pred, 2H + 2 numbers, lands on grad[H − 1:]: 2L on the last
            # ∂w1 slot (read, then overwritten), then ∂b1/w2, ∂w2, ∂b2 in place.
            self._g_block = grad[:, H - 1:, None]
            self._g_loss = grad[:, H - 1]
            self._g_w1 = grad[:, :H, None]

    def forward(self, theta: np.ndarray) -> np.ndarray:
        """y_pred of every run; keeps z1 and a1 for the backward pass."""
        if theta is not self._theta:
            self._bind(theta, None)
        # z1 goes where σ'(z1) will go: the work area stays small enough for the cache.
        if self._of_exp:                                                  # a1 = σ(z1) from e^−z1
            np.matmul(self._first, self._x1_T_in, out=self._d_rows)       # −z1 = −(w1·x + b1)
            np.exp(self._d, out=self._d)
            self._of_exp(self._d, out=self._a)
        else:
            np.matmul(self._first, self._x1_T_in, out=self._d_rows)       # z1 = w1·x + b1
            self.activation.forward(self._d, out=self._a)                 # a1 = σ(z1)
        np.matmul(self._second, self._a_1, out=self._y_pred)              # y_pred = w2·a1 + b2
        return self.y_pred

    def loss_and_grad(self, theta: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Loss of every run; writes ∂L/∂θ into ``grad`` (same layout as ``theta``)."""
        if theta is not self._theta or grad is not self._grad:
            self._bind(theta, grad)
        self.forward(theta)

        # L = mean((y_true − y_pred)²)             ∂L/∂y_pred = −2(y_true − y_pred)/N
        np.subtract(self.y_pred, self.y, out=self._r)
        np.multiply(self._r[:, None, :], self._x2, out=self._dy)          # [x·∂L/∂y_pred; ∂L/∂y_pred]

        # a1 = σ(z1)                                 σ'(z1)
        self.activation.derivative(self._a, out=self._d)

        # One pass over each run's block:            Σₙ ∂L/∂y_pred·[y_pred − y, σ'(z1), a1, 1]
        # y_pred = w2·a1 + b2                        ∂L/∂[w2; b2] = Σₙ ∂L/∂y_pred·[a1, 1]
        np.matmul(self._block, self._dy_col, out=self._g_block)
        np.multiply(self._g_loss, 0.5, out=self.loss)         # Σₙ ∂L/∂y_pred·(y_pred − y) = 2L
        # z1 = w1·x + b1, ∂L/∂a1 = ∂L/∂y_pred·w2:
        #                                            ∂L/∂[w1; b1] = w2·Σₙ [x, 1]·∂L/∂y_pred·σ'(z1)
        np.matmul(self._d_rows, self._xdy_col, out=self._g_w1)
        np.multiply(self._g_first, self._w2, out=self._g_first)
        return self.loss


def predict(theta: np.ndarray, x, hidden: int, activation: str) -> np.ndarray:
    """y_pred of every run (rows of ``theta``) at the points ``x``: shape (K, len(x))."""
    theta = np.ascontiguousarray(np.atleast_2d(theta), dtype=float)
    x = np.asarray(x, dtype=float)
    net = MLP(x, np.zeros_like(x), hidden, activation, runs=len(theta))
    with np.errstate(all="ignore"):
        return net.forward(theta).copy()


def loss(theta: np.ndarray, x, y, hidden: int, activation: str) -> np.ndarray:
    """L = mean((y − y_pred)²) of every run, from the forward pass alone (no gradient code)."""
    y_pred = predict(theta, x, hidden, activation)
    with np.errstate(all="ignore"):
        return np.mean((np.asarray(y, dtype=float) - y_pred) ** 2, axis=1)
