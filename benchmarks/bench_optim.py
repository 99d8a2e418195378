"""Run-steps per second of each optimizer against gradient descent, side by side in one run.

N = 100, H = 16, sigmoid, 16 runs, full batch.  Goals (issue 12): momentum and Nesterov
>= 0.85x gradient descent, RMSprop and Adam >= 0.6x.  Under a Python with torch (e.g.
/work/torchvenv/bin/python) it adds PyTorch eager running the 16 recipes one after another
(one thread, the gradient from autograd) for reference.

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


if __name__ == "__main__":
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    base = rate("gd", steps)
    print(f"N = {N}, H = {H}, sigmoid, {K} runs, {steps} updates; run-steps/s (best of 3)")
    for name, goal in (("gd", 1.0), ("momentum", 0.85), ("nesterov", 0.85), ("rmsprop", 0.6), ("adam", 0.6)):
        r = base if name == "gd" else rate(name, steps)
        line = f"  {name:<9} {r:12,.0f}   {r / base:5.2f}x gd (goal >= {goal})"
        if have_torch:
            tr = torch_eager(name, max(200, steps // 10))
            line += f"   torch eager {tr:10,.0f}  ({r / tr:5.1f}x)"
        print(line)
