"""LR Lab: a desktop laboratory for learning rates.

    python main.py                         open the window
    python main.py --screenshot out.png    render the window, train to the budget, save a grab
    python main.py explain [--lr 0.1]      the tutorial's worked example, step by step
    python main.py train --preset exercise4 --csv losses.csv
    python main.py analyze --preset exercise4        curvature and the stability forecast
    python main.py lr-find --preset exercise3        the learning-rate range test
    python main.py export-torch --preset exercise4 --out ex4.py   the same runs as a PyTorch script

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
    from core.experiment import ALL_PRESETS
    from core.fields import FIELDS
    g = p.add_argument_group("experiment (flags override --config, which overrides --preset)")
    g.add_argument("--preset", metavar="NAME", help=f"one of: {', '.join(ALL_PRESETS)}")
    g.add_argument("--config", metavar="FILE.json", help="an experiment saved by LR Lab")
    exclusive = {}                       # tag -> its mutually exclusive group
    for f in FIELDS.values():
        if f.flag is None:
            continue
        if f.exclusive is not None and f.exclusive not in exclusive:
            exclusive[f.exclusive] = g.add_mutually_exclusive_group()
        group = g if f.exclusive is None else exclusive[f.exclusive]
        group.add_argument(f.flag, nargs=f.nargs, metavar=f.metavar, help=f.help_text)
    _add_recipe_options(p)


RUN_HELP = ("one run with its own recipe, KEY=VALUE items separated by commas, such as "
            "\"lr=0.5,optimizer=momentum,momentum=0.9,schedule=cosine,warmup=100\"; the keys are lr and "
            "the names of the options above (optimizer, momentum, alpha, eps, beta1, beta2, schedule, "
            "step_size, gamma, eta_min, pct_start, div_factor, final_div_factor, warmup, warmup_start); "
            "what a run leaves out comes from those options.  Repeat it for more runs; with --lr, the "
            "--lr runs come first")


def _add_recipe_options(p: argparse.ArgumentParser) -> None:
    """One option per field of core.fields.RECIPE_FIELDS (they apply to every --lr), and --run."""
    from core.fields import RECIPE_FIELDS
    g = p.add_argument_group("recipe: optimizer and learning-rate schedule of every run "
                             "(as torch.optim and torch.optim.lr_scheduler)")
    for f in RECIPE_FIELDS.values():
        if f.flag is not None:
            g.add_argument(f.flag, nargs=f.nargs, metavar=f.metavar, help=f.help_text)
    g.add_argument("--run", action="append", metavar="KEY=VALUE,...", help=RUN_HELP)


def recipe_flags(args) -> dict:
    """The recipe options given on the command line: {RECIPE_FIELDS name: text}."""
    from core.fields import RECIPE_FIELDS
    return {f.name: v for f in RECIPE_FIELDS.values()
            if f.flag is not None and (v := getattr(args, _dest(f.flag), None)) is not None}


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
    flags, run_texts = recipe_flags(args), getattr(args, "run", None) or []
    if flags or run_texts or ("learning_rates" in over and exp.runs is not None):
        over["runs"] = _runs_from_args(exp, over, flags, run_texts)
    return replace(exp, **over).validated()


def _runs_from_args(exp, over, flags, run_texts):
    """The runs the recipe options describe.  The common recipe is the experiment's first run's
    (plain gradient descent if it has none) with the options applied.  --lr: one run per rate with
    it; --run: one run each, on top of it; neither: every run of the experiment with the options
    applied."""
    from dataclasses import replace

    from core.recipes import parse_run, with_fields
    recipes = exp.recipes()
    common = with_fields(recipes[0], flags)
    if "learning_rates" not in over and not run_texts:
        return tuple(with_fields(r, flags) for r in recipes)
    lr_runs = [replace(common, lr=lr) for lr in over.get("learning_rates", ())]
    return tuple(lr_runs + [parse_run(text, common) for text in run_texts])


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
    from core.recipes import column_labels
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
    adaptive = [r.adaptive for r in exp.recipes()]
    trainer.step(exp.steps)
    precond_sharpness = trainer.preconditioned_sharpness if every else None   # RMSprop, Adam (None: no such run)
    runs = summarize(exp.learning_rates, trainer.loss_history(), trainer.outcomes,
                     trainer.diverged_steps())
    labels = column_labels(exp.recipes())
    print(format_header(exp, data))
    print(format_table(runs, _recipe_column(exp)))
    save = {}
    if args.csv:
        save["--csv"] = lambda p: write_csv(p, exp.learning_rates, trainer.loss_history(), labels=labels)
    if args.json:
        summary = summary_dict(exp, runs, trainer.t, recipes=exp.recipes(), labels=labels)
        if every:
            summary["sharpness_of"] = SHARPNESS_OF
            for k, (run, lam) in enumerate(zip(summary["runs"], trainer.sharpness)):
                run["sharpness_steps"] = list(trainer.sharpness_steps)
                run["sharpness"] = [None if not np.isfinite(v) else float(v) for v in lam]
                if adaptive[k]:
                    run["preconditioned_sharpness"] = [None if not np.isfinite(v) else float(v)
                                                       for v in precond_sharpness[k]]
        save["--json"] = lambda p: write_json(p, summary)
    if args.png:
        def save_png(p):
            from gui.render import save_loss_png
            save_loss_png(p, exp.learning_rates, trainer.loss_history(), trainer.outcomes,
                          trainer.diverged_steps(), title=format_header(exp, data), recipes=exp.recipes())
        save["--png"] = save_png
    if args.plot:
        def save_plot(p):
            from gui.render import save_loss_plot
            save_loss_plot(p, exp.learning_rates, trainer.loss_history(), trainer.outcomes,
                           trainer.diverged_steps(), title=format_header(exp, data), size=plot_size,
                           fmt=figure_format(args.plot, "--plot"), recipes=exp.recipes())
        save["--plot"] = save_plot
    _write_outputs(outputs, save)
    return 0


# What train --sharpness-every measures, also under mini-batches (the JSON says it beside the values).
SHARPNESS_OF = "the Hessian of the loss on the whole data set (every sample), also under --batch-size"


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
    from core.recipes import run_forecasts
    from core.noise import noise_scale
    from core.report import write_json
    exp = experiment_from_args(args)
    outputs = _checked_outputs(args, "--json")
    data = exp.make_data()
    exp.check_working_set(len(data), hessian_runs=len(exp.learning_rates))
    trainer = exp.trainer(data)
    f = forecast(trainer.hessian()[0], exp.learning_rates)          # gradient descent's η*, best rate
    per_run = run_forecasts(exp.recipes(), exp.update_rule(), f.sharpness, exp.steps)
    sizes = _eps_opt_sizes(args, exp, len(data))
    noise = noise_scale(exp.model_spec(), exp.initial_params(), data.x, data.y)
    trainer.step(exp.steps)
    print(format_header(exp, data))
    print(format_forecast(exp, f, trainer.outcomes, per_run))
    print()
    print(format_noise(noise, sizes))
    analysis = {
        "format": "lrlab-analysis", "version": 1, "experiment": exp.to_dict(),
        "sharpness": f.sharpness, "lambda_min": f.lambda_min, "lambda_min_positive": f.lambda_min_positive,
        "critical_lr": f.critical_lr, "best_lr": f.best_lr, "eigenvalues": [float(v) for v in f.eigenvalues],
        "runs": [{"lr": lr, "eta_lambda": e, "forecast": run_verdict(rec, pr, r), "outcome": o, **pr}
                 for lr, e, r, o, pr, rec in zip(f.lrs, f.eta_lambda, f.regimes, trainer.outcomes, per_run,
                                                 exp.recipes())]}
    analysis.update(_noise_dict(noise, sizes))
    _write_outputs(outputs, {"--json": lambda p: write_json(p, analysis)})
    return 0


def _eps_opt_sizes(args, exp, n) -> list:
    """The batch sizes ε_opt is given at: ``--eps-opt-at``, else 1, 2, 4, … below N, the
    experiment's batch size and N (full batch)."""
    from core.fields import check_batch_size
    if args.eps_opt_at is not None:
        sizes = [check_batch_size("--eps-opt-at", v, n) for v in args.eps_opt_at]
        return sorted({n if b is None else b for b in sizes})
    sizes = {2**i for i in range(n.bit_length()) if 2**i < n} | {n}
    if exp.batch_size is not None:
        sizes.add(exp.batch_size)
    return sorted(sizes)


def format_noise(noise, sizes) -> str:
    """The gradient noise scale at the initial parameters (core.noise), ε_opt at ``sizes``."""
    v = lambda a: float(a[0])    # noqa: E731
    lines = ["Gradient noise scale at the initial parameters (McCandlish et al. 2018; per-sample gradients, "
             "exact Hessian)",
             f"  |G| = {float(np.linalg.norm(noise.grad[0])):.6g}   tr(Σ) = {v(noise.trace_sigma):.6g}   "
             f"GᵀHG = {v(noise.g_h_g):.6g}",
             f"  B_simple = tr(Σ)/|G|²    = {v(noise.simple):.6g}",
             f"  B_noise  = tr(HΣ)/GᵀHG   = {v(noise.noise):.6g}   (the critical batch size: below it, doubling B "
             "about doubles the best step)",
             f"  ε_max    = |G|²/GᵀHG     = {v(noise.eps_max):.6g}   (the best step along −G without noise)",
             f"  {'batch size':>10}  {'ε_opt(B) = ε_max/(1 + B_noise·(N − B)/(B·(N − 1)))'}"]
    lines += [f"  {b:>10}  {float(e):.6g}" for b, e in zip(sizes, noise.eps_opt(sizes)[0])]
    return "\n".join(lines)


def _noise_dict(noise, sizes) -> dict:
    f = lambda a: float(a) if np.isfinite(a) else None    # noqa: E731
    return {"noise_scale_simple": f(noise.simple[0]), "noise_scale": f(noise.noise[0]),
            "eps_max": f(noise.eps_max[0]),
            "eps_opt": [{"batch_size": int(b), "eps_opt": f(e)} for b, e in zip(sizes, noise.eps_opt(sizes)[0])]}


def run_verdict(recipe, forecast_run, regime) -> str:
    """One run's forecast in words: gradient descent's regime at a constant rate; else whether
    (and when) its rate passes its own critical rate."""
    if recipe.adaptive:
        return "not exact (adaptive)"
    at = forecast_run["crosses_at"]
    if recipe.schedule.is_constant:
        if recipe.optimizer == "gd":
            return regime
        return "unstable" if at == 0 else "stable"
    return "stays below η*" if at is None else ("starts above η*" if at == 0 else f"crosses η* at update {at}")


def format_forecast(exp, f, outcomes, per_run=None) -> str:
    from core.recipes import ADAPTIVE_NOTE, describe
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
    ]
    recipes = exp.recipes()
    if exp.runs is None or all(r.optimizer == "gd" and r.schedule.is_constant for r in recipes):
        lines.append(f"{'learning rate':>13}  {'η·λ_max':>9}  {'forecast':<12}  outcome after {exp.steps} steps")
        for lr, e, r, o in zip(f.lrs, f.eta_lambda, f.regimes, outcomes):
            lines.append(f"{lr_text(lr):>13}  {e:>9.4g}  {r:<12}  {o}")
        lines += ["", "forecast: monotone if η·λ_max < 1, oscillating if 1 to 2 (the steepest direction flips "
                  "sign every step), unstable if > 2 (it grows)"]
        return "\n".join(lines)
    names = [describe(r) for r in recipes]
    w = max(len(n) for n in names + ["recipe"])
    verdicts = [run_verdict(r, pr, reg) for r, pr, reg in zip(recipes, per_run, f.regimes)]
    v = max(len(x) for x in verdicts + ["forecast"])
    lines.append(f"{'learning rate':>13}  {'recipe':<{w}}  {'η·λ_max':>9}  {'its η*':>9}  {'forecast':<{v}}  "
                 f"outcome after {exp.steps} steps")
    for lr, name, e, pr, verdict, o in zip(f.lrs, names, f.eta_lambda, per_run, verdicts, outcomes):
        crit = "-" if pr["critical_lr"] is None else f"{pr['critical_lr']:.6g}"
        lines.append(f"{lr_text(lr):>13}  {name:<{w}}  {e:>9.4g}  {crit:>9}  {verdict:<{v}}  {o}")
    lines += ["", "its η*: the run's own critical rate at the initial curvature: 2/λ_max (gd), (2 + 2β)/λ_max "
              "(momentum), (2 + 2β)/((1 + 2β)·λ_max) (nesterov); with a schedule, the forecast names the first "
              "update (from 0) whose rate ηₜ exceeds it",
              "forecast of gd at a constant rate: monotone if η·λ_max < 1, oscillating if 1 to 2, unstable if > 2"]
    if any(r.adaptive for r in recipes):
        lines.append(ADAPTIVE_NOTE)
    return "\n".join(lines)


def cmd_lr_find(args) -> int:
    from core.curvature import forecast
    from core.range_test import check_range, ramp_recipe, range_test
    from core.report import range_test_dict, write_json, write_range_test_csv
    for flag, value, why in (("--lr", args.lr, "the range test sweeps η from --lr-min to --lr-max"),
                             ("--steps", args.steps, "the range test's length is --range-steps")):
        if value is not None:
            shown = " ".join(value) if isinstance(value, list) else value
            raise ConfigError(f"lr-find does not use {flag} ({shown}): {why}")
    if args.run:
        raise ConfigError(f"lr-find does not use --run ({args.run[0]}): the range test ramps one run; "
                          "give its optimizer with --optimizer")
    for name, value in recipe_flags(args).items():
        if name not in OPTIMIZER_FIELDS:
            from core.fields import RECIPE_FIELDS
            raise ConfigError(f"lr-find does not use {RECIPE_FIELDS[name].flag} ({value}): the range test's "
                              "ramp is its schedule")
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
    recipe = ramp_recipe(exp, lo)
    lam_max = forecast(exp.trainer(data).hessian()[0], [lo]).sharpness
    crit = float("nan") if recipe.adaptive else recipe.limit_factor / lam_max
    print(format_header(exp, data))
    print(format_range_test(result, lo, hi, crit, recipe))
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


OPTIMIZER_FIELDS = ("optimizer", "momentum", "alpha", "eps", "beta1", "beta2")


def _range_test_critical(crit, recipe) -> str:
    from core.recipes import optimizer_token
    if recipe is None or recipe.optimizer == "gd":
        return f"  critical rate η* = 2/λ_max at the start: {crit:.3g}"
    if recipe.adaptive:
        return (f"  optimizer {optimizer_token(recipe)}: no critical rate at the start (its limit bounds the "
                "preconditioned sharpness, which forms as it trains)")
    return f"  optimizer {optimizer_token(recipe)}: its critical rate at the start {crit:.3g}"


def format_range_test(result, lo, hi, crit, recipe=None) -> str:
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
             _range_test_critical(crit, recipe)]
    if result.note:
        lines.append(f"  note: {result.note}")
    return "\n".join(lines)


def _positive(flag, value) -> float:
    from core.fields import check_number
    return check_number(flag, value, positive=True)


def _recipe_column(exp):
    """Each run's optimizer and schedule for the tables (None: every run is plain gradient
    descent at a constant rate, and the tables stay as they were)."""
    from core.recipes import describe
    recipes = exp.recipes()
    if all(r.optimizer == "gd" and r.schedule.is_constant for r in recipes):
        return None
    return [describe(r) for r in recipes]


def format_table(runs, recipes=None) -> str:
    """One row per run; ``recipes`` (each run's optimizer and schedule) adds a column after the rate."""
    from core.report import lr_text
    num = lambda v: "-" if v is None else f"{v:.6g}"    # noqa: E731
    w = max([6] + [len(d) for d in recipes or ()])
    rec = (lambda text: f"  {text:<{w}}") if recipes else (lambda text: "")     # noqa: E731
    rows = [f"{'learning rate':>13}{rec('recipe')}  {'final loss':>12}  {'best loss':>12}  {'outcome':<12}  "
            "diverged at step"]
    for k, r in enumerate(runs):
        rows.append(f"{lr_text(r.lr):>13}{rec(recipes[k] if recipes else '')}  {num(r.final_loss):>12}  "
                    f"{num(r.best_loss):>12}  {r.outcome:<12}  {'-' if r.diverged_step is None else r.diverged_step}")
    return "\n".join(rows)


def cmd_export_torch(args) -> int:
    from core.export_torch import torch_script
    from core.report import write_atomic
    exp = experiment_from_args(args)
    if args.out:
        _checked_outputs(args, "--out")
    text = torch_script(exp)
    if args.out:
        write_atomic(args.out, lambda fh: fh.write(text), "--out")
        print(f"wrote {args.out}: python {args.out} OUT.csv trains {len(exp.recipes())} run"
              f"{'s' if len(exp.recipes()) > 1 else ''} with PyTorch and writes LR Lab's CSV")
    else:
        sys.stdout.write(text)
    return 0


def cmd_window(args) -> int:
    lesson = args.open_lesson
    if lesson is not None and (args.preset or args.config):
        raise ConfigError("--lesson opens the lesson's own experiment: leave out --preset and --config")
    if lesson is not None and args.screenshot:          # no window to show a bad lesson in: say it here
        from core.lessons import find
        lesson = find(lesson)
    exp = experiment_from_args(args) if (args.preset or args.config) else None
    if args.screenshot:
        from core.report import check_writable
        check_writable(args.screenshot, "--screenshot")
    from gui.app import SCREENSHOT_SIZE, run, screenshot_size
    if args.screenshot_size and not args.screenshot:
        raise ConfigError("--screenshot-size needs --screenshot FILE.png")
    size = screenshot_size(args.screenshot_size) if args.screenshot_size else SCREENSHOT_SIZE
    return run(experiment=exp, screenshot=args.screenshot, tab=args.tab, size=size, lesson=lesson)


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
    p.add_argument("--screenshot-size", nargs=2, metavar=("W", "H"),
                   help="with --screenshot: the window's size in pixels (default 1600 1000; "
                        "1280 720 is a classroom projector)")
    p.add_argument("--tab", choices=("overlay", "side", "why"),
                   help="with --screenshot: the tab to show (overlay, side by side, why it diverges)")
    p.add_argument("--preset", metavar="NAME", help="open the window on this preset")
    p.add_argument("--config", metavar="FILE.json", help="open the window on this experiment")
    p.add_argument("--lesson", dest="open_lesson", metavar="NAME|FILE",
                   help="open the window on a lesson of the course (see `lesson list`) or a lesson file; "
                        "with --screenshot, the lesson's panel after the run")
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
    a.add_argument("--eps-opt-at", nargs="+", metavar="B",
                   help="batch sizes to predict the best step ε_opt(B) at (default: 1, 2, 4, … below N, "
                        "the experiment's --batch-size, and N)")
    a.set_defaults(func=cmd_analyze)

    x = sub.add_parser("export-torch", help="write the experiment as a standalone PyTorch script "
                       "(its CSV equals train --csv)")
    _add_experiment_options(x)
    x.add_argument("--out", metavar="FILE.py", help="write the script here (default: print it)")
    x.set_defaults(func=cmd_export_torch)

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
    for name in ("preset", "config", "data", "csv", "json", "png", "plot", "screenshot", "out"):
        if getattr(args, name, None) == "":
            raise ConfigError(f"--{name} is empty: give a {'name' if name == 'preset' else 'file'}")
    if getattr(args, "open_lesson", None) == "":
        raise ConfigError("--lesson is empty: give a lesson name or a lesson file")
    if getattr(args, "open_lesson", None) is not None and args.command is not None:
        raise ConfigError(f"--lesson opens the window: give it without the {args.command} command "
                          "(in the terminal: `lesson show NAME`)")


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
