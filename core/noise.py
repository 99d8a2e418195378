"""The gradient noise scale (McCandlish et al. 2018, "An empirical model of large-batch
training"), computed exactly from per-sample gradients and the exact Hessian.

The loss is L = (1/N) Σₙ ℓₙ with ℓₙ = (yₙ − ŷₙ)², so with gₙ = ∂ℓₙ/∂θ = 2(ŷₙ − yₙ)·∂ŷₙ/∂θ
(per sample: no 1/N)::

    G = (1/N) Σₙ gₙ                         the full gradient, ∂L/∂θ
    Σ = (1/N) Σₙ (gₙ − G)(gₙ − G)ᵀ          the per-sample covariance (divisor N)
    B_simple = tr(Σ) / |G|²
    B_noise  = tr(HΣ) / (GᵀHG)              H = ∂²L/∂θ², the exact Hessian (core.curvature)
    ε_max    = |G|² / (GᵀHG)                the best step along −G without noise
    ε_opt(B) = ε_max / (1 + B_noise·(N − B)/(B·(N − 1)))

A batch of B samples drawn without replacement has a mean gradient of covariance
Σ/B·(N − B)/(N − 1): hence the finite-population factor in ε_opt, which equals ε_max at
B = N (no noise) and ε_max/(1 + B_noise) at B = 1.  Below B_noise the best step grows
about linearly with B (the linear-scaling rule); above it, it saturates at ε_max.

Per-sample gradients come from the pass record (core.network.Pass): ∂ŷₙ/∂θ is
[w2·σ'(z1)·x | w2·σ'(z1) | a1 | 1] for the network and [x | 1] for the linear model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import MLP


def mlp_per_sample_grads(theta: np.ndarray, x, y, hidden: int, activation: str) -> np.ndarray:
    """(K, N, P) gₙ = ∂ℓₙ/∂θ of the network at every row of ``theta``."""
    theta = np.ascontiguousarray(np.atleast_2d(theta), dtype=float)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    K, N, H = theta.shape[0], x.size, hidden
    net = MLP(H, activation, runs=K)
    with np.errstate(all="ignore"):
        net.loss_and_grad(theta, x, y, np.empty_like(theta))
        p = net.record()
        dl_dy_pred = p.dL_dy_pred * N                   # ∂ℓₙ/∂ŷₙ = 2(ŷₙ − yₙ)    (K, N)
        w2_d = p.w2[:, None, :] * p.da1_dz1              # ∂ŷₙ/∂b1 = w2·σ'(z1)    (K, N, H)
        dy_dtheta = np.concatenate([w2_d * x[None, :, None], w2_d, p.a1, np.ones((K, N, 1))], axis=2)
        return dl_dy_pred[:, :, None] * dy_dtheta


def linear_per_sample_grads(theta: np.ndarray, x, y) -> np.ndarray:
    """(K, N, 2) gₙ = ∂ℓₙ/∂[w, b] = 2(ŷₙ − yₙ)·[xₙ, 1] of the model without a hidden layer."""
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    x1 = np.stack([x, np.ones_like(x)], axis=1)                 # (N, 2)
    with np.errstate(all="ignore"):
        dl_dy_pred = 2.0 * (theta @ x1.T - y)                   # (K, N)
        return dl_dy_pred[:, :, None] * x1[None]


@dataclass(frozen=True)
class NoiseScale:
    """The noise scale of every run (arrays of K), at the parameters it was computed at."""
    n_samples: int
    grad: np.ndarray            # (K, P) G
    trace_sigma: np.ndarray     # (K,) tr(Σ)
    trace_h_sigma: np.ndarray   # (K,) tr(HΣ)
    g_h_g: np.ndarray           # (K,) GᵀHG
    simple: np.ndarray          # (K,) B_simple = tr(Σ)/|G|²
    noise: np.ndarray           # (K,) B_noise = tr(HΣ)/(GᵀHG)
    eps_max: np.ndarray         # (K,) |G|²/(GᵀHG)

    def eps_opt(self, batch_size) -> np.ndarray:
        """ε_opt(B) of every run (K,), or (K, len(B)) for several batch sizes."""
        B = np.asarray(batch_size, dtype=float)
        N = self.n_samples
        factor = (N - B) / (B * (N - 1)) if N > 1 else np.zeros_like(B)
        with np.errstate(all="ignore"):
            if B.ndim == 0:
                return self.eps_max / (1.0 + self.noise * factor)
            return self.eps_max[:, None] / (1.0 + self.noise[:, None] * factor[None, :])


def noise_scale(model, theta: np.ndarray, x, y) -> NoiseScale:
    """The noise scale of ``model`` (a core.models.ModelSpec) at every row of ``theta`` on (x, y)."""
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    g = model.per_sample_grads(theta, x, y)                  # (K, N, P)
    H = model.hessian(theta, x, y)                           # (K, P, P)
    N = g.shape[1]
    with np.errstate(all="ignore"):
        G = g.mean(axis=1)                                   # (K, P)
        D = g - G[:, None, :]                                # gₙ − G
        tr_sigma = np.einsum("knp,knp->k", D, D) / N
        tr_h_sigma = np.einsum("knp,kpq,knq->k", D, H, D) / N
        gg = np.einsum("kp,kp->k", G, G)
        ghg = np.einsum("kp,kpq,kq->k", G, H, G)
        return NoiseScale(N, G, tr_sigma, tr_h_sigma, ghg, tr_sigma / gg, tr_h_sigma / ghg, gg / ghg)
