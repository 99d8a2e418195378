"""What tracking the sharpness costs: training with and without it, side by side.

    .venv/bin/python benchmarks/bench_sharpness.py

16 runs, N = 100 samples (sigmoid), at H = 2 (the exercises' width, where a training
step is cheapest and a measurement costs the most steps) and H = 16: the exact Hessian
(7 × 7 or 49 × 49 per run) and its eigenvalues every k steps, against the same training
without it.  The window measures every max(10, steps // 250) steps (gui.worker).
Also the cost of one dense Hessian.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.curvature import eigenvalues  # noqa: E402
from core.experiment import Experiment  # noqa: E402

STEPS, REPEATS = 2000, 5


def experiment(K=16, hidden=16):
    return Experiment(dataset="linear", samples=100, noise=0.1, x_range=(0.0, 1.0), hidden=hidden,
                      learning_rates=tuple(np.geomspace(0.01, 0.3, K)), steps=STEPS).validated()


def _time(exp, data, every: int, measure: bool) -> float:
    tr = exp.trainer(data, sharpness_every=every)
    t0 = time.perf_counter()
    tr.step(STEPS)
    if every and measure:
        tr.sharpness                              # the noted steps are measured when read
    return time.perf_counter() - t0


def best_times(every: int, hidden: int):
    """Best of REPEATS, in turns (this machine's speed swings over seconds): training without
    sharpness tracking; with λ noted every ``every`` steps and worked out at the end; noted only."""
    exp = experiment(hidden=hidden)
    data = exp.make_data()
    best = [np.inf, np.inf, np.inf]
    for _ in range(REPEATS):
        for i, (e, measure) in enumerate(((0, False), (every, True), (every, False))):
            best[i] = min(best[i], _time(exp, data, e, measure))
    return best


def per_call(f, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t0) / n


def main():
    for hidden in (2, 16):
        P = 3 * hidden + 1
        one = experiment(K=1, hidden=hidden).trainer()
        exp = experiment(hidden=hidden)
        data = exp.make_data()
        sixteen = exp.trainer(data)
        base = min(_time(exp, data, 0, False) for _ in range(REPEATS))      # (for the step's cost)
        print(f"H = {hidden} ({P} parameters), N = 100: one exact Hessian + eigenvalues "
              f"{per_call(lambda: eigenvalues(one.hessian()), 300) * 1e3:.3f} ms, "
              f"16 runs at once {per_call(lambda: eigenvalues(sixteen.hessian()), 50) * 1e3:.3f} ms; "
              f"one training step of 16 runs {base / STEPS * 1e3:.3f} ms")
        print(f"  16 runs x {STEPS} steps, best of {REPEATS} in turns with training untracked:")
        for every in (400, 100, 10, 1):
            base, t, noted = best_times(every, hidden)
            print(f"  sharpness every {every:3d} steps: {100 * (t / base - 1):+6.1f} % (noted while training, "
                  f"measured at the end); noted only (the window, its tab closed): {100 * (noted / base - 1):+5.1f} %")
        print()


if __name__ == "__main__":
    main()
