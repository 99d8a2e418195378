"""The command line: its output, its files and its contract for bad input."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.experiment import preset

ROOT = Path(__file__).resolve().parents[1]


def lrlab(*args, cwd=None):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_importing_core_loads_no_qt():
    code = ("import sys, core.engine, core.experiment, core.explain, core.report, core.data; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'PyQt6', 'gui')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_explain_prints_the_worked_example_and_where_the_printout_differs():
    r = lrlab("explain")
    assert r.returncode == 0 and r.stderr == ""
    out = r.stdout
    for text in ("Forward propagation", "z1 = w1*x + b1", "5.0000", "0.9933", "Backward propagation",
                 "dL/dw1", "-0.0305", "w2: 1.5000 -> 1.6013", "0.0944", "tutorial prints +0.2602"):
        assert text in out, text
    assert out.index("Forward") < out.index("Loss") < out.index("Backward") < out.index("Gradient descent")


def test_train_exercise4_table(tmp_path):
    r = lrlab("train", "--preset", "exercise4")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    rows = {line.split()[0]: line.split() for line in lines if line.strip()[:1].isdigit() and len(line.split()) >= 4}
    assert rows["0.01"][3] == "slow" and rows["0.1"][3] == "converging"
    assert rows["0.5"][3] == "oscillating" and rows["1"][3] == "diverged"


def test_csv_and_json_contract(tmp_path):
    out_csv, out_json = tmp_path / "l.csv", tmp_path / "s.json"
    r = lrlab("train", "--preset", "exercise3", "--lr", "0.1", "30", "--steps", "300",
              "--csv", out_csv, "--json", out_json)
    assert r.returncode == 0, r.stderr
    with open(out_csv) as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "step" and "lr=0.1" in rows[0][1] and "lr=30" in rows[0][2]
    assert len(rows) == 302 and [int(r[0]) for r in rows[1:]] == list(range(301))
    # full float64 precision: the numbers read back equal an independent re-run bit for bit
    exp = preset("exercise3").validated()
    from dataclasses import replace
    tr = replace(exp, learning_rates=(0.1, 30.0), steps=300).validated().trainer()
    tr.step(300)
    col = np.array([float(r[1]) for r in rows[1:]])
    np.testing.assert_array_equal(col, tr.loss_history()[0])
    summary = json.loads(out_json.read_text())
    runs = summary["runs"]
    assert [set(r) for r in runs] == [{"lr", "final_loss", "best_loss", "outcome", "diverged_step",
                                       "column", "recipe"}] * 2
    assert [r["column"] for r in runs] == rows[0][1:]          # in the order of the CSV's columns
    assert runs[1]["recipe"] == {"lr": 30.0, "optimizer": "gd", "schedule": {"name": "constant"}}
    assert runs[0]["lr"] == 0.1 and runs[0]["final_loss"] == tr.loss_history()[0, -1]
    assert runs[1]["outcome"] == "diverged" and runs[1]["diverged_step"] is not None
    k = runs[1]["diverged_step"]
    if runs[1]["final_loss"] is None:          # blew up: the cells after it are empty
        assert all(r[2] == "" for r in rows[k + 2:])


def test_config_file_and_flags_override(tmp_path):
    cfg = tmp_path / "e.json"
    d = json.loads(preset("tutorial").validated().to_json())
    d["learning_rates"] = [0.5]
    cfg.write_text(json.dumps(d))
    out = tmp_path / "s.json"
    r = lrlab("train", "--config", cfg, "--steps", "7", "--json", out)
    assert r.returncode == 0, r.stderr
    s = json.loads(out.read_text())
    assert s["steps"] == 7 and s["experiment"]["learning_rates"] == [0.5]
    assert s["experiment"]["init"]["w1"] == [2.0]


def test_user_data_file(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n" + "".join(f"{x},{3 * x - 1}\n" for x in np.linspace(-1, 1, 9)))
    r = lrlab("train", "--data", data, "--activation", "identity", "--lr", "0.05", "--steps", "2000")
    assert r.returncode == 0, r.stderr
    assert "converging" in r.stdout


BAD = [
    (["train", "--lr", "0"], "learning rate"),
    (["train", "--lr", "-0.1"], "-0.1"),
    (["train", "--lr", "abc"], "'abc'"),
    (["train", "--hidden", "0"], "hidden"),
    (["train", "--hidden", "513"], "513"),
    (["train", "--steps", "0"], "steps"),
    (["train", "--activation", "swish"], "'swish'"),
    (["train", "--dataset", "moons"], "'moons'"),
    (["train", "--preset", "exercise9"], "'exercise9'"),
    (["train", "--samples", "many"], "samples"),
    (["train", "--samples", "1.5"], "samples must be a whole number; got '1.5'"),
    (["train", "--noise", "-1"], "noise must be >= 0; got -1"),
    (["train", "--x-range", "2", "1"], "x range"),
    (["train", "--dataset", "linear", "--data", "x.csv"], "not allowed with"),
    (["explain", "--lr", "-1"], "learning rate"),
    (["train", "--frobnicate"], "--frobnicate"),
]


@pytest.mark.parametrize("args, word", BAD)
def test_bad_input_one_line_exit_2_no_traceback(tmp_path, args, word):
    r = lrlab(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert word in r.stderr


def test_bad_files_leave_outputs_untouched(tmp_path):
    bad_cfg = tmp_path / "c.json"
    bad_cfg.write_text("{not json")
    bad_data = tmp_path / "d.csv"
    bad_data.write_text("x,y\n1,2\n3,four\n")
    keep = tmp_path / "keep.csv"
    keep.write_text("precious\n")
    for args, word in ((["--config", bad_cfg], "not valid JSON"), (["--data", bad_data], "line 3, column y")):
        r = lrlab("train", *args, "--csv", keep, "--json", tmp_path / "new.json")
        assert r.returncode == 2 and word in r.stderr and len(r.stderr.splitlines()) == 1
        assert keep.read_text() == "precious\n"
        assert not (tmp_path / "new.json").exists()
    r = lrlab("train", "--steps", "5", "--csv", tmp_path / "no" / "such" / "dir.csv", "--json", tmp_path / "s.json")
    assert r.returncode == 2 and "--csv" in r.stderr and "does not exist" in r.stderr
    assert not (tmp_path / "s.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "d.csv", "keep.csv"]


def test_unwritable_output_leaves_no_partial_file(tmp_path):
    if os.geteuid() == 0:
        target = Path("/proc/lrlab-test.csv")     # root may write anywhere but to /proc
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = ro / "x.csv"
    r = lrlab("train", "--steps", "5", "--csv", target)
    assert r.returncode == 2 and "cannot be written" in r.stderr and str(target) in r.stderr
    assert len(r.stderr.splitlines()) == 1
    assert not target.exists()


# -- the experiment options, built from core.fields.FIELDS (in-process: no subprocess) ------------
def _help_lines(capsys, monkeypatch, command):
    """Each option's line of ``command --help`` (wide: one line each), keyed by its flag."""
    import main
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        main.main([command, "--help"])
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    return {line.split()[0]: line for line in lines if line.startswith("--")}


@pytest.mark.parametrize("command", ["train", "analyze", "lr-find"])
def test_every_field_with_a_flag_is_an_option_of_the_commands_that_train(capsys, monkeypatch, command):
    from core.fields import FIELDS
    lines = _help_lines(capsys, monkeypatch, command)
    for f in FIELDS.values():
        if f.flag:
            metavar = " ".join(f.metavar) if isinstance(f.metavar, tuple) else f.metavar
            if f.nargs == "+":
                metavar = f"{metavar} [{metavar} ...]"
            assert lines[f.flag].split("  ")[0] == f"{f.flag} {metavar}", f.flag
            assert lines[f.flag].endswith("  " + f.help_text), f.flag
    assert lines["--lr"].split() == "--lr LR [LR ...] learning rates, trained side by side".split()   # today's words
    assert lines["--hidden"].split() == "--hidden H hidden units, 1 to 512".split()


def test_a_field_added_to_the_table_gets_its_option(capsys, monkeypatch):
    from core.fields import FIELDS, NUMBER, Field
    # (--momentum is a recipe field now: the new field is one nobody has)
    decay = Field("weight_decay", NUMBER, 0.0, "weight decay", "Weight decay", "weight decay, 0 to 1", "tip",
                  "Training", flag="--weight-decay", metavar="WD", lo=0, hi=1)
    monkeypatch.setitem(FIELDS, "weight_decay", decay)
    line = _help_lines(capsys, monkeypatch, "train")["--weight-decay"]
    assert line.split() == "--weight-decay WD weight decay, 0 to 1".split()


def test_flags_override_the_preset_and_reshape_rules(tmp_path):
    import main
    from core.experiment import preset
    parse = lambda *a: main.experiment_from_args(main.build_parser().parse_args(["train", *a]))   # noqa: E731
    tutorial = preset("tutorial").validated()
    assert parse("--preset", "tutorial").init == tutorial.init
    assert parse("--preset", "tutorial", "--model", "mlp").init == tutorial.init        # same model: kept
    assert parse("--preset", "tutorial", "--hidden", "1").init is None                 # a width given: new seeded init
    assert parse("--preset", "tutorial", "--model", "linear").init is None
    exp = parse("--preset", "exercise4", "--x-range", "-1", "1", "--lr", "0.2", "0.3", "--samples", "9")
    assert (exp.x_range, exp.learning_rates, exp.samples, exp.steps) == ((-1.0, 1.0), (0.2, 0.3), 9, 2000)
    cfg = tmp_path / "e.json"
    cfg.write_text(json.dumps({"data_file": "points.csv"}))
    assert parse("--config", str(cfg)).data_file == str(tmp_path / "points.csv")   # from the file's folder
    exp = parse("--config", str(cfg), "--dataset", "sine")                                  # --dataset drops the file
    assert (exp.dataset, exp.data_file) == ("sine", None)


# -- hardening: outputs checked whole, options never silently ignored, non-finite numbers ----
def test_csv_headers_read_back_as_the_rates_given(tmp_path):
    out = tmp_path / "l.csv"
    r = lrlab("train", "--preset", "tutorial", "--lr", "0.1", "0.1000001", "1", "--steps", "3", "--csv", out)
    assert r.returncode == 0, r.stderr
    header = out.read_text().splitlines()[0].split(",")
    assert header == ["step", "lr=0.1", "lr=0.1000001", "lr=1"]
    assert [float(h[3:]) for h in header[1:]] == [0.1, 0.1000001, 1.0]
    rates = [line.split()[0] for line in r.stdout.splitlines()[2:]]
    assert rates == ["0.1", "0.1000001", "1"]


def test_an_over_long_output_name_is_found_before_training_and_leaves_old_files(tmp_path):
    keep = tmp_path / "keep.csv"
    keep.write_text("precious\n")
    long = tmp_path / ("s" * (os.pathconf(tmp_path, "PC_NAME_MAX") + 1) + ".json")
    r = lrlab("train", "--preset", "exercise3", "--csv", keep, "--json", long)
    assert r.returncode == 2 and r.stdout == "" and len(r.stderr.splitlines()) == 1
    assert "--json" in r.stderr and "file name is" in r.stderr
    assert keep.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv"]


def test_analyze_json_writes_null_for_an_overflowed_eta_lambda(tmp_path):
    out = tmp_path / "a.json"
    r = lrlab("analyze", "--preset", "tutorial", "--lr", "1e308", "0.1", "--json", out)
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert d["runs"][0]["eta_lambda"] is None and d["runs"][1]["eta_lambda"] == pytest.approx(0.1 * d["sharpness"])


def test_analyze_names_the_two_smallest_eigenvalues_apart(tmp_path):
    out = tmp_path / "a.json"
    r = lrlab("analyze", "--preset", "tutorial", "--json", out)
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    ev = d["eigenvalues"]
    assert d["lambda_min"] == ev[0] < 0                     # the tutorial's start: one negative
    positive = [v for v in ev if v > 1e-6 * ev[-1]]
    assert d["lambda_min_positive"] == positive[0] != d["lambda_min"]
    assert d["best_lr"] == pytest.approx(2 / (positive[0] + ev[-1]), rel=1e-15)
    assert "λ_min+" in r.stdout and "2/(λ_min+ + λ_max)" in r.stdout


def test_huge_inputs_print_no_numpy_warning():
    for args in (["train", "--preset", "exercise3", "--noise", "1e154", "--steps", "20"],
                 ["analyze", "--preset", "exercise3", "--noise", "1e154", "--steps", "20"],
                 ["lr-find", "--preset", "exercise3", "--model", "linear", "--noise", "1e300"],
                 ["analyze", "--preset", "exercise3", "--model", "linear", "--x-range", "0", "1e300"]):
        r = lrlab(*args)
        assert r.returncode == 0 and r.stderr == "", (args, r.stderr)


def test_a_csv_cell_over_the_csv_modules_limit_names_the_file_and_line(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,2\n3," + "4" * 200_000 + "\n")
    r = lrlab("train", "--data", data, "--steps", "3")
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr
    assert str(data) in r.stderr and "line 3" in r.stderr


REFUSED = [
    (["lr-find", "--lr", "0.1"], "--lr (0.1)"),
    (["lr-find", "--steps", "50"], "--steps (50)"),
    (["lr-find", "--range-steps", "3"], "--range-steps must be between 7"),
    (["lr-find", "--range-steps", "100001"], "100001"),
    (["train", "--sharpness-every", "5"], "--json"),
    (["--preset", ""], "--preset is empty"),
    (["--config", ""], "--config is empty"),
    (["train", "--preset", ""], "--preset is empty"),
    (["train", "--config", ""], "--config is empty"),
    (["train", "--csv", ""], "--csv is empty"),
    (["train", "--json", ""], "--json is empty"),
    (["train", "--png", ""], "--png is empty"),
    (["analyze", "--json", ""], "--json is empty"),
    (["lr-find", "--csv", ""], "--csv is empty"),
    (["lr-find", "--png", ""], "--png is empty"),
]


@pytest.mark.parametrize("args, words", REFUSED)
def test_options_that_would_do_nothing_are_refused(tmp_path, args, words):
    r = lrlab(*args, cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and words in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_lr_find_writes_json_and_csv_of_the_ramp(tmp_path):
    from core.range_test import lr_schedule, range_test
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    r = lrlab("lr-find", "--preset", "exercise3", "--range-steps", "80", "--json", out_json, "--csv", out_csv)
    assert r.returncode == 0, r.stderr
    d = json.loads(out_json.read_text())
    expected = range_test(preset("exercise3").validated(), steps=80)
    n = len(expected.lrs)
    assert d["format"] == "lrlab-range-test" and d["steps"] == 80 and d["recorded"] == n
    assert d["lrs"] == lr_schedule(1e-6, 10.0, 80)[:n].tolist()
    assert d["losses"] == expected.losses.tolist() and d["smoothed"] == expected.smoothed.tolist()
    assert d["suggestions"] == {"valley": expected.valley, "steep": expected.steepest,
                                "minimum_tenth": expected.minimum_tenth, "default": "valley"}
    assert d["used"] == {"start": 8, "end": n - 5}
    assert d["critical_lr"] == pytest.approx(0.833, abs=1e-3)
    with open(out_csv) as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["step", "lr", "loss", "smoothed"] and len(rows) == n + 1
    assert [[float(c) for c in row[1:]] for row in rows[1:]] == [
        [a, b, c] for a, b, c in zip(d["lrs"], d["losses"], d["smoothed"])]
    assert f"valley (fastai's default)  {expected.valley:.3g}" in r.stdout


# -- negative numbers of every form are values; every bad file is one line ---------------------
@pytest.mark.parametrize("args, message", [
    (["train", "--lr", "-inf"], "learning rate must be a finite number; got -inf"),
    (["train", "--x-range", "-1.5e308", "1.5e308"], "x range must be >= -1e+300; got -1.5e+308"),
    (["train", "--lr", "-1e-3"], "learning rate must be > 0; got -1e-3"),
    (["train", "--noise", "-nan"], "noise must be a finite number; got -nan"),
    (["train", "--lr", *["0.1"] * 17], "learning rate: at most 16 runs; got 17"),
])
def test_negative_numbers_are_values_and_named(args, message, capsys):
    """Pins main._Parser's use of argparse's _negative_number_matcher: if argparse changes it,
    these say "expected 2 arguments" again."""
    import main
    assert main.main(args) == 2
    assert capsys.readouterr().err == f"lrlab: error: {message}\n"


def test_x_range_of_negative_exponents_trains():
    import main
    exp = main.experiment_from_args(main.build_parser().parse_args(["train", "--x-range", "-2.5e-1", "1e0"]))
    assert exp.x_range == (-0.25, 1.0)


def test_malformed_config_files_exit_2_with_one_line(tmp_path):
    bad = {"deep": "[" * 100_000 + "]" * 100_000, "digits": '{"samples": ' + "9" * 5000 + "}",
           "fd": '{"data_file": 1}', "runs": '{"learning_rates": [' + ",".join(["0.1"] * 100_000) + "]}"}
    for name, text in bad.items():
        cfg = tmp_path / f"{name}.json"
        cfg.write_text(text)
        r = lrlab("train", "--config", str(cfg), "--steps", "1")
        assert r.returncode == 2 and r.stdout == "" and r.stderr.count("\n") == 1, (name, r.stderr)
        assert "Traceback" not in r.stderr


def test_the_working_set_is_checked_before_training(monkeypatch, capsys):
    import main
    monkeypatch.setattr("core.experiment.memory_limit", lambda: 2**30)
    args = ["train", "--samples", "100000", "--hidden", "512", "--lr", *["0.1"] * 16]
    assert main.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("lrlab: error: the experiment needs about 12.3 GiB of memory (16 runs × 100000 samples "
                          "× 512 hidden units, 2000 steps); the limit is 1 GiB") and err.count("\n") == 1


# -- recipes: optimizer and schedule options, --run, export-torch (issue 12) ----------------------
BAD_RECIPES = [
    (["train", "--optimizer", "momentum", "--momentum", "1"], "momentum must be < 1; got 1"),
    (["train", "--optimizer", "momentum", "--momentum", "-0.1"], "momentum must be >= 0; got -0.1"),
    (["train", "--optimizer", "adam", "--beta1", "1"], "betas[0] must be < 1; got 1"),
    (["train", "--optimizer", "adam", "--beta2", "1.5"], "betas[1] must be < 1; got 1.5"),
    (["train", "--optimizer", "nesterov", "--momentum", "0"], "momentum must be > 0 for nesterov"),
    (["train", "--optimizer", "rmsprop", "--eps", "0"], "eps must be > 0; got 0"),
    (["train", "--optimizer", "adamw"], "optimizer must be one of gd, momentum, nesterov, rmsprop, adam; got 'adamw'"),
    (["train", "--schedule", "linear"], "schedule must be one of"),
    (["train", "--schedule", "step", "--gamma", "0"], "gamma must be > 0; got 0"),
    (["train", "--schedule", "step", "--step-size", "0"], "step_size must be"),
    (["train", "--steps", "100", "--warmup", "100"], "warmup steps must leave updates"),
    (["train", "--steps", "4", "--schedule", "one-cycle"], "rising phase"),
    (["train", "--steps", "100", "--schedule", "one-cycle", "--pct-start", "0.99"], "falling phase"),
    (["train", "--schedule", "one-cycle", "--warmup", "10"], "one-cycle has its own warm-up"),
    (["train", "--run", "lr=0.1,momentum"], "--run 'lr=0.1,momentum': each item must be KEY=VALUE"),
    (["train", "--run", "lr=0.1,beta=0.9"], "unknown key 'beta'"),
    (["train", "--run", "optimizer=adam"], "lr=<rate>"),
    (["train", "--run", "lr=0.1", "--run", "lr=0.2,optimizer=momentum,momentum=2"], "run 2: momentum must be < 1; got 2"),
    (["export-torch", "--optimizer", "sgd"], "'sgd'"),
    (["export-torch", "--run", "lr=-1"], "learning rate"),
    (["analyze", "--schedule", "exponential", "--gamma", "-1"], "gamma must be > 0; got -1"),
]


@pytest.mark.parametrize("args, words", BAD_RECIPES)
def test_bad_recipes_one_line_exit_2_naming_the_field_and_value(tmp_path, args, words):
    r = lrlab(*args, cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and words in r.stderr, r.stderr


@pytest.mark.parametrize("config, words", [
    ({"runs": [{"lr": 0.1}, ["momentum"]]}, "run 2 must be an object"),
    ({"runs": "lr=0.1"}, "runs must be a list"),
    ({"runs": [{"lr": 0.1, "schedule": "cosine"}]}, "schedule must be an object with a name"),
])
def test_a_run_entry_of_the_wrong_shape_is_refused(tmp_path, config, words):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"format": "lrlab-experiment", "version": 2, **config}))
    r = lrlab("train", "--config", path, cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and words in r.stderr, r.stderr


@pytest.mark.parametrize("args, words", [
    (["lr-find", "--run", "lr=0.1"], "lr-find does not use --run"),
    (["lr-find", "--schedule", "cosine"], "lr-find does not use --schedule (cosine)"),
    (["lr-find", "--warmup", "10"], "lr-find does not use --warmup (10)"),
])
def test_lr_find_refuses_what_its_ramp_replaces(tmp_path, args, words):
    r = lrlab(*args, cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and words in r.stderr


def test_recipe_options_apply_to_every_lr_and_run_adds_runs(tmp_path):
    import main
    from core.optim import Recipe
    from core.schedules import Schedule
    parse = lambda *a: main.experiment_from_args(main.build_parser().parse_args(["train", *a]))   # noqa: E731
    exp = parse("--lr", "0.1", "0.2", "--optimizer", "momentum", "--momentum", "0.8", "--schedule", "cosine",
                "--eta-min", "0.001", "--warmup", "100", "--warmup-start", "0.01",
                "--run", "lr=0.5,optimizer=adam,beta1=0.8", "--run", "lr=0.3,schedule=constant,warmup=0")
    cosine = Schedule("cosine", eta_min=0.001, warmup_steps=100, warmup_start_factor=0.01)
    assert exp.runs == (Recipe(0.1, "momentum", momentum=0.8, schedule=cosine),
                        Recipe(0.2, "momentum", momentum=0.8, schedule=cosine),
                        Recipe(0.5, "adam", momentum=0.8, betas=(0.8, 0.999), schedule=cosine),
                        Recipe(0.3, "momentum", momentum=0.8,
                               schedule=Schedule(eta_min=0.001, warmup_start_factor=0.01)))
    assert exp.learning_rates == (0.1, 0.2, 0.5, 0.3)
    # --run alone: only its runs; the options alone: every run of the preset, the options applied
    assert parse("--preset", "exercise4", "--run", "lr=0.7").learning_rates == (0.7,)
    assert parse("--preset", "exercise4", "--optimizer", "nesterov").runs == \
        tuple(Recipe(lr, "nesterov") for lr in (0.01, 0.1, 0.5, 1.0))
    # a config with recipes: --lr gives the first run's recipe at each rate
    assert parse("--preset", "momentum", "--lr", "0.3").runs == (Recipe(0.3),)
    assert parse("--preset", "exercise4").runs is None                # nothing new: no recipes


def test_train_csv_headers_and_json_list_each_runs_recipe_in_column_order(tmp_path):
    csv_path, json_path = tmp_path / "l.csv", tmp_path / "s.json"
    r = lrlab("train", "--preset", "exercise3", "--steps", "50", "--lr", "0.1", "--run",
              "lr=0.1,optimizer=momentum,momentum=0.9,schedule=cosine", "--run", "lr=0.01,optimizer=adam",
              "--csv", csv_path, "--json", json_path)
    assert r.returncode == 0, r.stderr
    header = csv_path.read_text().splitlines()[0].split(",")
    assert header == ["step", "lr=0.1 gd constant", "lr=0.1 momentum(0.9) cosine(0)",
                      "lr=0.01 adam(0.9;0.999;1e-08) constant"]
    runs = json.loads(json_path.read_text())["runs"]
    assert [run["column"] for run in runs] == header[1:]
    assert [run["recipe"] for run in runs] == [
        {"lr": 0.1, "optimizer": "gd", "schedule": {"name": "constant"}},
        {"lr": 0.1, "optimizer": "momentum", "momentum": 0.9, "schedule": {"name": "cosine", "eta_min": 0.0}},
        {"lr": 0.01, "optimizer": "adam", "betas": [0.9, 0.999], "eps": 1e-08, "schedule": {"name": "constant"}}]
    assert "momentum(0.9) cosine(0)" in r.stdout                       # the table names the recipe too


def test_analyze_json_gives_each_runs_optimizer_critical_rate_and_crossing(tmp_path):
    out = tmp_path / "a.json"
    lam = 2.535934238384372                       # the linear model on [0, 1]: tests/test_recipes.py
    r = lrlab("analyze", "--preset", "momentum", "--run", "lr=1.0", "--run", "lr=1.0,optimizer=momentum",
              "--run", "lr=1.0,optimizer=nesterov", "--run", "lr=1.5,warmup=1000,warmup_start=1e-9",
              "--run", "lr=0.01,optimizer=adam", "--steps", "2000", "--json", out)
    assert r.returncode == 0, r.stderr
    runs = json.loads(out.read_text())["runs"]
    assert [x["optimizer"] for x in runs] == ["gd", "momentum", "nesterov", "gd", "adam"]
    for x, c in zip(runs, (2 / lam, 3.8 / lam, 3.8 / 2.8 / lam, 2 / lam)):
        assert x["critical_lr"] == pytest.approx(c, rel=1e-9)
    assert [x["crosses_at"] for x in runs] == [0, None, 0, 526, None]    # 1.5·t/1000 > 2/λ_max from t = 526
    assert runs[4]["critical_lr"] is None and "no forecast at the initial point is exact" in r.stdout
    assert "crosses η* at update 526" in r.stdout


def test_train_sharpness_every_gives_adaptive_runs_their_preconditioned_sharpness(tmp_path):
    out = tmp_path / "s.json"
    r = lrlab("train", "--preset", "momentum", "--steps", "20", "--run", "lr=0.1", "--run",
              "lr=0.01,optimizer=rmsprop", "--sharpness-every", "10", "--json", out)
    assert r.returncode == 0, r.stderr
    gd, rms = json.loads(out.read_text())["runs"]
    assert "preconditioned_sharpness" not in gd
    assert len(rms["preconditioned_sharpness"]) == len(rms["sharpness_steps"]) == 3
    # at step 0 RMSprop has no preconditioner yet (P = 1): the plain λ_max
    assert rms["preconditioned_sharpness"][0] == pytest.approx(rms["sharpness"][0], rel=1e-12)
    assert rms["preconditioned_sharpness"][2] != pytest.approx(rms["sharpness"][2], rel=1e-3)
    # (its value against RMSprop iterated by hand: tests/test_recipes.py)


def test_export_torch_prints_or_writes_the_script(tmp_path):
    r = lrlab("export-torch", "--preset", "tutorial", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("#!/usr/bin/env python3") and "import torch" in r.stdout
    r = lrlab("export-torch", "--preset", "tutorial", "--out", tmp_path / "t.py", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "t.py").read_text().startswith("#!/usr/bin/env python3")
    r = lrlab("export-torch", "--preset", "tutorial", "--out", tmp_path / "none" / "t.py", cwd=tmp_path)
    assert r.returncode == 2 and "--out" in r.stderr and "does not exist" in r.stderr


def test_train_sharpness_every_under_mini_batches_is_the_whole_data_hessians(tmp_path):
    """The model without a hidden layer has one Hessian, 2/N·[[Σx², Σx], [Σx, N]] on the whole data
    (any batch's differs): every measured λ_max is its top eigenvalue, and so is the Adam run's
    preconditioned sharpness at step 0 (P = 1 before the first update)."""
    out = tmp_path / "s.json"
    r = lrlab("train", "--preset", "momentum", "--batch-size", "10", "--steps", "100", "--lr", "0.3",
              "--run", "lr=0.01,optimizer=adam", "--sharpness-every", "25", "--json", out)
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert "whole data set" in d["sharpness_of"] and d["experiment"]["batch_size"] == 10
    x = np.linspace(0.0, 1.0, 100)
    whole = np.linalg.eigvalsh(2 / 100 * np.array([[np.sum(x * x), np.sum(x)], [np.sum(x), 100]]))[-1]
    xb = x[:10]
    assert abs(np.linalg.eigvalsh(2 / 10 * np.array([[np.sum(xb * xb), np.sum(xb)], [np.sum(xb), 10]]))[-1]
               - whole) > 0.1                       # a batch's λ_max would be told apart
    for run in d["runs"]:
        assert run["sharpness_steps"] == [0, 25, 50, 75, 100]
        assert run["sharpness"] == pytest.approx([whole] * 5, rel=1e-12)
    adam = d["runs"][1]
    assert adam["preconditioned_sharpness"][0] == pytest.approx(whole, rel=1e-12)


def test_train_with_recipes_and_a_batch_size_on_the_command_line_and_in_a_file(tmp_path):
    """--lr runs first, then --run; the CSV's columns and the JSON's runs in that order; the same
    experiment from a version-2 file with batch_size and runs gives the same CSV."""
    csv_path, js = tmp_path / "x.csv", tmp_path / "y.json"
    r = lrlab("train", "--preset", "exercise3", "--batch-size", "10", "--run", "lr=0.1,optimizer=adam",
              "--lr", "0.05", "--steps", "200", "--csv", csv_path, "--json", js)
    assert r.returncode == 0, r.stderr
    d = json.loads(js.read_text())
    assert d["experiment"]["batch_size"] == 10 and d["experiment"]["version"] == 2
    assert [run["recipe"]["optimizer"] for run in d["runs"]] == ["gd", "adam"]
    assert [run["recipe"]["lr"] for run in d["runs"]] == [0.05, 0.1]
    assert csv_path.read_text().splitlines()[0] == "step," + ",".join(run["column"] for run in d["runs"])
    config, again = tmp_path / "c.json", tmp_path / "again.csv"
    config.write_text(json.dumps(d["experiment"]))
    r = lrlab("train", "--config", config, "--csv", again)
    assert r.returncode == 0, r.stderr
    assert again.read_text() == csv_path.read_text()


@pytest.mark.parametrize("args, words", [
    (["analyze", "--batch-size", "7", "--optimizer", "nesterov", "--momentum", "0"], ["momentum", "0"]),
    (["lr-find", "--preset", "exercise3", "--batch-size", "51", "--optimizer", "momentum"], ["batch size", "51"]),
    (["export-torch", "--preset", "exercise3", "--batch-size", "0", "--run", "lr=0.1,optimizer=adam"],
     ["batch size", "0"]),
    (["train", "--preset", "one-sample", "--run", "lr=0.1,batch_size=5"], ["batch_size"]),
    (["export-torch", "--preset", "batch-phase", "--batch-size", "1", "--steps", "3", "--warmup", "3",
      "--schedule", "cosine"], ["warmup", "3"]),
])
def test_bad_recipes_and_batch_sizes_together_exit_2_in_one_line(args, words):
    r = lrlab(*args)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert all(w in r.stderr for w in words), r.stderr
