"""gui/lessons.py: the lesson panel (predict, lock, run, verdict, links, progress, bad lessons).

Oracles: the lab's truth is computed headless here by core.lessons (its own training of the
lesson's experiment), never copied from the window; a link's target is the tab or run the
lesson file names."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import conftest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

from core import lessons  # noqa: E402
from core.experiment import preset  # noqa: E402
from gui.lessons import LessonProgress, lesson_html  # noqa: E402
from gui.main_window import SETTINGS_ENV  # noqa: E402
from gui.worker import FINISHED, FULL_SPEED  # noqa: E402

TIMEOUT = 60_000
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    """Never touch the user's QSettings."""
    path = tmp_path / "settings.ini"
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    return path


def make_window(qtbot, settings_path):
    return conftest.make_window(qtbot, settings_path, preset("tutorial"))


@pytest.fixture
def window(qtbot, private_settings):
    return make_window(qtbot, private_settings)


def headless_truth(name):
    lesson = lessons.find(name)
    return lesson, lesson.truth(lesson.evaluate())


def run_lesson(qtbot, w):
    """Press Run and wait for the verdict."""
    L = w.lessons
    assert L.panel.run_button.isEnabled()
    with qtbot.waitSignal(L.judged, timeout=TIMEOUT):
        L.panel.run_button.click()
    assert w.controller.state == FINISHED


def test_open_answer_lock_run_and_the_verdict_held(qtbot, window):
    lesson, truth = headless_truth("oscillating-convergence")
    L = window.lessons
    assert window.lessons_action.text() == "Lessons"
    assert L.open("oscillating-convergence")
    assert window.experiment == lesson.experiment            # loaded through the window's load path
    assert window.controller.t == 0
    p = L.panel
    assert lesson.question.text in p.question.text()
    assert len(p.answer.checks) == len(lesson.experiment.learning_rates)      # one choice per run
    assert not p.run_button.isEnabled()                      # Run only after locking
    for k in truth:
        p.answer.checks[k - 1].setChecked(True)
    p.lock_button.click()
    assert not p.lock_button.isEnabled() and p.run_button.isEnabled()
    assert not p.answer.checks[0].isEnabled()                # locked
    run_lesson(qtbot, window)
    assert window.controller.speed == FULL_SPEED
    assert L.verdict.held is True and L.verdict.truth == truth
    assert p.verdict.text().startswith("✓")
    assert lessons.format_value(truth) in p.verdict.text()
    assert "<a href=\"run:4\">" in p.explanation.text() and "<a href=\"view:side\">" in p.explanation.text()


def test_a_wrong_prediction_does_not_hold(qtbot, window):
    lesson, truth = headless_truth("oscillating-convergence")
    wrong = next(k for k in range(1, 5) if k not in truth)
    L = window.lessons
    L.open(lesson)
    L.panel.answer.checks[wrong - 1].setChecked(True)
    assert L.lock()
    run_lesson(qtbot, window)
    assert L.verdict.held is False
    assert L.panel.verdict.text().startswith("✗")
    assert L.progress.get("oscillating-convergence") == (str(wrong), "no")


def test_links_switch_the_tab_and_select_the_run(qtbot, window):
    lesson, _ = headless_truth("critical-rate")
    L = window.lessons
    L.open(lesson)
    L.panel.answer.field.setText("0.8")
    assert L.lock()
    run_lesson(qtbot, window)
    assert ("the curvature tab", "view:curvature") in lesson.references
    L.panel.explanation.linkActivated.emit("view:curvature")          # what a click on the link sends
    assert window.tabs.currentWidget() is window.why_view.widget
    assert window.analysis.currentWidget() is window.analysis.curvature
    L.panel.explanation.linkActivated.emit("view:range-test")
    assert window.analysis.currentWidget() is window.analysis.range_test
    L.panel.explanation.linkActivated.emit("view:overlay")
    assert window.tabs.currentWidget() is window.overlay_view.widget
    L.follow("run:3")
    assert window.controls.runs.selected() == 2


def test_the_number_verdict_is_the_labs_within_its_tolerance(qtbot, window):
    lesson, truth = headless_truth("critical-rate")
    tol = lesson.question.tolerance
    L = window.lessons
    L.open(lesson)
    L.panel.answer.field.setText(repr(truth * (1 + 3 * tol)))              # far outside the tolerance
    L.lock()
    run_lesson(qtbot, window)
    assert L.verdict.held is False and L.verdict.truth == pytest.approx(truth, rel=1e-12)
    L.reset()
    L.panel.answer.field.setText(repr(truth * (1 + tol / 2)))              # inside it
    L.lock()
    run_lesson(qtbot, window)
    assert L.verdict.held is True


def test_the_selected_runs_slider_gives_a_rate_guess_and_run_reloads_the_lessons_experiment(qtbot, window):
    lesson = lessons.find("critical-rate")
    L = window.lessons
    L.open(lesson)
    assert L.panel.answer.slider_button is not None            # a question about a rate
    window.controls.runs.list.setCurrentRow(2)
    window.controls.runs.editor.committed.emit(0.9)            # the student moves run 3's slider
    qtbot.waitUntil(lambda: window.experiment.learning_rates[2] == 0.9, timeout=TIMEOUT)
    L.panel.answer.slider_button.click()
    assert float(L.panel.answer.text()) == 0.9
    assert L.lock()
    assert window.experiment != lesson.experiment
    run_lesson(qtbot, window)
    assert window.experiment == lesson.experiment               # Run trained the lesson's own experiment


def test_lock_refuses_an_empty_or_unreadable_answer(qtbot, window):
    L = window.lessons
    L.open("critical-rate")
    L.panel.lock_button.click()
    assert not L.panel.error.isHidden() and "type a number" in L.panel.error.text()
    assert not L.panel.run_button.isEnabled()
    L.panel.answer.field.setText("abc")
    assert not L.lock()
    assert "'abc'" in L.panel.error.text()
    assert L.progress.get("critical-rate") is None


def test_a_run_before_locking_is_not_judged(qtbot, window):
    L = window.lessons
    L.open("oscillating-convergence")
    window.set_speed(FULL_SPEED)
    window.start_action.trigger()
    qtbot.waitUntil(lambda: window.controller.state == FINISHED and window.controller.idle, timeout=TIMEOUT)
    assert L.verdict is None and not L.pending
    assert "before your answer was locked" in L.panel.status.text()


def test_progress_is_kept_in_qsettings_and_reset_clears_it(qtbot, private_settings):
    w = make_window(qtbot, private_settings)
    L = w.lessons
    L.open("worked-example")
    L.panel.answer.radios[0].setChecked(True)                 # "negative"
    L.lock()
    run_lesson(qtbot, w)
    _, truth = headless_truth("worked-example")
    held = "yes" if truth == "negative" else "no"
    w.close()
    s = QSettings(str(private_settings), QSettings.IniFormat)
    assert s.value("lessons/worked-example/prediction") == "negative"
    assert s.value("lessons/worked-example/held") == held

    w2 = make_window(qtbot, private_settings)
    L2 = w2.lessons
    L2.open("worked-example")
    assert L2.panel.answer.text() == "negative" and not L2.panel.lock_button.isEnabled()
    assert L2.panel.run_button.isEnabled()
    assert L2.panel.course.itemText(0).startswith("✓" if held == "yes" else "✗")
    assert "1 of 12 answered" in L2.panel.progress_label.text() or f"1 of {len(L2.course)}" in \
        L2.panel.progress_label.text()
    L2.panel.reset_button.click()
    assert L2.panel.answer.text() == "" and L2.panel.lock_button.isEnabled()
    assert not L2.panel.run_button.isEnabled()
    w2.close()
    s = QSettings(str(private_settings), QSettings.IniFormat)
    assert s.value("lessons/worked-example/prediction") is None


def test_next_and_previous_follow_the_course(qtbot, window):
    L = window.lessons
    window.lessons_action.trigger()                            # Help ▸ Lessons: the first lesson
    assert L.lesson.name == lessons.lesson_name(lessons.course()[0])
    assert not L.panel.previous_button.isEnabled()
    L.panel.next_button.click()
    second = lessons.load(lessons.course()[1])
    assert L.lesson.name == second.name and window.experiment == second.experiment
    L.panel.previous_button.click()
    assert L.index(L.lesson) == 0


BAD = """---
format: lrlab-lesson
version: 1
title: Bad tolerance
kind: number
question: How much?
compute: final_loss
tolerance: -0.1
preset: exercise4
---
Text.

## After the run
Nothing.
"""


def test_a_malformed_lesson_shows_the_message_and_changes_nothing(qtbot, window, tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text(BAD, encoding="utf-8")
    L = window.lessons
    L.open("oscillating-convergence")
    before, lesson = window.experiment, L.lesson
    assert not L.open_file(str(bad))
    assert "bad.md" in window.last_error and "tolerance" in window.last_error and "-0.1" in window.last_error
    assert "\n" not in window.last_error
    assert window.experiment is before and L.lesson is lesson
    assert not L.open("no-such-lesson")
    assert "no-such-lesson" in window.last_error and window.experiment is before


def test_a_lesson_file_outside_the_course(qtbot, window, tmp_path):
    text = (ROOT / "resources" / "lessons" / "07-oscillating-convergence.md").read_text(encoding="utf-8")
    path = tmp_path / "mine.md"
    path.write_text(text, encoding="utf-8")
    L = window.lessons
    assert L.open_file(str(path))
    assert L.key(L.lesson) == "file-mine" and L.index(L.lesson) == -1
    assert not L.panel.next_button.isEnabled() and not L.panel.previous_button.isEnabled()


def test_lesson_html_makes_the_references_anchors_and_escapes_the_rest():
    out = lesson_html("a < b\n\nsee [the tab](view:why) and [run 2](run:2)",
                      (("the tab", "view:why"), ("run 2", "run:2")))
    assert out == '<p>a &lt; b</p><p>see <a href="view:why">the tab</a> and <a href="run:2">run 2</a></p>'


def test_progress_without_settings_is_kept_in_memory():
    p = LessonProgress(None)
    assert p.get("x") is None
    p.set("x", "3", "yes")
    assert p.get("x") == ("3", "yes")
    p.clear("x")
    assert p.get("x") is None


def _main(*args, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LRLAB_SETTINGS=str(tmp_path / "s.ini"))
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)


def test_cli_lesson_screenshot_and_bad_lessons(tmp_path):
    out = tmp_path / "lesson.png"
    r = _main("--screenshot", str(out), "--screenshot-size", "1280", "720", "--lesson", "worked-example",
              tmp_path=tmp_path)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = _main("--screenshot", str(tmp_path / "no.png"), "--lesson", "nope", tmp_path=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "'nope'" in r.stderr
    assert not (tmp_path / "no.png").exists()
    r = _main("--lesson", "worked-example", "--preset", "exercise4", tmp_path=tmp_path)
    assert r.returncode == 2 and "--lesson" in r.stderr and "--preset" in r.stderr
    r = _main("--lesson", "worked-example", "lesson", "list", tmp_path=tmp_path)
    assert r.returncode == 2 and "--lesson" in r.stderr
