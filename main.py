"""LR Lab: a desktop laboratory for learning rates.

    python main.py                         open the window
    python main.py --screenshot out.png    render the window, train to the budget, save a grab
    python main.py explain [--lr 0.1]      the tutorial's worked example, step by step
    python main.py train --preset exercise4 --csv losses.csv
    python main.py analyze --preset exercise4        curvature and the stability forecast
    python main.py lr-find --preset exercise3        the learning-rate range test

The command-line paths import no Qt, except the figures (``--plot``, ``--png``) and the window.
"""
from __future__ import annotations

import argparse
import os
import re
import sys

import numpy as np

from core.errors import ConfigError


# Every token float() reads that starts with "-": -1, -.5, -1.5e308, -1e-3, -inf, -nan.
NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*(e[-+]?\d+)?|\.\d+(e[-+]?\d+)?|inf(inity)?|nan)$", re.IGNORECASE)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2, and a negative number of any
    form is a value (argparse's own pattern takes -1.5e308 and -inf for options, and then says
    "expected 2 arguments" instead of naming the value).  No option looks like a negative
    number, so argparse reads such tokens as values; test_cli pins this use of its
    ``_negative_number_matcher``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_NUMBER

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


# -- experiment options, shared by the subcommands that train -----------------------------
def _dest(flag: str) -> str:
    """The attribute argparse gives a flag: --x-range -> x_range."""
    return flag.lstrip("-").replace("-", "_")


def _add_experiment_options(p: argparse.ArgumentParser) -> None:
    """--preset and --config, then one option per field of core.fields.FIELDS that has a flag."""
    from core.experiment import PRESETS
    from core.fields import FIELDS
    g = p.add_argument_group("experiment (flags override --config, which overrides --preset)")
    g.add_argument("--preset", metavar="NAME", help=f"one of: {', '.join(PRESETS)}")
    g.add_argument("--config", metavar="FILE.json", help="an experiment saved by LR Lab")
    exclusive = {}                       # tag -> its mutually exclusive group
    for f in FIELDS.values():
        if f.flag is None:
            continue
        if f.exclusive is not None and f.exclusive not in exclusive:
            exclusive[f.exclusive] = g.add_mutually_exclusive_group()
        group = g if f.exclusive is None else exclusive[f.exclusive]
        group.add_argument(f.flag, nargs=f.nargs, metavar=f.metavar, help=f.help_text)


def experiment_from_args(args):
    """The experiment the flags describe: preset, then config, then flags."""
    from dataclasses import replace

    from core.experiment import Experiment, preset
    from core.fields import FIELDS
    exp = preset(args.preset) if args.preset else Experiment()
    if args.config:
        exp = Experiment.load(args.config, base=exp)
    over = {}
    for f in FIELDS.values():
        value = None if f.flag is None else getattr(args, _dest(f.flag), None)
        if value is not None:
            over[f.name] = tuple(value) if isinstance(value, list) else value
            if f.clears is not None:
                over[f.clears] = None
    if exp.init is not None and ("hidden" in over or over.get("model", exp.model) != exp.model):
        over["init"] = None          # explicit parameters of another shape: seed new ones
    return replace(exp, **over).validated()


# -- subcommands ----------------------------------------------------------------------------
def cmd_explain(args) -> int:
    from core.explain import differences_from_printout, tutorial_step
    from core.fields import check_number
    lr = check_number("learning rate", args.lr, positive=True)
    print(format_explain(tutorial_step(lr), differences_from_printout(tutorial_step(0.1))))
    return 0


def format_explain(s, diffs) -> str:
    v = lambda a: f"{float(a[0]) if hasattr(a, '__len__') else float(a):.4f}"   # noqa: E731
    lines = [
        "The tutorial's worked example: 1-1-1 network, sigmoid hidden unit, linear output",
        f"  x = {s.x:g}, y_true = {s.y_true:g}; w1 = {v(s.w1)}, b1 = {v(s.b1)}, "
        f"w2 = {v(s.w2)}, b2 = {v(s.b2)}; learning rate = {s.lr:g}",
        "",
        "Forward propagation",
        f"  z1 = w1*x + b1                 = {v(s.z1)}",
        f"  a1 = sigmoid(z1)               = {v(s.a1)}",
        f"  y_pred = w2*a1 + b2            = {v(s.y_pred)}",
        "",
        "Loss",
        f"  L = (y_true - y_pred)^2        = {v(s.loss)}",
        "",
        "Backward propagation (chain rule)",
        f"  dL/dy_pred = -2*(y_true - y_pred) = {v(s.dL_dy_pred)}",
        f"  dL/dw2 = dL/dy_pred * a1       = {v(s.dL_dw2)}",
        f"  dL/db2 = dL/dy_pred * 1        = {v(s.dL_db2)}",
        f"  dL/da1 = dL/dy_pred * w2       = {v(s.dL_da1)}",
        f"  sigma'(z1) = a1*(1 - a1)       = {v(s.da1_dz1)}",
        f"  dL/dw1 = dL/da1 * sigma'(z1) * x = {v(s.dL_dw1)}",
        f"  dL/db1 = dL/da1 * sigma'(z1) * 1 = {v(s.dL_db1)}",
        "",
        f"Gradient descent: parameter = parameter - {s.lr:g} * gradient",
        f"  w1: {v(s.w1)} -> {v(s.w1_new)}",
        f"  b1: {v(s.b1)} -> {v(s.b1_new)}",
        f"  w2: {v(s.w2)} -> {v(s.w2_new)}",
        f"  b2: {v(s.b2)} -> {v(s.b2_new)}",
        "",
        "New loss",
        f"  y_pred_new = {v(s.y_pred_new)}",
        f"  L_new = {v(s.loss_new)}   (change {s.loss_change:+.4f}: "
        f"{'the loss decreased' if s.loss_change < 0 else 'the loss did NOT decrease'})",
    ]
    if diffs:
        lines += ["", "Where the tutorial's printout differs (it rounded intermediates; "
                  "these are exact float64 values at learning rate 0.1):"]
        lines += [f"  {name:11s} exact {exact:+.6f}, tutorial prints {printed:+.4f}"
                  for name, (exact, printed) in diffs.items()]
    return "\n".join(lines)


def cmd_train(args) -> int:
    from core.report import summarize, summary_dict, write_csv, write_json
    exp = experiment_from_args(args)
    outputs = _checked_outputs(args, "--csv", "--json", "--png", "--plot")
    plot_size = _plot_size(args)
    every = _whole("--sharpness-every", args.sharpness_every, 0) if args.sharpness_every is not None else 0
    if args.sharpness_every is not None and not args.json:
        raise ConfigError(f"--sharpness-every {args.sharpness_every}: λ_max is written only into --json; "
                          "add --json OUT.json (or leave --sharpness-every out)")
    data = exp.make_data()
    noted = exp.steps // every + 1 if every else 0
    exp.check_working_set(len(data), hessian_runs=min(32, noted) * len(exp.learning_rates))   # Trainer's batches
    trainer = exp.trainer(data, sharpness_every=every)
    trainer.step(exp.steps)
    runs = summarize(exp.learning_rates, trainer.loss_history(), trainer.outcomes,
                     trainer.diverged_steps())
    print(format_header(exp, data))
    print(format_table(runs))
    save = {}
    if args.csv:
        save["--csv"] = lambda p: write_csv(p, exp.learning_rates, trainer.loss_history())
    if args.json:
        summary = summary_dict(exp, runs, trainer.t)
        if every:
            for run, lam in zip(summary["runs"], trainer.sharpness):
                run["sharpness_steps"] = list(trainer.sharpness_steps)
                run["sharpness"] = [None if not np.isfinite(v) else float(v) for v in lam]
        save["--json"] = lambda p: write_json(p, summary)
    if args.png:
        def save_png(p):
            from gui.render import save_loss_png
            save_loss_png(p, exp.learning_rates, trainer.loss_history(), trainer.outcomes,
                          trainer.diverged_steps(), title=format_header(exp, data))
        save["--png"] = save_png
    if args.plot:
        def save_plot(p):
            from gui.render import save_loss_plot
            save_loss_plot(p, exp.learning_rates, trainer.loss_history(), trainer.outcomes,
                           trainer.diverged_steps(), title=format_header(exp, data), size=plot_size,
                           fmt=figure_format(args.plot, "--plot"))
        save["--plot"] = save_plot
    _write_outputs(outputs, save)
    return 0


def _plot_size(args):
    """(W, H) of ``--plot``, checked with ``--plot``'s extension before anything is trained; a
    ``--plot-size`` without ``--plot`` is refused (it would be ignored)."""
    from gui.figure import DEFAULT_SIZE, figure_format, figure_size
    if args.plot_size is not None and not args.plot:
        raise ConfigError(f"--plot-size {' '.join(args.plot_size)}: sizes the --plot figure; add --plot OUT.png "
                          "(or .svg, .pdf), or leave --plot-size out (--png keeps its own size)")
    if args.plot:
        figure_format(args.plot, "--plot")
    return figure_size(args.plot_size, "--plot-size") if args.plot_size is not None else DEFAULT_SIZE


def figure_format(path, flag):
    from gui.figure import figure_format as fmt
    return fmt(path, flag)


def _checked_outputs(args, *flags) -> list:
    """(flag, path) of the output flags given, each checked (folder, name length, permission)
    before anything is trained."""
    from core.report import check_writable
    outputs = []
    for flag in flags:
        path = getattr(args, flag.lstrip("-").replace("-", "_"), None)
        if path:
            check_writable(path, flag)
            outputs.append((flag, path))
    return outputs


def _write_outputs(outputs, save) -> None:
    """Write one command's files together: all or none replace the old ones."""
    from core.report import write_together
    write_together([(flag, path, save[flag]) for flag, path in outputs])


def format_header(exp, data) -> str:
    source = exp.data_file or exp.dataset
    return (f"{exp.model_spec().describe()}, "
            f"{source} ({len(data)} point{'s' if len(data) > 1 else ''}), {exp.steps} steps, seed {exp.seed}")


def _whole(flag, value, lo) -> int:
    from core.fields import check_integer
    return check_integer(flag, value, lo)


def cmd_analyze(args) -> int:
    from core.curvature import forecast
    from core.report import write_json
    exp = experiment_from_args(args)
    outputs = _checked_outputs(args, "--json")
    data = exp.make_data()
    exp.check_working_set(len(data), hessian_runs=len(exp.learning_rates))
    trainer = exp.trainer(data)
    f = forecast(trainer.hessian()[0], exp.learning_rates, rule=exp.update_rule())
    trainer.step(exp.steps)
    print(format_header(exp, data))
    print(format_forecast(exp, f, trainer.outcomes))
    analysis = {
        "format": "lrlab-analysis", "version": 1, "experiment": exp.to_dict(),
        "sharpness": f.sharpness, "lambda_min": f.lambda_min, "lambda_min_positive": f.lambda_min_positive,
        "critical_lr": f.critical_lr, "best_lr": f.best_lr, "eigenvalues": [float(v) for v in f.eigenvalues],
        "runs": [{"lr": lr, "eta_lambda": e, "forecast": r, "outcome": o}
                 for lr, e, r, o in zip(f.lrs, f.eta_lambda, f.regimes, trainer.outcomes)]}
    _write_outputs(outputs, {"--json": lambda p: write_json(p, analysis)})
    return 0


def format_forecast(exp, f, outcomes) -> str:
    from core.report import lr_text
    exact = exp.model_spec().exact_forecast
    lines = [
        "Curvature of the loss at the initial parameters" + (
            " (the loss is quadratic: the forecast is exact)" if exact else
            " (a forecast from the start point: the network's curvature changes as it trains)"),
        f"  largest Hessian eigenvalue  λ_max = {f.sharpness:.6g}",
        f"  smallest eigenvalue         λ_min = {f.lambda_min:.6g}",
        f"  smallest above 1e-6·λ_max   λ_min+ = {f.lambda_min_positive:.6g}",
        f"  critical rate   η* = 2/λ_max = {f.critical_lr:.6g}   (above it the steepest direction grows)",
        f"  best constant rate 2/(λ_min+ + λ_max) = {f.best_lr:.6g}",
        "  no rate above 1 can converge: the output bias has ∂²L/∂b² = 2, so λ_max ≥ 2 everywhere",
        "",
        f"{'learning rate':>13}  {'η·λ_max':>9}  {'forecast':<12}  outcome after {exp.steps} steps",
    ]
    for lr, e, r, o in zip(f.lrs, f.eta_lambda, f.regimes, outcomes):
        lines.append(f"{lr_text(lr):>13}  {e:>9.4g}  {r:<12}  {o}")
    lines += ["", "forecast: monotone if η·λ_max < 1, oscillating if 1 to 2 (the steepest direction flips "
              "sign every step), unstable if > 2 (it grows)"]
    return "\n".join(lines)


def cmd_lr_find(args) -> int:
    from core.curvature import forecast
    from core.range_test import check_range, range_test
    from core.report import range_test_dict, write_json, write_range_test_csv
    for flag, value, why in (("--lr", args.lr, "the range test sweeps η from --lr-min to --lr-max"),
                             ("--steps", args.steps, "the range test's length is --range-steps")):
        if value is not None:
            shown = " ".join(value) if isinstance(value, list) else value
            raise ConfigError(f"lr-find does not use {flag} ({shown}): {why}")
    exp = experiment_from_args(args)
    outputs = _checked_outputs(args, "--csv", "--json", "--png", "--plot")
    plot_size = _plot_size(args)
    lo = _positive("--lr-min", args.lr_min)
    hi = _positive("--lr-max", args.lr_max)
    steps = _whole("--range-steps", args.range_steps, 1)
    check_range(lo, hi, steps, "--range-steps")
    data = exp.make_data()
    exp.check_working_set(len(data), hessian_runs=len(exp.learning_rates))
    result = range_test(exp, data, lo, hi, steps)
    crit = forecast(exp.trainer(data).hessian()[0], [lo], rule=exp.update_rule([lo])).critical_lr
    print(format_header(exp, data))
    print(format_range_test(result, lo, hi, crit))
    save = {"--csv": lambda p: write_range_test_csv(p, result),
            "--json": lambda p: write_json(p, range_test_dict(exp, result, lo, hi, crit))}

    def save_png(p):
        from gui.render import save_range_test_png
        save_range_test_png(p, result, crit, title=format_header(exp, data))
    save["--png"] = save_png

    def save_plot(p):
        from gui.render import save_range_test_plot
        save_range_test_plot(p, result, crit, title=format_header(exp, data), size=plot_size,
                             fmt=figure_format(args.plot, "--plot"))
    save["--plot"] = save_plot
    _write_outputs(outputs, save)
    return 0


def format_range_test(result, lo, hi, crit) -> str:
    from core.range_test import STOP_FACTOR, TRIM_END
    n, steps = len(result.lrs), result.steps
    start, end = result.used
    lines = [f"Range test (fastai's lr_find): η from {lo:g} rising to {float(result.lrs[-1]) if n else lo:.3g} "
             f"over {n} of {steps} steps"
             + (f", stopped: the smoothed loss passed {STOP_FACTOR:g}× its best" if result.stopped else ""),
             f"  suggestions from points {start} to {end - 1} (fastai leaves out {steps // 10} at the start "
             f"and {TRIM_END} at the end)" if end > start else "  no points left for the suggestions",
             f"  valley (fastai's default)  {result.valley:.3g}",
             f"  steepest descent           {result.steepest:.3g}",
             f"  minimum / 10               {result.minimum_tenth:.3g}",
             f"  critical rate η* = 2/λ_max at the start: {crit:.3g}"]
    if result.note:
        lines.append(f"  note: {result.note}")
    return "\n".join(lines)


def _positive(flag, value) -> float:
    from core.fields import check_number
    return check_number(flag, value, positive=True)


def format_table(runs) -> str:
    from core.report import lr_text
    num = lambda v: "-" if v is None else f"{v:.6g}"    # noqa: E731
    rows = [f"{'learning rate':>13}  {'final loss':>12}  {'best loss':>12}  {'outcome':<12}  diverged at step"]
    for r in runs:
        rows.append(f"{lr_text(r.lr):>13}  {num(r.final_loss):>12}  {num(r.best_loss):>12}  {r.outcome:<12}  "
                    f"{'-' if r.diverged_step is None else r.diverged_step}")
    return "\n".join(rows)


def cmd_window(args) -> int:
    exp = experiment_from_args(args) if (args.preset or args.config) else None
    if args.screenshot:
        from core.report import check_writable
        check_writable(args.screenshot, "--screenshot")
    from gui.app import run
    return run(experiment=exp, screenshot=args.screenshot, tab=args.tab)


# -- lesson: the course in the terminal (core.lessons) ------------------------------------------
def cmd_lesson(args) -> int:
    from core import lessons
    if args.action == "list":
        paths = lessons.course()
        named = [lessons.load(p) for p in paths]
        width = max(len(les.name) for les in named)
        for les in named:
            print(f"{les.name:<{width}}  {les.title}")
            if les.summary:
                print(f"{'':<{width}}  {les.summary}")
        return 0
    if not args.lesson:
        raise ConfigError(f"lesson {args.action}: give a lesson name (see `lesson list`) or a lesson file")
    lesson = lessons.find(args.lesson)
    if args.action == "check":
        print(f"ok: {lessons.check_lesson(lesson)}")
        return 0
    return _show_lesson(lesson)


def _show_lesson(lesson) -> int:
    """The text and the question; after Enter (a typed line is the prediction) the lab's answer
    and the explanation.  Without a terminal (stdin closed or at its end) it goes straight on."""
    from core.lessons import format_value, plain
    q = lesson.question
    runs = len(lesson.experiment.learning_rates)
    print(lesson.title)
    print("=" * len(lesson.title))
    print()
    print(lesson.text)
    print()
    print(f"Question: {q.text}")
    if q.kind == "pick-run":
        for k, r in enumerate(lesson.experiment.recipes(), 1):
            print(f"  {k}: η = {r.lr:g}" + ("" if r.optimizer == "gd" else f", {r.optimizer}"))
    elif q.choices():
        print(f"  ({', '.join(q.choices())})")
    line = ""
    if sys.stdin is not None and not sys.stdin.closed:
        print("Your prediction, then Enter: ", end="", flush=True)
        try:
            line = sys.stdin.readline()
        except (OSError, ValueError):
            line = ""
        if not line.endswith("\n"):
            print()
    ev = lesson.evaluate()
    print()
    if line.strip():
        try:
            prediction = q.parse_prediction(line, runs)
        except ConfigError as e:
            print(f"(your prediction was not read: expected {e})")
        else:
            print(lesson.check(prediction, ev).message)
    if q.kind != "free-text":
        print(f"Answer (computed by the lab): {format_value(lesson.truth(ev))}")
    print()
    print(plain(lesson.explanation(ev)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="lrlab", description="LR Lab: see what a learning rate does, and why.")
    p.add_argument("--screenshot", metavar="FILE.png",
                   help="open the window, train to the step budget, save a grab and exit")
    p.add_argument("--tab", choices=("overlay", "side", "why"),
                   help="with --screenshot: the tab to show (overlay, side by side, why it diverges)")
    p.add_argument("--preset", metavar="NAME", help="open the window on this preset")
    p.add_argument("--config", metavar="FILE.json", help="open the window on this experiment")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    e = sub.add_parser("explain", help="the tutorial's worked example, step by step")
    e.add_argument("--lr", default="0.1", metavar="LR", help="learning rate of the update (default 0.1)")
    e.set_defaults(func=cmd_explain)

    t = sub.add_parser("train", help="train several learning rates side by side")
    _add_experiment_options(t)
    t.add_argument("--csv", metavar="OUT.csv", help="write every run's loss after every step")
    t.add_argument("--json", metavar="OUT.json", help="write the summary table")
    t.add_argument("--png", metavar="OUT.png", help="render the loss curves, 1200 × 720 (uses Qt offscreen)")
    _add_plot_options(t, "the loss curves, each run's outcome in the legend")
    t.add_argument("--sharpness-every", metavar="K",
                   help="measure every run's λ_max every K steps (into --json, which it needs)")
    t.set_defaults(func=cmd_train)

    a = sub.add_parser("analyze", help="curvature and the stability forecast of each learning rate")
    _add_experiment_options(a)
    a.add_argument("--json", metavar="OUT.json", help="write the analysis")
    a.set_defaults(func=cmd_analyze)

    f = sub.add_parser("lr-find", help="the learning-rate range test (Smith 2017, fastai's lr_find)")
    _add_experiment_options(f)
    f.add_argument("--lr-min", default="1e-6", metavar="LR", help="first learning rate (default 1e-6)")
    f.add_argument("--lr-max", default="10", metavar="LR", help="last learning rate (default 10)")
    f.add_argument("--range-steps", default="100", metavar="N",
                   help="steps of the test, 7 to 100000 (default 100)")
    f.add_argument("--csv", metavar="OUT.csv", help="write step, lr, loss and smoothed loss of every step")
    f.add_argument("--json", metavar="OUT.json", help="write the ramp, the losses, the suggestions and η*")
    f.add_argument("--png", metavar="OUT.png", help="plot loss against learning rate, 1200 × 744")
    _add_plot_options(f, "loss against learning rate")
    f.set_defaults(func=cmd_lr_find)

    les = sub.add_parser("lesson", help="the course: predict, run, explain (list, show NAME, check FILE|NAME)")
    les.add_argument("action", choices=("list", "show", "check"),
                     help="list the course; show a lesson (question, then after Enter the answer); "
                          "check that a lesson's claim holds (exit 2 if not)")
    les.add_argument("lesson", nargs="?", metavar="NAME|FILE", help="a lesson of the course, or a lesson file")
    les.set_defaults(func=cmd_lesson)
    return p


def _add_plot_options(p: argparse.ArgumentParser, what: str) -> None:
    from gui.figure import DEFAULT_SIZE, MAX_SIZE, MIN_SIZE
    p.add_argument("--plot", metavar="OUT.{png,svg,pdf}",
                   help=f"a figure of {what}: PNG, SVG or PDF by the extension (uses Qt offscreen)")
    p.add_argument("--plot-size", nargs=2, metavar=("W", "H"),
                   help=f"the --plot figure's width and height in pixels, {MIN_SIZE} to {MAX_SIZE} "
                        f"(default {DEFAULT_SIZE[0]} {DEFAULT_SIZE[1]}); text scales with it")


def _refuse_empty(args) -> None:
    """``--csv ''`` and the like would be ignored: refuse them, naming the flag."""
    for name in ("preset", "config", "data", "csv", "json", "png", "plot", "screenshot"):
        if getattr(args, name, None) == "":
            raise ConfigError(f"--{name} is empty: give a {'name' if name == 'preset' else 'file'}")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _refuse_empty(args)
        status = cmd_window(args) if args.command is None else args.func(args)
        sys.stdout.flush()                # a closed pipe is found here, not at exit
        return status
    except ConfigError as e:
        print(f"lrlab: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:              # `lrlab train … | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
