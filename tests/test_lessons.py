"""core.lessons and `main.py lesson`: the format, the built-in course run headless (every claim
it makes holds), the computations against closed forms, and bad lesson files."""
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import main
from core import lessons as L
from core.errors import ConfigError
from core.explain import tutorial_step

ROOT = Path(__file__).resolve().parent.parent
COURSE = L.course()

GOOD = """---
format: lrlab-lesson
version: 1
title: Four rates
summary: one line
preset: exercise4
kind: pick-run
question: Which diverges?
outcome: diverged
expect: 4
---
Read this first.

```json
{"steps": 300}
```

## After the run
Run {answer} diverged at step {diverged_step:4}; see [the curvature tab](view:curvature) and [run 4](run:4).
"""


def write(tmp_path, text, name="my.md"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def with_meta(text=GOOD, **changes):
    """GOOD with front-matter keys changed (None: removed), new ones appended."""
    head, body = text.split("\n---\n", 1)
    lines = head.split("\n")
    for key, value in changes.items():
        at = [i for i, ln in enumerate(lines) if ln.startswith(key + ":")]
        if at:
            if value is None:
                del lines[at[0]]
            else:
                lines[at[0]] = f"{key}: {value}"
        elif value is not None:
            lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n---\n" + body


# -- the built-in course ------------------------------------------------------------------------
def test_the_course_has_a_dozen_lessons_in_order():
    names = [L.lesson_name(p) for p in COURSE]
    assert len(names) >= 12
    assert names[:5] == ["worked-example", "two-hidden-units", "relu-dead-units", "training-loop", "four-behaviours"]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("path", COURSE, ids=[L.lesson_name(p) for p in COURSE])
def test_every_built_in_lesson_says_what_happens(path):
    """Run headless: the teacher's claim (expect) is what the lab computes, every placeholder of
    the explanation computes, every link points to a view or a run.  Every checked question has
    a claim (an unchecked built-in lesson would test nothing)."""
    lesson = L.load(path)
    assert lesson.title and lesson.summary and lesson.text and lesson.explanation_template
    if lesson.question.kind != L.FREE_TEXT:
        assert lesson.question.expect is not None
    ev = lesson.evaluate()
    lesson.claim(ev)                                  # raises ConfigError if it does not hold
    text = lesson.explanation(ev)
    assert "{" not in text and "none" not in text.split()
    truth = lesson.truth(ev)
    if lesson.question.kind != L.FREE_TEXT:
        # the student who predicts the truth is told it held; one who predicts otherwise, not
        assert lesson.check(truth if lesson.question.kind != L.PICK_RUN else tuple(truth), ev).held is True
        kind = lesson.question.kind
        wrong = () if kind == L.PICK_RUN else truth * 3 + 1 if kind == L.NUMBER else "?"
        assert lesson.check(wrong, ev).held is False


# -- the computations against their oracles -----------------------------------------------------
def test_worked_example_gradients_are_the_chain_rule_by_hand():
    ev = L.find("worked-example").evaluate()
    s = tutorial_step(0.1)
    for name in ("w1", "b1", "w2", "b2"):
        assert ev.value("gradient", name) == pytest.approx(float(np.ravel(getattr(s, f"dL_d{name}"))[0]), rel=1e-12)
    assert ev.value("gradient", "w1") == pytest.approx(-0.0304, abs=6e-4)      # the tutorial's printout
    assert ev.value("gradient", "b2") == pytest.approx(-1.0202, abs=2e-4)      # rounded y_pred there


def _line_hessian_top(x):
    """λ_max of the line's MSE, Hessian 2·[[mean x², mean x], [mean x, 1]], in closed form."""
    a, b = np.mean(x * x), np.mean(x)
    return (a + 1) + np.sqrt((a - 1) ** 2 + 4 * b * b)


def test_critical_rates_are_the_closed_forms():
    ev = L.find("nesterov").evaluate()
    lam = _line_hessian_top(ev.data.x)
    assert ev.value("sharpness") == pytest.approx(lam, rel=1e-12)
    assert ev.value("critical_lr", 1) == pytest.approx(2 / lam, rel=1e-12)
    assert ev.value("critical_lr", 2) == pytest.approx((2 + 2 * 0.9) / lam, rel=1e-12)
    assert ev.value("critical_lr", 3) == pytest.approx((2 + 2 * 0.9) / (1 + 2 * 0.9) / lam, rel=1e-12)


def test_largest_stable_lr_finds_the_cliff_of_the_quadratic():
    """On the line's quadratic loss the cliff is exactly 2/λ_max: the search brackets it to
    its grid's resolution (two passes of 33 rates over a factor of 256: < 0.5 %)."""
    ev = L.find("critical-rate").evaluate()
    edge = 2 / _line_hessian_top(ev.data.x)
    found = ev.value("largest_stable_lr", 1)
    assert edge * 0.99 < found <= edge * 1.001


def test_crosses_at_is_the_warmup_formula_by_hand():
    lesson = L.find("warmup")
    ev = lesson.evaluate()
    crit = 2 / ev.value("sharpness")
    run = lesson.experiment.runs[1]
    lr, W, s = run.lr, run.schedule.warmup_steps, run.schedule.warmup_start_factor
    # PyTorch LinearLR: η_t = η·(s + (1 − s)·t/W) for t < W
    by_hand = next(t for t in range(W) if lr * (s + (1 - s) * t / W) > crit)
    assert ev.value("crosses_at", 2) == by_hand
    assert ev.value("crosses_at", 1) == 0                          # the constant rate starts above


def test_a_trainer_from_the_window_gives_the_same_answers():
    lesson = L.find("four-behaviours")
    trainer = lesson.experiment.trainer()
    for _ in trainer.run(chunk=300):
        pass
    assert lesson.truth(lesson.evaluate(trainer)) == lesson.truth(lesson.evaluate())


# -- judging a prediction --------------------------------------------------------------------------
def test_judging_predictions():
    q = L.Question(L.PICK_RUN, "?", outcome="diverged")
    assert q.judge(3, (3, 4)).held and not q.judge(2, (3, 4)).held
    assert q.judge((4, 3), (3, 4)).held and not q.judge((3,), (3, 4)).held
    n = L.Question(L.NUMBER, "?", compute="final_loss", tolerance=0.1)
    assert n.judge(1.1, 1.0).held and n.judge(0.9, 1.0).held and not n.judge(1.11, 1.0).held
    f = L.Question(L.FREE_TEXT, "?")
    v = f.judge("it fits faster", None)
    assert v.held is None and "it fits faster" in v.message
    assert n.parse_prediction(" 0.5 ", 4) == 0.5
    assert q.parse_prediction("3, 4", 4) == (3, 4) and q.parse_prediction("2", 4) == 2
    with pytest.raises(ConfigError, match="1 to 4"):
        q.parse_prediction("5", 4)


def test_a_good_file_loads_with_its_references(tmp_path):
    lesson = L.load(write(tmp_path, GOOD))
    assert lesson.name == "my" and lesson.title == "Four rates" and lesson.experiment.steps == 300
    assert lesson.experiment.learning_rates == (0.01, 0.1, 0.5, 1.0)           # the preset's, kept
    assert lesson.references == (("the curvature tab", "view:curvature"), ("run 4", "run:4"))
    assert "```" not in lesson.text and lesson.text == "Read this first."
    assert L.check_lesson(lesson) == "my: pick-run → 4 (as expected)"


def test_a_claim_that_does_not_hold_is_refused(tmp_path):
    lesson = L.load(write(tmp_path, with_meta(expect="3")))
    with pytest.raises(ConfigError, match=r"my\.md.*expect is 3, but the lab computes 4"):
        L.check_lesson(lesson)
    lesson = L.load(write(tmp_path, with_meta(expect=None).replace('"steps": 300', '"steps": 300, "learning_rates": [0.01, 0.1, 0.5, 0.6]')))
    with pytest.raises(ConfigError, match="the question has no answer: no run is diverged"):
        L.check_lesson(lesson)


# -- bad lesson files ---------------------------------------------------------------------------------
BAD = [
    (with_meta(kind="pick-one"), r"kind must be one of .*; got 'pick-one'"),
    (GOOD.replace('{"steps": 300}', '{"steps": -3}'), r"experiment: steps must be between 1 and"),
    (GOOD.replace('{"steps": 300}', '{"stepz": 3}'), r"experiment: unknown key 'stepz'"),
    (GOOD.replace('{"steps": 300}', '{"steps": 3'), r"experiment: not valid JSON"),
    (with_meta(kind="number", outcome=None, expect=None, compute="final_loss", run="1", tolerance="0"),
     r"tolerance must be > 0; got 0"),
    (with_meta(kind="number", outcome=None, expect=None, compute="final_loss", run="1", tolerance="-0.1"),
     r"tolerance must be > 0; got -0.1"),
    (with_meta(kind="number", outcome=None, expect=None, compute="final_loss", run="1", tolerance="abc"),
     r"tolerance must be a number; got 'abc'"),
    (with_meta(kind="pick-outcome", outcome=None, expect=None, run="5"), r"run must be a run of the experiment \(1 to 4\); got 5"),
    (with_meta(kind="pick-outcome", outcome=None, expect=None, run="two"), r"run must be a run number \(1 to 4\); got 'two'"),
    (with_meta(expect="9"), r"expect must be a run of the experiment \(1 to 4\); got 9"),
    (with_meta(colour="red"), r"unknown key 'colour'"),
    (with_meta(outcome="exploded"), r"outcome must be one of converging, slow, oscillating, diverged; got 'exploded'"),
    (with_meta(outcome=None), r"outcome is missing \(a pick-run question needs it\)"),
    (with_meta(run="2"), r"run is not used by a pick-run question; got '2'"),
    (with_meta(kind="number", outcome=None, expect=None, compute="wisdom", tolerance="0.1"), r"compute must be one of .*; got 'wisdom'"),
    (with_meta(format="lrlab-experiment"), r"format must be 'lrlab-lesson'; got 'lrlab-experiment'"),
    (with_meta(version="2"), r"version must be 1; got '2'"),
    (with_meta(title=None), r"title is missing"),
    (with_meta(preset="exercise9"), r"preset must be one of .*; got 'exercise9'"),
    (GOOD.replace("(view:curvature)", "(view:telescope)"), r"view must be one of .*; got 'telescope'"),
    (GOOD.replace("(run:4)", "(run:7)"), r"run:7 names no run \(the experiment has 4\)"),
    (GOOD.replace("{diverged_step:4}", "{diverged_step:9}"), r"run must be 1 to 4; got '9'"),
    (GOOD.replace("{diverged_step:4}", "{wisdom}"), r"\{wisdom\} is no computation"),
    (GOOD.replace("## After the run", "## Afterwards"), r"the explanation is missing"),
    (GOOD.replace("---\nRead", "Read", 1), r"front matter has no closing"),
    ("no front matter", r"must start with a front matter"),
    (with_meta(preset=None).replace('```json\n{"steps": 300}\n```\n', ""), r"experiment is missing"),
]


@pytest.mark.parametrize("text, message", BAD, ids=[m[:30] for _, m in BAD])
def test_a_malformed_lesson_is_one_clear_error(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as e:
        L.load(path)
    assert str(e.value).startswith(f"lesson '{path}'") and "\n" not in str(e.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        L.load(tmp_path / "missing.md")
    (tmp_path / "latin.md").write_bytes(b"---\ntitle: caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        L.load(tmp_path / "latin.md")


# -- the command line -----------------------------------------------------------------------------------
def run(args, stdin=None):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], input=stdin,
                          capture_output=True, text=True, cwd=ROOT)


def test_lesson_list_names_the_course(capsys):
    assert main.main(["lesson", "list"]) == 0
    out = capsys.readouterr().out
    for p in COURSE:
        lesson = L.load(p)
        assert f"{lesson.name}" in out and lesson.title in out


def test_lesson_check_ok_and_not(tmp_path, capsys):
    assert main.main(["lesson", "check", str(write(tmp_path, GOOD))]) == 0
    assert capsys.readouterr().out == "ok: my: pick-run → 4 (as expected)\n"
    assert main.main(["lesson", "check", "momentum"]) == 0
    assert capsys.readouterr().out.startswith("ok: momentum: pick-run → 1")
    r = run(["lesson", "check", write(tmp_path, with_meta(expect="2"), "wrong.md")])
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "expect is 2, but the lab computes 4" in r.stderr
    r = run(["lesson", "check", write(tmp_path, with_meta(kind="guess"), "bad.md")])
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "kind must be one of" in r.stderr
    assert "Traceback" not in r.stderr
    r = run(["lesson", "show", "no-such-lesson"])
    assert r.returncode == 2 and "lesson must be a file or one of worked-example" in r.stderr


def test_lesson_show_asks_then_answers(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("4\n"))
    assert main.main(["lesson", "show", "four-behaviours"]) == 0
    out = capsys.readouterr().out
    asked, answered = out.index("Which run(s) will diverge?"), out.index("Answer (computed by the lab): 4")
    assert asked < out.index("your prediction held") < answered
    assert "  4: η = 1" in out and "(view:" not in out and "the \"why it diverges\" tab" in out


def test_lesson_show_without_a_terminal_goes_on():
    r = run(["lesson", "show", "worked-example"], stdin="")         # stdin at its end at once
    assert r.returncode == 0 and "Answer (computed by the lab): negative" in r.stdout
    assert "your prediction" not in r.stdout.replace("Your prediction, then Enter", "")
    r = run(["lesson", "show", "two-hidden-units"], stdin="it fits faster\n")
    assert r.returncode == 0 and "your prediction: it fits faster" in r.stdout and "Answer" not in r.stdout
    r = run(["lesson", "show", "four-behaviours"], stdin="seven\n")
    assert r.returncode == 0 and "not read: expected a run number (1 to 4); got 'seven'" in r.stdout


def test_lessons_import_no_qt():
    code = "import sys, core.lessons as L; L.check_lesson(L.find('warmup')); print([m for m in sys.modules if 'PySide' in m or 'pyqtgraph' in m])"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip() == "[]"


def test_the_readme_example_is_a_lesson_whose_claim_holds(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("A complete example:\n\n", 1)[1].split("\n\n| key |", 1)[0]
    lesson = L.load(write(tmp_path, "\n".join(line[4:] for line in block.split("\n")) + "\n"))
    assert L.check_lesson(lesson) == "my: pick-run → 1 (as expected)"


def test_noise_scale_computations_are_the_issues_oracle(tmp_path):
    """The model without a hidden layer, 100 points evenly on [0, 1], y = 2x + 1 without noise,
    w = b = 0: B_noise = 0.163892, ε_max = 0.394853, ε_opt(10) = 0.389057 (McCandlish's formula
    with the finite-population factor)."""
    text = GOOD.replace("preset: exercise4\n", "").replace("kind: pick-run", "kind: number").replace(
        "outcome: diverged\nexpect: 4", "compute: eps_opt\ntolerance: 0.01\nexpect: 0.389").replace(
        '{"steps": 300}', '{"model": "linear", "dataset": "linear", "samples": 100, "noise": 0.0, '
                          '"x_range": [0.0, 1.0], "init": {"w": 0.0, "b": 0.0}, "steps": 5, "batch_size": 10}').replace(
        "Run {answer} diverged at step {diverged_step:4}; see [the curvature tab](view:curvature) and [run 4](run:4).",
        "ε_opt(10) = {answer}, ε_max = {eps_max}, B_noise = {noise_scale}.")
    ev = L.load(write(tmp_path, text)).evaluate()
    assert ev.value("noise_scale") == pytest.approx(0.163892, abs=1e-6)
    assert ev.value("eps_max") == pytest.approx(0.394853, abs=1e-6)
    assert ev.value("eps_opt") == pytest.approx(0.389057, abs=1e-6)
