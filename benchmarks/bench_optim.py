"""Run-steps per second of each optimizer against gradient descent, side by side in one run.

N = 100, H = 16, sigmoid, 16 runs, full batch.  Goals (issue 12): momentum and Nesterov
>= 0.85x gradient descent, RMSprop and Adam >= 0.6x.  Under a Python with torch and numpy (a venv of
their own: PyTorch is no dependency of LR Lab; the repository is put on sys.path here) it adds two PyTorch rows,
one thread, float64, the gradient from autograd:

* torch eager: the 16 recipes one after another with torch.optim (goal: LR Lab >= 15x);
* torch vectorized: the 16 runs as one batch of parameters with a leading run axis (K, H),
  one forward and one backward for all of them, and the optimizer's update written out with
  in-place torch ops over that axis, each run at its own rate (the formulas of core.optim, as
  torch.optim computes them) (goal: LR Lab >= 1.3x).

    python benchmarks/bench_optim.py [steps]
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from core.experiment import Experiment  # noqa: E402
from core.optim import MixedRule, Recipe  # noqa: E402

K, N, H = 16, 100, 16
LRS = tuple(np.geomspace(1e-3, 0.05, K))


def exp(optimizer, steps):
    runs = tuple(Recipe(lr, optimizer) for lr in LRS)
    return Experiment(dataset="linear", samples=N, noise=0.0, x_range=(0.0, 10.0), activation="sigmoid",
                      hidden=H, steps=steps, seed=0, runs=runs).validated()


def rate(optimizer, steps, repeats=3):
    best = 0.0
    for _ in range(repeats):
        e = exp(optimizer, steps)
        tr = e.trainer(rule=MixedRule(e.runs, steps)) if optimizer == "gd" else e.trainer()
        t0 = time.perf_counter()
        tr.step(steps)
        best = max(best, K * steps / (time.perf_counter() - t0))
    return best


def torch_eager(optimizer, steps):
    import torch
    torch.set_num_threads(1)
    e = exp(optimizer, steps)
    data = e.make_data()
    x = torch.tensor(data.x, dtype=torch.float64)[:, None]
    y = torch.tensor(data.y, dtype=torch.float64)
    th = e.initial_params()
    t0 = time.perf_counter()
    for lr in LRS:
        w1 = torch.tensor(th[:H], dtype=torch.float64, requires_grad=True)
        b1 = torch.tensor(th[H:2 * H], dtype=torch.float64, requires_grad=True)
        w2 = torch.tensor(th[2 * H:3 * H], dtype=torch.float64, requires_grad=True)
        b2 = torch.tensor(th[3 * H:], dtype=torch.float64, requires_grad=True)
        ps = [w1, b1, w2, b2]
        o = {"gd": lambda: torch.optim.SGD(ps, lr=lr), "momentum": lambda: torch.optim.SGD(ps, lr=lr, momentum=0.9),
             "nesterov": lambda: torch.optim.SGD(ps, lr=lr, momentum=0.9, nesterov=True),
             "rmsprop": lambda: torch.optim.RMSprop(ps, lr=lr), "adam": lambda: torch.optim.Adam(ps, lr=lr)}[optimizer]()
        for _ in range(steps):
            o.zero_grad()
            loss = torch.mean((torch.sigmoid(x * w1 + b1) @ w2 + b2 - y) ** 2)
            loss.backward()
            o.step()
    return K * steps / (time.perf_counter() - t0)


def torch_vectorized(optimizer, steps, beta=0.9, alpha=0.99, betas=(0.9, 0.999), eps=1e-8, params=False):
    """Run-steps per second of the K runs as one vectorized PyTorch computation (see the docstring);
    with ``params``, the (K, P) parameters after ``steps`` updates instead (to check it is the same update)."""
    import torch
    torch.set_num_threads(1)
    e = exp(optimizer, steps)
    data = e.make_data()
    x = torch.tensor(data.x, dtype=torch.float64)[None, :, None]          # (1, N, 1)
    y = torch.tensor(data.y, dtype=torch.float64)[None, :]                # (1, N)
    th = torch.tensor(e.initial_params(), dtype=torch.float64)
    ps = [th[:H].repeat(K, 1), th[H:2 * H].repeat(K, 1), th[2 * H:3 * H].repeat(K, 1), th[3 * H:].repeat(K, 1)]
    for p in ps:
        p.requires_grad_(True)
    lr = torch.tensor(LRS, dtype=torch.float64)[:, None]                 # (K, 1): each run's rate
    state = [[torch.zeros_like(p) for p in ps] for _ in range(2)]
    b1, b2 = betas
    t0 = time.perf_counter()
    for t in range(1, steps + 1):
        w1, c1, w2, c2 = ps
        a1 = torch.sigmoid(x * w1[:, None, :] + c1[:, None, :])           # (K, N, H)
        y_pred = (a1 @ w2[:, :, None])[..., 0] + c2                       # (K, N)
        loss = ((y_pred - y) ** 2).mean(dim=1).sum()                      # runs are independent
        for p in ps:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p, m, v in zip(ps, *state):
                g = p.grad
                if optimizer == "gd":
                    p.sub_(lr * g)
                elif optimizer == "momentum":
                    m.mul_(beta).add_(g)
                    p.sub_(lr * m)
                elif optimizer == "nesterov":
                    m.mul_(beta).add_(g)
                    p.sub_(lr * (g + beta * m))
                elif optimizer == "rmsprop":
                    m.mul_(alpha).addcmul_(g, g, value=1 - alpha)
                    p.sub_(lr * g / (m.sqrt() + eps))
                else:                                                     # adam
                    m.mul_(b1).add_(g, alpha=1 - b1)
                    v.mul_(b2).addcmul_(g, g, value=1 - b2)
                    denom = (v / (1 - b2 ** t)).sqrt_().add_(eps)
                    p.sub_((lr / (1 - b1 ** t)) * m / denom)
    if params:
        return torch.cat([p.detach().reshape(K, -1) for p in ps], dim=1).numpy()
    return K * steps / (time.perf_counter() - t0)


def same_update(optimizer, steps=10):
    """max |Δθ| / max |θ| after ``steps`` updates, torch vectorized vs LR Lab (the two sum the
    gradient in another order; the fastest momentum runs amplify that rounding over more updates)."""
    e = exp(optimizer, steps)
    tr = e.trainer()
    tr.step(steps)
    theta = torch_vectorized(optimizer, steps, params=True)
    return float(np.max(np.abs(theta - tr.theta)) / np.max(np.abs(tr.theta)))


if __name__ == "__main__":
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    base = rate("gd", steps)
    print(f"N = {N}, H = {H}, sigmoid, {K} runs, {steps} updates; run-steps/s (best of 3)")
    if have_torch:
        print("  torch vectorized does LR Lab's update: max |Δθ|/max |θ| after 10 updates "
              + ", ".join(f"{name} {same_update(name):.1e}" for name in ("gd", "momentum", "nesterov", "rmsprop", "adam")))
    for name, goal in (("gd", 1.0), ("momentum", 0.85), ("nesterov", 0.85), ("rmsprop", 0.6), ("adam", 0.6)):
        r = base if name == "gd" else rate(name, steps)
        line = f"  {name:<9} {r:12,.0f}   {r / base:5.2f}x gd (goal >= {goal}: {'PASS' if r / base >= goal else 'FAIL'})"
        if have_torch:
            tr = torch_eager(name, max(200, steps // 10))
            tv = max(torch_vectorized(name, steps) for _ in range(3))
            line += (f"   torch eager {tr:9,.0f} ({r / tr:5.1f}x, goal >= 15: {'PASS' if r / tr >= 15 else 'FAIL'})"
                     f"   torch vectorized {tv:9,.0f} ({r / tv:4.2f}x, goal >= 1.3: {'PASS' if r / tv >= 1.3 else 'FAIL'})")
        print(line)
