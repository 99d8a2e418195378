"""Curvature of the loss: the exact Hessian, its eigenvalues, and what they forecast.

For a quadratic loss with Hessian eigenvalues λᵢ, gradient descent multiplies the error
along eigenvector i by (1 − ηλᵢ) every step.  So it converges from every start iff
0 < η < 2/λ_max; for η > 1/λ_max the top mode flips sign every step; the best constant
rate is 2/(λ_min + λ_max).  With L = mean((y − ŷ)²) (no ½), ∂²L/∂b2² = 2, so
λ_max ≥ 2 everywhere and no η above 1 can converge to any minimum.

For the network the Hessian is exact and analytic::

    ∂²L/∂θ² = (2/N) Σₙ Jₙ Jₙᵀ  +  (2/N) Σₙ rₙ ∂²ŷₙ/∂θ²        (rₙ = ŷₙ − yₙ,  Jₙ = ∂ŷₙ/∂θ)

    ∂ŷ/∂w1ₕ = w2ₕ σ'ₕ x    ∂ŷ/∂b1ₕ = w2ₕ σ'ₕ    ∂ŷ/∂w2ₕ = aₕ    ∂ŷ/∂b2 = 1
    ∂²ŷ/∂w1ₕ² = w2ₕ σ''ₕ x²   ∂²ŷ/∂w1ₕ∂b1ₕ = w2ₕ σ''ₕ x   ∂²ŷ/∂b1ₕ² = w2ₕ σ''ₕ
    ∂²ŷ/∂w1ₕ∂w2ₕ = σ'ₕ x     ∂²ŷ/∂b1ₕ∂w2ₕ = σ'ₕ          (every other second derivative is 0)

σ'' is written, like σ', in terms of the output a = σ(z), in the activation's own record
(core.activations).  The critical rate a curvature allows depends on the update rule: it
comes from the rule (core.optim), 2/λ_max for gradient descent.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import get_activation
from .network import MLP

MONOTONE, OSCILLATING, UNSTABLE = "monotone", "oscillating", "unstable"


def mlp_hessian(theta: np.ndarray, x, y, hidden: int, activation: str) -> np.ndarray:
    """Exact Hessian of the loss for every run: theta (K, P) → (K, P, P)."""
    theta = np.ascontiguousarray(np.atleast_2d(theta), dtype=float)
    K, H = theta.shape[0], hidden
    x = np.asarray(x, dtype=float)
    N = x.size
    net = MLP(H, activation, runs=K)
    with np.errstate(all="ignore"):
        net.loss_and_grad(theta, x, np.asarray(y, dtype=float), np.empty_like(theta))
        p = net.record()
        a, d1 = p.a1, p.da1_dz1                         # (K, N, H)
        d2 = get_activation(activation).second_derivative(a)
        r = p.dL_dy_pred * (N / 2.0)                    # rₙ = ŷₙ − yₙ   (K, N)
        w2 = theta[:, None, 2 * H:3 * H]                # (K, 1, H)
        xs = x[None, :, None]
        # Jacobian of ŷ, (K, N, P): [w2σ'x | w2σ' | a | 1]
        J = np.concatenate([w2 * d1 * xs, w2 * d1, a, np.ones((K, N, 1))], axis=2)
        hess = (2.0 / N) * np.matmul(J.transpose(0, 2, 1), J)
        # the residual term: per hidden unit, a 3×3 block over (w1ₕ, b1ₕ, w2ₕ)
        rw = (2.0 / N) * r[:, :, None]                  # (K, N, 1)
        s_xx = np.sum(rw * w2 * d2 * xs * xs, axis=1)   # (K, H)
        s_x = np.sum(rw * w2 * d2 * xs, axis=1)
        s_1 = np.sum(rw * w2 * d2, axis=1)
        t_x = np.sum(rw * d1 * xs, axis=1)
        t_1 = np.sum(rw * d1, axis=1)
        h = np.arange(H)
        w1i, b1i, w2i = h, H + h, 2 * H + h
        for (i, j), block in (((w1i, w1i), s_xx), ((w1i, b1i), s_x), ((b1i, b1i), s_1),
                              ((w1i, w2i), t_x), ((b1i, w2i), t_1)):
            hess[:, i, j] += block
            if block is not s_xx and block is not s_1:
                hess[:, j, i] += block
    return hess


def linear_hessian(x) -> np.ndarray:
    """The model without a hidden layer, ŷ = w·x + b: a constant (2/N)·[[Σx², Σx], [Σx, N]]."""
    x = np.asarray(x, dtype=float)
    N = x.size
    with np.errstate(over="ignore", invalid="ignore"):     # huge x: inf entries, no warning
        return (2.0 / N) * np.array([[np.sum(x * x), np.sum(x)], [np.sum(x), N]])


def eigenvalues(hess: np.ndarray) -> np.ndarray:
    """Ascending eigenvalues of each symmetric Hessian: (..., P, P) → (..., P)."""
    with np.errstate(all="ignore"):
        hess = np.nan_to_num(0.5 * (hess + np.swapaxes(hess, -1, -2)), nan=0.0, posinf=1e300, neginf=-1e300)
        return np.linalg.eigvalsh(hess)


def preconditioned_eigenvalues(hess: np.ndarray, precond: np.ndarray) -> np.ndarray:
    """Ascending eigenvalues of P^(−1/2) H P^(−1/2) for a diagonal preconditioner P:
    (..., P, P) and (..., P) → (..., P).

    An adaptive optimizer (RMSprop, Adam) steps θ ← θ − η·P⁻¹m, so on a quadratic its error
    evolves by I − ηP⁻¹H, whose eigenvalues are those of the symmetric P^(−1/2) H P^(−1/2)
    (similar matrices): the top one, the preconditioned sharpness, is what its stability limit
    bounds (core.optim: 2/η for RMSprop, (2 + 2β1)/((1 − β1)η) for Adam).
    """
    d = 1.0 / np.sqrt(np.asarray(precond, dtype=float))
    with np.errstate(all="ignore"):
        return eigenvalues(np.asarray(hess, dtype=float) * d[..., :, None] * d[..., None, :])


@dataclass(frozen=True)
class Forecast:
    """What the curvature at a point says about each learning rate."""
    eigenvalues: np.ndarray        # ascending
    sharpness: float               # λ_max
    lambda_min: float              # the smallest eigenvalue (may be ≤ 0 for a network)
    critical_lr: float             # η* = 2/λ_max: above it the top mode grows
    best_lr: float                 # 2/(λ_min_positive + λ_max)
    lrs: tuple
    eta_lambda: tuple              # η·λ_max per learning rate
    regimes: tuple                 # monotone (< 1), oscillating (1 to 2), unstable (> 2)
    lambda_min_positive: float     # the smallest eigenvalue above 1e-6·λ_max (λ_max if none)


def regime(eta_lambda: float) -> str:
    return MONOTONE if eta_lambda < 1 else OSCILLATING if eta_lambda <= 2 else UNSTABLE


def forecast(hess: np.ndarray, learning_rates, rule=None) -> Forecast:
    """The forecast for ``learning_rates`` under ``rule`` (core.optim; default: gradient
    descent at those rates), which gives the critical and the best constant rate."""
    if rule is None:
        from .optim import GradientDescent
        rule = GradientDescent(learning_rates)
    ev = eigenvalues(hess)
    lam_max = float(ev[-1])
    positive = ev[ev > 1e-6 * lam_max]
    lam_lo = float(positive[0]) if positive.size else lam_max
    lrs = tuple(float(v) for v in learning_rates)
    etas = tuple(lr * lam_max for lr in lrs)
    return Forecast(ev, lam_max, float(ev[0]), rule.critical_lr(lam_max), rule.best_lr(lam_lo, lam_max),
                    lrs, etas, tuple(regime(e) for e in etas), lambda_min_positive=lam_lo)


def quadratic_loss_curve(hess: np.ndarray, theta0: np.ndarray, theta_star: np.ndarray, loss_star: float,
                         lr: float, steps: int) -> np.ndarray:
    """The loss after t = 0 … steps updates of gradient descent on a quadratic, in closed form.

    With δ = θ − θ* = Σᵢ cᵢ vᵢ in the Hessian's eigenbasis, every step multiplies cᵢ by
    (1 − ηλᵢ), and L = L* + ½ δᵀHδ, so  L_t = L* + ½ Σᵢ λᵢ cᵢ² (1 − ηλᵢ)^(2t).
    """
    lam, vecs = np.linalg.eigh(hess)
    c = vecs.T @ (np.asarray(theta0, dtype=float) - theta_star)
    t = np.arange(steps + 1)[:, None]
    with np.errstate(all="ignore"):
        return loss_star + 0.5 * np.sum(lam * c**2 * (1 - lr * lam) ** (2 * t), axis=1)


def linear_loss_curves(x, y, theta0: np.ndarray, learning_rates, steps: int) -> np.ndarray:
    """(K, steps + 1) the predicted loss curve of the model without a hidden layer, per rate."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    X = np.stack([x, np.ones_like(x)], axis=1)
    theta_star = np.linalg.lstsq(X, y, rcond=None)[0]
    loss_star = float(np.mean((X @ theta_star - y) ** 2))
    hess = linear_hessian(x)
    return np.array([quadratic_loss_curve(hess, theta0, theta_star, loss_star, lr, steps)
                     for lr in learning_rates])
