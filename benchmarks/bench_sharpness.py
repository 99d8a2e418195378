"""What tracking the sharpness costs: training with and without it, side by side.

    .venv/bin/python benchmarks/bench_sharpness.py

16 runs, N = 100 samples, H = 16 hidden units (sigmoid): the exact Hessian (49 × 49 per
run) and its eigenvalues every k steps, against the same training without it.  Also the
cost of one dense Hessian at that size.
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


def experiment(K=16):
    return Experiment(dataset="linear", samples=100, noise=0.1, x_range=(0.0, 1.0), hidden=16,
                      learning_rates=tuple(np.geomspace(0.01, 0.3, K)), steps=STEPS).validated()


def best_time(every: int) -> float:
    exp = experiment()
    data = exp.make_data()
    best = np.inf
    for _ in range(REPEATS):
        tr = exp.trainer(data, sharpness_every=every)
        t0 = time.perf_counter()
        tr.step(STEPS)
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    exp = experiment(K=1)
    tr = exp.trainer()
    n = 300
    t0 = time.perf_counter()
    for _ in range(n):
        eigenvalues(tr.hessian())
    one = (time.perf_counter() - t0) / n
    print(f"one exact Hessian + eigenvalues, H = 16 (49 parameters), N = 100: {one * 1e3:.3f} ms")
    tr16 = experiment().trainer()
    t0 = time.perf_counter()
    for _ in range(50):
        eigenvalues(tr16.hessian())
    print(f"the same for 16 runs at once: {(time.perf_counter() - t0) / 50 * 1e3:.3f} ms")
    base = best_time(0)
    print(f"\n16 runs x {STEPS} steps, best of {REPEATS}, timed side by side:")
    print(f"  {'no sharpness tracking':28s} {base:7.3f} s")
    for every in (100, 10, 1):
        t = best_time(every)
        print(f"  {'sharpness every %d steps' % every:28s} {t:7.3f} s   {100 * (t / base - 1):+6.1f} %")


if __name__ == "__main__":
    main()
