"""Engine benchmark: run-steps per second of LR Lab against plain numpy and PyTorch.

    .venv/bin/python benchmarks/bench_engine.py [--quick] [--activation sigmoid|relu|both]

One process, side by side: N = 100 samples of y = 2x + 1 + noise, x evenly spaced on
[0, 1], H = 16 hidden units, float64, K = 1, 16, 64 runs with learning rates spread
over 0.01 … 0.3 (no run blows up and stops early, so every row does the same work):

* LR Lab           ``Experiment(...).validated().trainer(data).step(S)``: the command
                   line's code path, loss recording and outcome tracking included.
* numpy per run    a careful hand-written single-run numpy loop (one flat parameter vector,
                   matmuls with the bias folded in, buffers made once, in-place ufuncs, the
                   loss recorded every step); the K runs one after another.
* torch eager      autograd + ``torch.optim.SGD``, float64, one thread; runs one after another.
* torch manual     the same with a hand-written ``p -= lr·p.grad`` under ``no_grad``.
* torch vectorized the K runs as one batched computation over a run axis: parameters
                   (K, H), autograd, ``baddbmm``/``bmm``, float64, one thread, per-run rates.

A "run-step" is one update of one run: K runs in lockstep for S steps are K·S run-steps.
Every row starts from the same parameters and must reach the same losses as LR Lab
(checked to 1e-9 on a short run before timing), so no row is timed doing less.  The
rows are timed round-robin, the best of several repeats (time.perf_counter), so load
from elsewhere on the machine hits every row alike.  Torch rows are skipped when torch
is not installed (it is a benchmark extra, never a dependency of LR Lab).  Then the
issue's goal ratios, PASS/FAIL, and the memory of the loss record (RSS from
/proc/self/status).  About 2 minutes (``--quick``: under a minute).
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from core.experiment import Experiment  # noqa: E402

try:
    import torch
except ImportError:            # torch is a benchmark extra, never a dependency of LR Lab
    torch = None

N, H = 100, 16
KS = (1, 16, 64)


def experiment(K: int, steps: int, activation: str) -> Experiment:
    lrs = (0.1,) if K == 1 else tuple(float(v) for v in np.geomspace(0.01, 0.3, K))
    return Experiment(dataset="linear", samples=N, noise=0.1, x_range=(0.0, 1.0), activation=activation,
                      hidden=H, learning_rates=lrs, steps=steps, seed=0).validated()


# -- LR Lab -------------------------------------------------------------------------------
def lrlab(exp: Experiment, data, steps: int):
    tr = exp.trainer(data)
    tr.step(steps)
    assert tr.t == steps and tr.active.all(), "a run stopped early: the rows would not compare"
    return tr.loss_history()[:, -1].copy()


# -- numpy, one run at a time ------------------------------------------------------------
def numpy_run(x, y, theta0, lr, steps, activation):
    """One run, written by hand as carefully as numpy allows: parameters and gradient in one
    flat vector (one update call), both layers as matmuls with the bias folded in, buffers
    made once, in-place ufuncs, the loss recorded every step."""
    n, h = x.size, (theta0.size - 1) // 3
    theta, grad = theta0.copy(), np.empty_like(theta0)
    W = theta[:2 * h].reshape(2, h)                    # [w1; b1]   views of theta
    w2, b2 = theta[2 * h:3 * h], theta[3 * h:]
    gW = grad[:2 * h].reshape(2, h)
    sigmoid = activation == "sigmoid"
    X1 = np.stack([x, np.ones(n)], axis=1)             # [x, 1]  (N, 2)
    X1_in = -X1 if sigmoid else X1                      # the sigmoid wants −z
    X1_T = np.ascontiguousarray(X1.T)
    z, a, d = np.empty((n, h)), np.empty((n, h)), np.empty((n, h))
    yp, r = np.empty(n), np.empty(n)
    losses = np.empty(steps + 1)
    for t in range(steps + 1):
        np.matmul(X1_in, W, out=z)                     # ±z = ±(x·w1 + b1)
        if sigmoid:
            np.exp(z, out=a)                           # a = 1 / (1 + e^−z)
            a += 1.0
            np.divide(1.0, a, out=a)
            np.subtract(1.0, a, out=d)                 # σ' = a(1 − a)
            d *= a
        else:
            np.maximum(z, 0.0, out=a)
            np.greater(a, 0.0, out=d)
        np.matmul(a, w2, out=yp)                       # y_pred = a·w2 + b2
        np.subtract(yp, y, out=r)
        r += b2
        losses[t] = np.dot(r, r) / n
        if t == steps:
            break
        r *= 2.0 / n                                   # ∂L/∂y_pred
        np.matmul(r, a, out=grad[2 * h:3 * h])         # ∂L/∂w2
        grad[3 * h] = r.sum()                          # ∂L/∂b2
        d *= np.multiply.outer(r, w2)                  # ∂L/∂z1 = ∂L/∂y_pred·w2·σ'
        np.matmul(X1_T, d, out=gW)                     # ∂L/∂[w1; b1]
        grad *= -lr                                    # θ ← θ − η·∂L/∂θ
        theta += grad
    return losses


def numpy_runs(exp, data, steps):
    theta0 = exp.initial_params()
    return np.array([numpy_run(data.x, data.y, theta0, lr, steps, exp.activation)[-1]
                     for lr in exp.learning_rates])


# -- PyTorch ------------------------------------------------------------------------------
def _torch_params(theta0, h):
    t = torch.tensor(theta0, dtype=torch.float64)
    return [t[:h].clone().requires_grad_(), t[h:2 * h].clone().requires_grad_(),
            t[2 * h:3 * h].clone().requires_grad_(), t[3 * h].clone().requires_grad_()]


def torch_eager_run(x, y, theta0, lr, steps, activation, manual: bool):
    h = (theta0.size - 1) // 3
    w1, b1, w2, b2 = params = _torch_params(theta0, h)
    act = torch.sigmoid if activation == "sigmoid" else torch.relu
    xc = x[:, None]
    opt = None if manual else torch.optim.SGD(params, lr=lr)
    hist = []
    for t in range(steps + 1):
        y_pred = act(xc * w1 + b1) @ w2 + b2
        loss = torch.mean((y - y_pred) ** 2)
        hist.append(loss.detach())
        if t == steps:
            break
        if manual:
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p.sub_(p.grad, alpha=lr)
                    p.grad = None
        else:
            opt.zero_grad()
            loss.backward()
            opt.step()
    return torch.stack(hist).numpy()


def torch_eager_runs(exp, data, steps, manual=False):
    theta0 = exp.initial_params()
    x, y = torch.tensor(data.x), torch.tensor(data.y)
    return np.array([torch_eager_run(x, y, theta0, lr, steps, exp.activation, manual)[-1]
                     for lr in exp.learning_rates])


def torch_vectorized(exp, data, steps):
    theta0 = exp.initial_params()
    K, h = len(exp.learning_rates), exp.hidden
    t0 = torch.tensor(np.repeat(theta0[None, :], K, axis=0))
    w1 = t0[:, :h].clone().requires_grad_()                    # (K, H)
    b1 = t0[:, h:2 * h].clone().requires_grad_()
    w2 = t0[:, 2 * h:3 * h, None].clone().requires_grad_()     # (K, H, 1)
    b2 = t0[:, 3 * h:].clone().requires_grad_()                # (K, 1)
    params = (w1, b1, w2, b2)
    lr = torch.tensor(exp.learning_rates, dtype=torch.float64)
    lrs = (lr[:, None], lr[:, None], lr[:, None, None], lr[:, None])
    act = torch.sigmoid if exp.activation == "sigmoid" else torch.relu
    x = torch.tensor(data.x)[None, :, None]                   # (1, N, 1)
    y = torch.tensor(data.y)
    hist = []
    for t in range(steps + 1):
        a = act(torch.baddbmm(b1[:, None, :], x.expand(K, -1, -1), w1[:, None, :]))   # (K, N, H)
        y_pred = torch.bmm(a, w2)[:, :, 0] + b2               # (K, N)
        loss = torch.mean((y - y_pred) ** 2, dim=1)           # (K,)
        hist.append(loss.detach())
        if t == steps:
            break
        loss.sum().backward()                 # runs are independent: ∂(ΣL)/∂θ_k = ∂L_k/∂θ_k
        with torch.no_grad():
            for p, r in zip(params, lrs):
                p.sub_(r * p.grad)
                p.grad = None
    return torch.stack(hist).numpy()[-1]


# -- the table ----------------------------------------------------------------------------
LAB, NUMPY = "LR Lab (lockstep)", "numpy, one run at a time"
SGD, MANUAL, VECTOR = "torch eager, optim.SGD", "torch eager, manual update", "torch vectorized (bmm)"


def measure(activation: str, quick: bool):
    """{row: {K: run-steps per second}}.

    The rows are timed round-robin (each repeat times every row once), so a burst of
    load from elsewhere on the machine hits all rows alike; each row keeps its best time.
    """
    scale = 0.4 if quick else 1.0
    reps = 3 if quick else 6
    #        name, function, data transform, steps per timing (about 0.1-0.3 s each)
    plan = [(LAB, lrlab, None, {1: 4000, 16: 1000, 64: 300})]
    plan.append((NUMPY, numpy_runs, None, {1: 3000, 16: 200, 64: 50}))
    if torch is not None:
        eager = {1: 500, 16: 40, 64: 10}
        plan += [(SGD, torch_eager_runs, None, eager),
                 (MANUAL, lambda e, d, s: torch_eager_runs(e, d, s, manual=True), None, eager),
                 (VECTOR, torch_vectorized, None, {1: 500, 16: 300, 64: 100})]
    rows = {name: {} for name, *_ in plan}
    for K in KS:
        check = experiment(K, 30, activation)
        data = check.make_data()
        # Same work: every row must reach the same losses as LR Lab's (a short run).
        ref = numpy_runs(check, data, 30)
        for name, fn, _, _ in plan:
            if name != NUMPY:
                got = fn(check, data, 30)
                if not np.allclose(got, ref, rtol=1e-9, atol=0):
                    raise SystemExit(f"{name} disagrees with the numpy loop at K = {K}: {got} vs {ref}")
        jobs = [(name, fn, data if transform is None else transform(data), experiment(K, S, activation), S)
                for name, fn, transform, steps in plan for S in [max(5, int(steps[K] * scale))]]
        best = {name: float("inf") for name, *_ in jobs}
        for _ in range(reps):
            for name, fn, d, exp, S in jobs:
                gc.collect()
                t0 = time.perf_counter()
                fn(exp, d, S)
                best[name] = min(best[name], time.perf_counter() - t0)
        for name, _, _, _, S in jobs:
            rows[name][K] = K * S / best[name]
    return rows


def print_table(title, rows):
    print(f"\n{title}")
    print(f"{'run-steps per second':28s}" + "".join(f"{'K = ' + str(K):>12s}" for K in KS))
    for name, r in rows.items():
        print(f"{name:28s}" + "".join(f"{r[K]:12,.0f}" for K in KS))


def goals(rows):
    lab, one_np = rows[LAB], rows[NUMPY][1]
    print("\nGoals (issue 2), sigmoid, LR Lab as timed above:")
    checks, info = [], []
    if SGD in rows:
        sgd, man, vec = rows[SGD], rows[MANUAL], rows[VECTOR]
        checks += [("single run vs torch eager (optim.SGD)", lab[1] / sgd[1], 5.0),
                   ("16 lockstep vs torch eager, 16 runs in turn", lab[16] / sgd[16], 15.0),
                   ("16 lockstep vs torch vectorized, K = 16", lab[16] / vec[16], 1.3)]
        info += [("single run vs torch eager, manual update", lab[1] / man[1]),
                 ("16 lockstep vs torch eager manual, in turn", lab[16] / man[16]),
                 ("64 lockstep vs torch vectorized, K = 64", lab[64] / vec[64])]
    else:
        print("  (torch is not installed: the torch goals are skipped)")
    checks.append(("16 lockstep vs one numpy run", lab[16] / one_np, 2.5))
    for name, ratio, goal in checks:
        print(f"  {name:46s} {ratio:6.2f}x  goal >= {goal:4.1f}x  {'PASS' if ratio >= goal else 'FAIL'}")
    for name, ratio in info:
        print(f"  {name:46s} {ratio:6.2f}x  (for information)")


def rss_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def memory(quick: bool):
    """RSS growth of the loss record: 16 runs, a budget of 1,000,000 steps, 200k of them trained."""
    K, budget, trained = 16, 1_000_000, 50_000 if quick else 200_000
    # Memory does not depend on the network's size: a small one keeps this part short.
    exp = Experiment(dataset="linear", samples=4, noise=0.1, x_range=(0.0, 1.0), hidden=1,
                     learning_rates=tuple(float(v) for v in np.geomspace(0.01, 0.3, K)),
                     steps=budget, seed=0).validated()
    data = exp.make_data()
    gc.collect()
    before = rss_bytes()
    tr = exp.trainer(data)
    made = rss_bytes()
    tr.step(trained)
    after = rss_bytes()
    per = (after - made) / (K * trained)
    full = K * (budget + 1) * 8
    print(f"\nMemory of the loss record: 16 runs, a budget of 1,000,000 steps "
          f"({tr.losses.nbytes / 1e6:.0f} MB reserved: float64, np.empty, paged in as trained)")
    print(f"  RSS growth: making the trainer {(made - before) / 1e6:.1f} MB; training {trained:,} steps "
          f"{(after - made) / 1e6:.1f} MB = {per:.2f} bytes per run-step (8 stored; the rest is page rounding)")
    print(f"  16 runs x 1,000,000 steps, trained to the end: {full / 1e6:.0f} MB (8 bytes x 16 x 1,000,001)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer steps and repeats (under a minute)")
    p.add_argument("--activation", choices=("sigmoid", "relu", "both"), default="both")
    args = p.parse_args(argv)
    if torch is not None:
        torch.set_num_threads(1)
    t0 = time.perf_counter()
    print(f"LR Lab engine benchmark: N = {N} samples, H = {H} hidden, float64, one thread"
          f"{'' if torch is None else ', torch ' + torch.__version__}, numpy {np.__version__}")
    acts = ("sigmoid", "relu") if args.activation == "both" else (args.activation,)
    for act in acts:
        rows = measure(act, args.quick)
        print_table(f"{act}: run-steps per second (best of repeats; higher is better)", rows)
        if act == "sigmoid":
            goals(rows)
    memory(args.quick)
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
