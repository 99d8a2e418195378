"""Network benchmark: the forward/backward pass and the trainer, old code against new, and
the speed tricks of network.MLP against the plain version.

    git worktree add /tmp/lrlab-base <commit before the change>
    .venv/bin/python benchmarks/bench_network.py --base /tmp/lrlab-base [--rounds 5] [--cpu-time]
    .venv/bin/python benchmarks/bench_network.py --tricks-only

K = 16 runs in lockstep, N = 100 samples of y = 2x + 1 + noise on [0, 1], H = 16 hidden
units, float64, sigmoid and ReLU.  A "run-step" is one update of one run.

* old vs new     the same measurement in two trees (``--base``: a checkout of the code
                 before the change, and this tree), each in its own Python process so the
                 two never share an import; the processes alternate old, new, old, new …
                 (``--rounds`` of each) so load from elsewhere hits both alike; the best
                 of each is kept.  Two rows per activation: ``trainer`` is
                 ``Experiment(...).validated().trainer(data).step(S)`` (the command
                 line's path: losses, outcomes included), ``pass`` is the network's
                 ``loss_and_grad`` alone, on θ laid out as that tree's engine lays it out
                 (the old engine made a Fortran-ordered θ for K > 1).  Ratio new/old: the
                 goal is >= 0.9.  ``--cpu-time`` times by each process's CPU time (for a
                 machine shared with other work, where wall time swings by 2x).
* tricks         in this process: ``network.MLP`` as it is, MLP without the e^−z sigmoid
                 path, and a plain numpy pass (z1, a1, ∂L/∂z1 … as fresh (K, N, H) arrays,
                 sums over samples by matmul, the loss as mean(r²)); the figures quoted in
                 core/network.py's MLP docstring come from these rows.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
K, N, H = 16, 100, 16
ACTIVATIONS = ("sigmoid", "relu")

# Run in a child process whose working directory is the tree being measured.  It must work
# with the old network API (MLP(x, y, H, activation, runs); loss_and_grad(theta, grad)) and
# the new one (MLP(H, activation, runs); loss_and_grad(theta, x, y, grad)).
CHILD = r"""
import inspect, json, sys, time
sys.path.insert(0, ".")
import numpy as np
from core.experiment import Experiment
from core import network
K, N, H, steps, passes, repeats = (int(v) for v in sys.argv[1:7])
clock = getattr(time, sys.argv[8])
out = {}
for act in sys.argv[7].split(","):
    lrs = tuple(float(v) for v in np.geomspace(0.01, 0.3, K))
    exp = Experiment(dataset="linear", samples=N, noise=0.1, x_range=(0.0, 1.0), activation=act,
                     hidden=H, learning_rates=lrs, steps=steps, seed=0).validated()
    data = exp.make_data()
    best = float("inf")
    for _ in range(repeats):
        tr = exp.trainer(data)
        t0 = clock(); tr.step(steps); best = min(best, clock() - t0)
        assert tr.active.all()
    out[act + " trainer"] = K * steps / best
    theta = exp.trainer(data).theta.copy(order="K")    # the layout this tree's engine trains in
    grad = np.empty_like(theta)
    new_api = "x" in inspect.signature(network.MLP.loss_and_grad).parameters
    if new_api:
        net = network.MLP(H, act, runs=K); call = lambda: net.loss_and_grad(theta, data.x, data.y, grad)
    else:
        net = network.MLP(data.x, data.y, H, act, runs=K); call = lambda: net.loss_and_grad(theta, grad)
    best = float("inf")
    for _ in range(repeats):
        t0 = clock()
        for _ in range(passes):
            call()
        best = min(best, clock() - t0)
    out[act + " pass"] = K * passes / best
print(json.dumps(out))
"""


def measure_tree(tree: str, steps: int, passes: int, repeats: int, clock: str = "perf_counter") -> dict:
    r = subprocess.run([sys.executable, "-c", CHILD, str(K), str(N), str(H), str(steps), str(passes),
                        str(repeats), ",".join(ACTIVATIONS), clock], cwd=tree, capture_output=True, text=True,
                       env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1"))
    if r.returncode:
        raise SystemExit(f"{tree}: {r.stderr.strip().splitlines()[-1]}")
    return json.loads(r.stdout)


def old_vs_new(base: str, rounds: int, steps: int, passes: int, repeats: int, clock: str = "perf_counter") -> None:
    best = {"old": {}, "new": {}}
    for _ in range(rounds):
        for name, tree in (("old", base), ("new", ROOT)):
            for row, v in measure_tree(tree, steps, passes, repeats, clock).items():
                best[name][row] = max(best[name].get(row, 0.0), v)
    print(f"old vs new: K = {K}, N = {N}, H = {H}, run-steps per second, best of {rounds} alternating "
          f"processes × {repeats} repeats, clock: time.{clock}")
    print(f"{'row':<18} {'old':>12} {'new':>12} {'new/old':>8}")
    for row in best["old"]:
        o, n = best["old"][row], best["new"][row]
        print(f"{row:<18} {o:>12,.0f} {n:>12,.0f} {n / o:>8.3f}  {'PASS' if n / o >= 0.9 else 'FAIL'} (goal >= 0.9)")


# -- the tricks, in this process ----------------------------------------------------------
def plain_loss_and_grad(theta, x, y, activation, grad):
    """The tutorial's pass with no tricks: every intermediate a fresh array."""
    act = activation
    n = x.size
    w1, b1, w2, b2 = theta[:, :H], theta[:, H:2 * H], theta[:, 2 * H:3 * H], theta[:, 3 * H]
    z1 = x[None, :, None] * w1[:, None, :] + b1[:, None, :]          # (K, N, H)
    a1 = act.forward(z1, np.empty_like(z1))
    y_pred = np.matmul(a1, w2[:, :, None])[:, :, 0] + b2[:, None]
    r = y_pred - y
    loss = np.mean(r * r, axis=1)
    dL_dy_pred = 2 * r / n
    dL_dw2 = np.matmul(dL_dy_pred[:, None, :], a1)[:, 0, :]
    dL_db2 = dL_dy_pred.sum(axis=1)
    dL_da1 = dL_dy_pred[:, :, None] * w2[:, None, :]
    dL_dz1 = dL_da1 * act.derivative(a1, np.empty_like(a1))
    dL_dw1 = np.matmul(x, dL_dz1)
    dL_db1 = dL_dz1.sum(axis=1)
    grad[:, :H], grad[:, H:2 * H], grad[:, 2 * H:3 * H], grad[:, 3 * H] = dL_dw1, dL_db1, dL_dw2, dL_db2
    return loss


def tricks(passes: int, repeats: int) -> None:
    sys.path.insert(0, ROOT)
    from core.activations import get_activation
    from core.experiment import Experiment
    from core.network import MLP
    print(f"\ntricks: network pass alone, K = {K}, N = {N}, H = {H}, run-steps per second, best of {repeats}")
    print(f"{'row':<34} {'run-steps/s':>12} {'vs MLP':>7}")
    for act_name in ACTIVATIONS:
        exp = Experiment(dataset="linear", samples=N, noise=0.1, x_range=(0.0, 1.0), activation=act_name,
                         hidden=H, learning_rates=(0.1,) * K, seed=0).validated()
        data = exp.make_data()
        theta = np.array(np.broadcast_to(exp.initial_params(), (K, 3 * H + 1)))
        act = get_activation(act_name)
        rows = {}                                           # name -> (one pass, its gradient)
        net = MLP(H, act_name, runs=K)
        g = np.empty_like(theta)
        rows["MLP"] = (lambda net=net, g=g: net.loss_and_grad(theta, data.x, data.y, g)), g
        if act.from_exp_neg_z:
            no_exp = MLP(H, act_name, runs=K)
            no_exp.activation = dataclasses.replace(act, from_exp_neg_z=None)
            g = np.empty_like(theta)
            rows["MLP without the e^−z path"] = (
                lambda net=no_exp, g=g: net.loss_and_grad(theta, data.x, data.y, g)), g
        g = np.empty_like(theta)
        rows["plain numpy pass"] = (lambda g=g: plain_loss_and_grad(theta, data.x, data.y, act, g)), g
        for f, g in rows.values():                          # the same numbers before timing
            f()
            np.testing.assert_allclose(g, rows["MLP"][1], rtol=1e-10, atol=1e-13)
        rows = {k: f for k, (f, _) in rows.items()}
        best = {k: float("inf") for k in rows}
        for _ in range(repeats):
            for k, f in rows.items():                       # round-robin
                t0 = time.perf_counter()
                for _ in range(passes):
                    f()
                best[k] = min(best[k], time.perf_counter() - t0)
        for k in rows:
            print(f"{act_name + ': ' + k:<34} {K * passes / best[k]:>12,.0f} {best['MLP'] / best[k]:>7.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", help="a checkout of the code before the change (git worktree add …)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--repeats", type=int, default=5, help="repeats of each tricks row (best kept)")
    p.add_argument("--tricks-only", action="store_true")
    p.add_argument("--cpu-time", action="store_true",
                   help="old vs new on the processes' CPU time (time.process_time), for a machine "
                        "shared with other work; wall time (time.perf_counter) otherwise")
    a = p.parse_args()
    if not a.tricks_only and not a.base:
        p.error("--base DIR (a checkout of the code before the change) is needed, or --tricks-only")
    if not a.tricks_only:
        old_vs_new(a.base, a.rounds, a.steps, a.steps, a.repeats, "process_time" if a.cpu_time else "perf_counter")
    tricks(a.steps, a.repeats)


if __name__ == "__main__":
    main()
