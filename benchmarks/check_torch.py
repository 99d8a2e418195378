"""LR Lab's optimizers and schedules against PyTorch's own, update for update.

Run with a Python that has torch and numpy (PyTorch is no dependency of LR Lab):

    python -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
    /tmp/torchenv/bin/python benchmarks/check_torch.py

Every recipe below trains the network (sigmoid, H = 16, 100 points on [0, 10], y = 2x + 1)
in LR Lab, all runs in lockstep; then each recipe again in PyTorch, one after another: the
same θ₀ as a float64 tensor, torch.optim's optimizer and torch.optim.lr_scheduler's
scheduler, the gradient of LR Lab's network at PyTorch's parameters (so only the update
rules are compared).  Prints the largest relative difference of the losses, the final
parameters and the rates (``check`` returns them; tests/test_optim.py calls it where torch imports).
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from core.experiment import Experiment  # noqa: E402
from core.optim import Recipe  # noqa: E402
from core.schedules import Schedule  # noqa: E402

STEPS = 300


def recipes(steps: int = STEPS):
    cos = Schedule("cosine", eta_min=1e-4)
    return (
        Recipe(0.05, "gd"),
        Recipe(0.02, "momentum", momentum=0.9),
        Recipe(0.01, "nesterov", momentum=0.9),
        Recipe(0.003, "rmsprop", alpha=0.99, eps=1e-8),
        Recipe(0.01, "adam", betas=(0.9, 0.999), eps=1e-8),
        Recipe(0.05, "adam", betas=(0.3, 0.99), eps=1e-6),               # lerp's other branch
        Recipe(0.05, "gd", schedule=Schedule("step", step_size=50, gamma=0.5)),
        Recipe(0.05, "momentum", schedule=Schedule("exponential", gamma=0.995)),
        Recipe(0.02, "adam", schedule=cos),
        Recipe(0.05, "gd", schedule=Schedule("cosine", eta_min=0.0)),
        Recipe(0.05, "nesterov", schedule=Schedule("one-cycle")),
        Recipe(0.05, "gd", schedule=Schedule("constant", warmup_steps=40, warmup_start_factor=0.01)),
        Recipe(0.05, "rmsprop", schedule=Schedule("step", step_size=30, gamma=0.7, warmup_steps=25,
                                                   warmup_start_factor=0.1)),
        Recipe(0.05, "adam", schedule=Schedule("exponential", gamma=0.99, warmup_steps=60, warmup_start_factor=0.2)),
        Recipe(0.05, "momentum", schedule=Schedule("cosine", eta_min=1e-3, warmup_steps=100, warmup_start_factor=0.05)),
    )


def experiment(steps: int = STEPS) -> Experiment:
    return Experiment(dataset="linear", samples=100, noise=0.0, x_range=(0.0, 10.0), model="mlp",
                      activation="sigmoid", hidden=16, steps=steps, seed=0, runs=recipes(steps)).validated()


def torch_scheduler(torch, opt, r: Recipe, steps: int):
    sch = torch.optim.lr_scheduler
    s = r.schedule
    W, T = s.warmup_steps, steps - s.warmup_steps
    if s.name == "constant":
        return sch.LinearLR(opt, start_factor=s.warmup_start_factor, total_iters=W) if W else None
    if s.name == "one-cycle":
        return sch.OneCycleLR(opt, max_lr=r.lr, total_steps=T, pct_start=float(s.pct_start), anneal_strategy="cos",
                              cycle_momentum=False, div_factor=s.div_factor, final_div_factor=s.final_div_factor,
                              three_phase=False)
    decay = {"step": lambda: sch.StepLR(opt, step_size=s.step_size, gamma=s.gamma),
             "exponential": lambda: sch.ExponentialLR(opt, gamma=s.gamma),
             "cosine": lambda: sch.CosineAnnealingLR(opt, T_max=T, eta_min=s.eta_min)}[s.name]
    if not W:
        return decay()
    warm = sch.LinearLR(opt, start_factor=s.warmup_start_factor, end_factor=1.0, total_iters=W)
    return sch.SequentialLR(opt, [warm, decay()], milestones=[W])


def torch_optimizer(torch, p, r: Recipe):
    o = torch.optim
    if r.optimizer in ("gd", "momentum", "nesterov"):
        return o.SGD([p], lr=r.lr, momentum=0.0 if r.optimizer == "gd" else r.momentum, dampening=0,
                     nesterov=r.optimizer == "nesterov", weight_decay=0)
    if r.optimizer == "rmsprop":
        return o.RMSprop([p], lr=r.lr, alpha=r.alpha, eps=r.eps, momentum=0, centered=False)
    return o.Adam([p], lr=r.lr, betas=tuple(r.betas), eps=r.eps, amsgrad=False, weight_decay=0)


def check(steps: int = STEPS) -> dict:
    import torch
    torch.set_num_threads(1)
    exp = experiment(steps)
    data = exp.make_data()
    trainer = exp.trainer(data)
    rule = trainer.rule
    trainer.step(steps)
    ours_losses, ours_theta = trainer.losses.copy(), trainer.theta.copy()
    ours_rates = rule.rate_table(0, steps)
    net = exp.model_spec().build(runs=1)
    theta0 = exp.initial_params()
    K = len(exp.runs)
    losses, thetas, rates = np.empty((K, steps + 1)), np.empty_like(ours_theta), np.empty((steps, K))
    for k, r in enumerate(exp.runs):
        p = torch.tensor(theta0.copy(), dtype=torch.float64, requires_grad=True)
        opt = torch_optimizer(torch, p, r)
        sched = torch_scheduler(torch, opt, r, steps)
        grad = np.empty((1, theta0.size))
        for t in range(steps + 1):
            theta = p.detach().numpy().copy()[None, :]
            losses[k, t] = net.loss_and_grad(theta, data.x, data.y, grad)[0]
            if t == steps:
                break
            rates[t, k] = opt.param_groups[0]["lr"]
            p.grad = torch.tensor(grad[0].copy(), dtype=torch.float64)
            opt.step()
            if sched is not None:
                sched.step()
        thetas[k] = p.detach().numpy()

    def rel(a, b):
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))
    return {"losses": [rel(ours_losses[k], losses[k]) for k in range(K)],
            "theta": [rel(ours_theta[k], thetas[k]) for k in range(K)],
            "rates": [rel(ours_rates[:, k], rates[:, k]) for k in range(K)],
            "recipes": exp.runs}


def check_fixed_gradients(steps: int = STEPS, P: int = 49, seed: int = 0) -> list:
    """Every recipe fed the same sequence of gradients (drawn once, not depending on θ), in LR Lab
    and in PyTorch: the update rules' arithmetic alone, with no feedback through the loss to
    amplify a last-bit difference.  Returns (recipe, max relative difference of θ over the updates)."""
    import torch
    rng = np.random.default_rng(seed)
    gs = rng.standard_normal((steps, P)) * np.exp(rng.uniform(-3, 3, size=(steps, 1)))
    from core.optim import MixedRule
    rs = [r.check(steps) for r in recipes(steps)]
    rule = MixedRule(rs, steps)
    K = len(rs)
    theta0 = rng.standard_normal(P)
    ours = np.empty((steps, K, P))
    theta, delta = np.tile(theta0, (K, 1)), np.empty((K, P))
    for t in range(steps):
        rule.update(np.tile(gs[t], (K, 1)), t, delta)
        theta += delta
        ours[t] = theta
    out = []
    for k, r in enumerate(rs):
        p = torch.tensor(theta0.copy(), dtype=torch.float64, requires_grad=True)
        opt = torch_optimizer(torch, p, r)
        sched = torch_scheduler(torch, opt, r, steps)
        worst = 0.0
        for t in range(steps):
            p.grad = torch.tensor(gs[t].copy(), dtype=torch.float64)
            opt.step()
            if sched is not None:
                sched.step()
            th = p.detach().numpy()
            worst = max(worst, float(np.max(np.abs(ours[t, k] - th) / np.maximum(np.abs(th), 1e-300))))
        out.append((r, worst))
    return out


def check_rates_long(steps: int = 100_000) -> list:
    """The rates alone over a long budget (the cosine's end, the exponential's product)."""
    import torch
    out = []
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    for r in (Recipe(0.5, schedule=Schedule("cosine", eta_min=0.0)),
              Recipe(0.5, schedule=Schedule("cosine", eta_min=1e-3, warmup_steps=1000, warmup_start_factor=1e-3)),
              Recipe(0.5, schedule=Schedule("exponential", gamma=0.99995)),
              Recipe(0.5, schedule=Schedule("step", step_size=7, gamma=0.999, warmup_steps=333)),
              Recipe(1.5, schedule=Schedule("constant", warmup_steps=1000, warmup_start_factor=1e-6)),
              Recipe(0.5, schedule=Schedule("one-cycle"))):
        r = r.check(steps)
        opt = torch.optim.SGD([p], lr=r.lr)
        sched = torch_scheduler(torch, opt, r, steps)
        theirs = np.empty(steps)
        for t in range(steps):
            theirs[t] = opt.param_groups[0]["lr"]
            opt.step()
            sched.step()
        ours = r.schedule.rates(r.lr, steps)
        out.append((r.schedule.to_dict(), float(np.max(np.abs(ours - theirs) / np.abs(theirs))),
                    int(np.sum(ours != theirs))))
    return out


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore")
    import torch
    print(f"torch {torch.__version__}, numpy {np.__version__}; {STEPS} updates on the network (sigmoid, H = 16)")
    res = check()
    print("trained on the network (the loss feeds every last-bit difference back: the network at these "
          "rates sits at the edge of stability, where differences grow)")
    print(f"{'recipe':<78} {'losses':>9} {'theta':>9} {'rates':>9}")
    for k, r in enumerate(res["recipes"]):
        d = r.to_dict()
        print(f"{str(d)[:78]:<78} {res['losses'][k]:9.1e} {res['theta'][k]:9.1e} {res['rates'][k]:9.1e}")
    print(f"max relative difference: losses {max(res['losses']):.2e}, θ {max(res['theta']):.2e}, "
          f"rates {max(res['rates']):.2e}")
    print(f"the same {STEPS} fixed gradients fed to both (the update rules' arithmetic alone): max rel diff of θ")
    fixed = check_fixed_gradients()
    for r, m in fixed:
        print(f"  {str(r.to_dict())[:100]:<100} {m:9.1e}")
    print(f"  worst: {max(m for _, m in fixed):.2e}")
    print("rates over 100,000 updates (max rel diff, number of rates not bit-identical):")
    for d, m, n in check_rates_long():
        print(f"  {str(d):<100} {m:9.1e} {n:7d}")
