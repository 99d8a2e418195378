"""Run-steps per second with mini-batches against the full-batch step, side by side in one run.

N = 1,000, H = 16, sigmoid, 16 runs, gradient descent.  Rows: full batch (the reference);
B = 10 with the whole-data loss recorded after every update (a forward pass and a mean of
squares, no gradient; goal >= 1.4x full batch); B = 10 with the whole-data loss once an
epoch (every 100 updates).  The rows alternate, best of ``repeats``.

    python benchmarks/bench_batches.py [steps] [repeats]
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from core.experiment import Experiment  # noqa: E402

K, N, H, B = 16, 1000, 16, 10
LRS = tuple(float(v) for v in np.geomspace(1e-3, 0.05, K))
ROWS = (("full batch", None, "update"), (f"B = {B}, loss every update", B, "update"),
        (f"B = {B}, loss once an epoch", B, "epoch"))


def exp(batch_size, steps):
    return Experiment(dataset="linear", samples=N, noise=0.1, x_range=(0.0, 2.0), activation="sigmoid",
                      hidden=H, steps=steps, seed=0, learning_rates=LRS, batch_size=batch_size).validated()


def main(steps=2000, repeats=5):
    best = {name: 0.0 for name, _, _ in ROWS}
    data = exp(None, steps).make_data()
    for _ in range(repeats):
        for name, b, every in ROWS:
            tr = exp(b, steps).trainer(data, loss_every=every)
            t0 = time.perf_counter()
            tr.step(steps)
            best[name] = max(best[name], K * steps / (time.perf_counter() - t0))
    ref = best[ROWS[0][0]]
    print(f"N = {N}, H = {H}, sigmoid, {K} runs, {steps} steps, best of {repeats}")
    print(f"{'':32s} {'run-steps/s':>12s}  {'vs full batch':>13s}")
    for name, _, _ in ROWS:
        print(f"{name:32s} {best[name]:12.0f}  {best[name] / ref:12.2f}x")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
