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


def _layers(theta: np.ndarray, hidden: int):
    """Views of theta (K, 3H+1) as the two layers' [weights; bias] matrices.

    layer 1: (K, 2, H) = [w1; b1]        layer 2: (K, H+1, 1) = [w2; b2]
    Both are views, so writing into them writes theta (or a gradient of its layout).
    """
    K, H = theta.shape[0], hidden
    first = np.lib.stride_tricks.as_strided(
        theta, shape=(K, 2, H), strides=(theta.strides[0], H * theta.strides[1], theta.strides[1]),
        writeable=True)
    second = theta[:, 2 * H:, None]
    return first, second


class MLP:
    """Forward and backward passes of K networks of one architecture on one data set."""

    def __init__(self, x, y, hidden: int, activation: str, runs: int = 1):
        x = np.ascontiguousarray(x, dtype=float)
        self.x, self.y = x, np.ascontiguousarray(y, dtype=float)
        self.hidden, self.runs = int(hidden), int(runs)
        self.activation = get_activation(activation)
        K, N, H = self.runs, x.size, self.hidden
        self.x1 = np.stack([x, np.ones_like(x)], axis=1)      # [x, 1]   (N, 2)
        self.x1_T = np.ascontiguousarray(self.x1.T)           # (2, N)
        self.z1 = np.empty((K, N, H))
        self._a1_1 = np.ones((K, N, H + 1))                   # [a1, 1]  (K, N, H+1)
        self.a1 = self._a1_1[..., :H]
        self.y_pred = np.empty((K, N))
        self.dL_dy_pred = np.empty((K, N))
        self.dL_da1 = np.empty((K, N, H))
        self.da1_dz1 = np.empty((K, N, H))                    # σ'(z1)
        self.dL_dz1 = np.empty((K, N, H))
        self.loss = np.empty(K)
        self._bound = None

    @property
    def n_params(self) -> int:
        return n_params(self.hidden)

    def _views(self, theta, grad=None):
        key = (theta.__array_interface__["data"][0], None if grad is None else grad.__array_interface__["data"][0])
        if self._bound is None or self._bound[0] != key:
            layer1, layer2 = _layers(theta, self.hidden)
            w2 = theta[:, None, 2 * self.hidden:3 * self.hidden]
            grads = _layers(grad, self.hidden) if grad is not None else (None, None)
            self._bound = (key, layer1, layer2, w2, grads)
        return self._bound[1:]

    def forward(self, theta: np.ndarray) -> np.ndarray:
        """y_pred of every run; keeps z1 and a1 for the backward pass."""
        layer1, layer2, _, _ = self._views(theta)
        np.matmul(self.x1, layer1, out=self.z1)                   # z1 = w1·x + b1
        self.activation.forward(self.z1, out=self.a1)             # a1 = σ(z1)
        np.matmul(self._a1_1, layer2, out=self.y_pred[:, :, None])  # y_pred = w2·a1 + b2
        return self.y_pred

    def loss_and_grad(self, theta: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Loss of every run; writes ∂L/∂θ into ``grad`` (same layout as ``theta``)."""
        N = self.x.size
        _, _, w2, (g_layer1, g_layer2) = self._views(theta, grad)
        self.forward(theta)

        # L = mean((y_true − y_pred)²)             ∂L/∂y_pred = −2(y_true − y_pred)/N
        r = np.subtract(self.y_pred, self.y, out=self.dL_dy_pred)
        np.matmul(r[:, None, :], r[:, :, None], out=self.loss[:, None, None])
        self.loss /= N
        r *= 2.0 / N

        # y_pred = w2·a1 + b2                        ∂L/∂[w2; b2] = Σₙ ∂L/∂y_pred·[a1, 1]
        np.matmul(self.dL_dy_pred[:, None, :], self._a1_1, out=g_layer2.transpose(0, 2, 1))
        #                                             ∂L/∂a1 = ∂L/∂y_pred·w2
        np.multiply(self.dL_dy_pred[:, :, None], w2, out=self.dL_da1)

        # a1 = σ(z1)                                 ∂L/∂z1 = ∂L/∂a1·σ'(z1)
        self.activation.derivative(self.a1, out=self.da1_dz1)
        np.multiply(self.dL_da1, self.da1_dz1, out=self.dL_dz1)

        # z1 = w1·x + b1                             ∂L/∂[w1; b1] = Σₙ [x, 1]·∂L/∂z1
        np.matmul(self.x1_T, self.dL_dz1, out=g_layer1)
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
