"""One forward pass, backward pass and update on one sample, every intermediate kept.

``explain()`` is the tutorial's worked example as a function: for any network width,
activation and sample it returns the numbers the tutorial prints, computed by the
same code that trains (``network.MLP``), exactly in float64.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import MLP, pack, unpack

# The tutorial's printed "Output Example", to 4 decimals.  It was computed with rounded
# intermediates, so a few 4th decimals differ from exact float64 arithmetic.
TUTORIAL_PRINTED = {
    "z1": 5.0, "a1": 0.9933, "y_pred": 1.9899, "loss": 0.2602,
    "dL_dy_pred": -1.0202, "dL_dw2": -1.0134, "dL_db2": -1.0202, "dL_da1": -1.5303,
    "da1_dz1": 0.0066, "dL_dw1": -0.0304, "dL_db1": -0.0101,
    "w1_new": 2.0030, "b1_new": -0.9990, "w2_new": 1.6013, "b2_new": 0.6020,
    "y_pred_new": 2.1933, "loss_new": 0.0940, "loss_change": -0.1662,
}
TUTORIAL_EXAMPLE = dict(w1=2.0, b1=-1.0, w2=1.5, b2=0.5, x=3.0, y_true=2.5, lr=0.1)


@dataclass(frozen=True)
class Step:
    """Every intermediate of one gradient-descent step (arrays have one entry per hidden unit)."""
    x: float
    y_true: float
    lr: float
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: float
    z1: np.ndarray
    a1: np.ndarray
    y_pred: float
    loss: float
    dL_dy_pred: float
    dL_dw2: np.ndarray
    dL_db2: float
    dL_da1: np.ndarray
    da1_dz1: np.ndarray
    dL_dw1: np.ndarray
    dL_db1: np.ndarray
    w1_new: np.ndarray
    b1_new: np.ndarray
    w2_new: np.ndarray
    b2_new: float
    y_pred_new: float
    loss_new: float

    @property
    def loss_change(self) -> float:
        return self.loss_new - self.loss


def explain(w1, b1, w2, b2, x: float, y_true: float, lr: float, activation: str = "sigmoid") -> Step:
    theta = pack(w1, b1, w2, b2)[None, :]
    H = theta.shape[1] // 3
    net = MLP(H, activation)
    x_, y_ = np.array([float(x)]), np.array([float(y_true)])
    grad = np.empty_like(theta)
    with np.errstate(all="ignore"):
        loss = float(net.loss_and_grad(theta, x_, y_, grad)[0])
        p = net.record()
        first = dict(z1=p.z1[0, 0], a1=p.a1[0, 0], y_pred=float(p.y_pred[0, 0]),
                     dL_dy_pred=float(p.dL_dy_pred[0, 0]), dL_da1=p.dL_da1[0, 0], da1_dz1=p.da1_dz1[0, 0])
        new = theta - lr * grad                                  # θ ← θ − η·∂L/∂θ
        loss_new = float(net.loss_and_grad(new, x_, y_, np.empty_like(new))[0])
        y_pred_new = float(net.record().y_pred[0, 0])
    (w1, b1, w2, b2), (gw1, gb1, gw2, gb2), (w1n, b1n, w2n, b2n) = (
        unpack(a[0], H) for a in (theta, grad, new))
    return Step(x=float(x), y_true=float(y_true), lr=float(lr),
                w1=w1.copy(), b1=b1.copy(), w2=w2.copy(), b2=float(b2),
                loss=loss, dL_dw2=gw2.copy(), dL_db2=float(gb2), dL_dw1=gw1.copy(), dL_db1=gb1.copy(),
                w1_new=w1n.copy(), b1_new=b1n.copy(), w2_new=w2n.copy(), b2_new=float(b2n),
                y_pred_new=y_pred_new, loss_new=loss_new, **first)


def tutorial_step(lr: float = 0.1) -> Step:
    e = dict(TUTORIAL_EXAMPLE, lr=lr)
    return explain(e["w1"], e["b1"], e["w2"], e["b2"], e["x"], e["y_true"], e["lr"])


def differences_from_printout(step: Step) -> dict:
    """{name: (exact, printed)} where the exact value, rounded to 4 decimals, is not the tutorial's."""
    out = {}
    for name, printed in TUTORIAL_PRINTED.items():
        exact = float(np.ravel(getattr(step, name))[0])
        if round(exact, 4) != printed:
            out[name] = (exact, printed)
    return out
