"""core.export_torch: the experiment as a standalone PyTorch script.

Without PyTorch: the script imports nothing of LR Lab, and its literals are the experiment's data,
initial parameters and columns to the bit.  With PyTorch (``torch`` importable here, or a Python
that has it named by LRLAB_TORCH_PYTHON): the script's CSV equals ``train --csv`` to 1e-9."""
import ast
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.batches import batches
from core.curvature import forecast
from core.experiment import preset
from core.export_torch import torch_script
from core.network import unpack
from core.optim import Recipe
from core.recipes import column_labels
from core.schedules import Schedule

ROOT = Path(__file__).resolve().parents[1]

MIXED = replace(preset("exercise3"), steps=300, runs=(
    Recipe(0.1), Recipe(0.1, "momentum", momentum=0.9),
    Recipe(0.05, "nesterov", momentum=0.8, schedule=Schedule("cosine", warmup_steps=30, warmup_start_factor=0.1)),
    Recipe(0.01, "adam", schedule=Schedule("one-cycle")),
    Recipe(0.01, "rmsprop", schedule=Schedule("step", step_size=50, gamma=0.5)),
    Recipe(0.3, schedule=Schedule("exponential", gamma=0.995)),
    Recipe(0.2, schedule=Schedule("constant", warmup_steps=50, warmup_start_factor=0.01)),
    Recipe(40.0)))                                        # blows up: stops as LR Lab stops it
MIXED_BATCHES = replace(MIXED, batch_size=7)              # 50 points: 8 batches an epoch, the last of 1


def literals(script: str) -> dict:
    out = {}
    for node in ast.parse(script).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


@pytest.mark.parametrize("exp", [MIXED, preset("tutorial"), replace(preset("exercise4"), model="linear"),
                                 MIXED_BATCHES, preset("one-sample")])
def test_the_script_holds_the_experiment_to_the_bit_and_imports_nothing_of_lr_lab(exp):
    exp = exp.validated()
    text = torch_script(exp)
    compile(text, "script.py", "exec")
    imports = {a.name.split(".")[0] for n in ast.walk(ast.parse(text)) if isinstance(n, (ast.Import, ast.ImportFrom))
               for a in n.names} | {n.module.split(".")[0] for n in ast.walk(ast.parse(text))
                                    if isinstance(n, ast.ImportFrom)}
    assert imports <= {"math", "sys", "numpy", "torch"}
    lit = literals(text)
    data = exp.make_data()
    assert np.array_equal(lit["X"], data.x) and np.array_equal(lit["Y"], data.y)
    theta = exp.initial_params()
    if exp.model == "linear":
        assert [lit["INIT"]["w"], lit["INIT"]["b"]] == theta.tolist()
    else:
        w1, b1, w2, b2 = unpack(theta, exp.hidden)
        assert (lit["INIT"]["w1"], lit["INIT"]["b1"], lit["INIT"]["w2"], lit["INIT"]["b2"]) == \
            (w1.tolist(), b1.tolist(), w2.tolist(), float(b2))
    assert lit["STEPS"] == exp.steps
    assert [r["column"] for r in lit["RUNS"]] == column_labels(exp.recipes())
    assert [{k: v for k, v in r.items() if k != "column"} for r in lit["RUNS"]] == \
        [r.to_dict() for r in exp.recipes()]
    if exp.batch_size is None:
        assert lit["BATCH_SIZE"] is None
        return
    # the order the script checks its numpy against is core.batches' (the batches of updates 1 … steps + 1)
    assert lit["BATCH_SIZE"] == exp.batch_size and lit["SEED"] == exp.seed
    N = len(data)
    per_epoch = -(-N // exp.batch_size)
    epochs = exp.steps // per_epoch + 1
    flat = np.concatenate(batches(N, exp.batch_size, exp.rngs()[2], epochs)).reshape(epochs, N)
    assert lit["FIRST_ORDER"] == flat[0].tolist()
    assert lit["ORDER_CHECKSUM"] == sum((e + 1) * sum(i * int(v) for i, v in enumerate(row)) for e, row in enumerate(flat))


def torch_python():
    try:
        import torch  # noqa: F401
        return sys.executable
    except ImportError:
        exe = os.environ.get("LRLAB_TORCH_PYTHON")
        if not exe:
            pytest.skip("PyTorch is not installed (set LRLAB_TORCH_PYTHON to a Python that has it)")
        return exe


def read_csv(path):
    lines = Path(path).read_text().splitlines()
    rows = [[float(c) if c else np.nan for c in line.split(",")] for line in lines[1:]]
    return lines[0], np.array(rows)


@pytest.mark.parametrize("name, exp", [("mixed", MIXED), ("tutorial", preset("tutorial")),
                                       ("exercise3", preset("exercise3")), ("momentum", preset("momentum")),
                                       ("warmup", preset("warmup")), ("mixed-batches", MIXED_BATCHES),
                                       ("one-sample", preset("one-sample")),
                                       ("batch-phase", preset("batch-phase"))])
def test_the_scripts_csv_equals_train_csv(tmp_path, name, exp):
    py = torch_python()
    config, script = tmp_path / "e.json", tmp_path / "e.py"
    config.write_text(exp.validated().to_json())
    for args in (["export-torch", "--config", config, "--out", script],
                 ["train", "--config", config, "--csv", tmp_path / "lab.csv"]):
        r = subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    r = subprocess.run([py, str(script), str(tmp_path / "torch.csv")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    head_lab, lab = read_csv(tmp_path / "lab.csv")
    head_torch, torch_ = read_csv(tmp_path / "torch.csv")
    assert head_lab == head_torch
    assert np.array_equal(np.isnan(lab), np.isnan(torch_))
    # 1e-9 relative; a loss at the round-off floor (a converged run's 1e-25) is compared against
    # 1e-13 of the run's initial loss instead: there the loss is the cancellation of its residuals
    floor = 1e-13 * lab[0]
    ok = ~np.isnan(lab)
    if name == "warmup":
        # Once the warmed-up run's rate passes its critical rate it hovers at the edge of stability,
        # where every update multiplies a last-bit difference by |1 − ηλ_max| > 1 for a while:
        # the two CSVs part after that (measured: 1e-14 at update 271, 1e-9 at 293). Compared up to
        # the crossing; after it, the two agree on which run blew up (the NaN pattern above).
        e = exp.validated()
        crit = 2 / forecast(e.trainer().hessian()[0], [1.0]).sharpness
        rates = e.update_rule(steps=e.steps).rate_table(0, e.steps)[:, 1]
        ok[int(np.argmax(rates > crit)) + 1:] = False
    diff = np.abs(torch_ - lab)
    assert np.all(diff[ok] <= np.maximum(1e-9 * np.abs(lab), np.broadcast_to(floor, lab.shape))[ok])


def test_export_torch_batch_size_flag_writes_the_batches_into_the_script(tmp_path):
    script = tmp_path / "e.py"
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "export-torch", "--preset", "exercise3",
                        "--batch-size", "7", "--steps", "20", "--out", str(script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lit = literals(script.read_text())
    exp = replace(preset("exercise3"), batch_size=7, steps=20).validated()
    assert lit["BATCH_SIZE"] == 7 and lit["FIRST_ORDER"] == exp.rngs()[2].permutation(50).tolist()
