"""The lesson panel: predict, run, explain (Help ▸ Lessons, File ▸ Open lesson…, ``--lesson``).

``LessonPanel`` is a view: it shows what core.lessons gives (the title, the text, the question
and its choices, the verdict, the explanation with its links) and emits what the student does.
``LessonCommands`` (one per window, like gui.files.FileCommands) composes it in a dock beside the
plots and wires it: opening a lesson loads its experiment through the window's normal load path;
"Lock my answer" parses the prediction (core.lessons.Question.parse_prediction) and enables Run;
Run trains the lesson's experiment at full speed; when it reaches its budget, the lab's truth,
the verdict and the explanation are computed off the GUI thread (``judge``, core only, on the
window's trainer: nothing is trained twice) and shown.  A link ``view:NAME`` switches to that
tab, ``run:N`` selects that run.  Progress (each lesson's locked prediction, and whether it
held) is kept in QSettings under ``lessons/<name>``; Reset clears it.

A run is judged only if the answer is locked and the experiment that finished is the lesson's
own (the student may move the sliders before locking; Run loads the lesson's experiment again).
"""
from __future__ import annotations

import html
import os

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDockWidget, QFileDialog, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QRadioButton,
                               QScrollArea, QVBoxLayout, QWidget)

from core import lessons as core_lessons
from core.errors import ConfigError
from core.lessons import FREE_TEXT, NUMBER, PICK_RUN, format_value

from .format import exact
from .jobs import JobRunner
from .style import ERROR_STYLE

# The window's views a link may name (core.lessons.VIEWS): (the window's view attribute, the
# "Why it diverges" tab's sub-view or None).
VIEW_TARGETS = {
    "overlay": ("overlay_view", None),
    "side": ("side_view", None),
    "why": ("why_view", None),
    "curvature": ("why_view", "curvature"),
    "range-test": ("why_view", "range_test"),
    "landscape": ("why_view", "landscape"),
    "phase": ("why_view", "phase"),
}
# Number questions whose answer is a learning rate: the selected run's slider can give the guess.
RATE_COMPUTATIONS = ("largest_stable_lr", "critical_lr")
PANEL_WIDTH = 330                  # the dock's width beside the plots (1280 × 720: the plots keep ~570 px)
WIDE_ENOUGH = 1500                 # narrower windows stack the lesson over the Experiment dock (its tab)
POLL_MS = 33                       # after the budget: wait for the worker to be idle before reading its trainer
SETTINGS_GROUP = "lessons"
HELD_TEXT = {"yes": "✓", "no": "✗", "shown": "•", "": "…"}   # progress marks: held, not, free text, locked


def judge(lesson, trainer, prediction):
    """(verdict or None, the lab's truth, the explanation): core's answers for ``lesson`` on
    ``trainer`` (already trained to the budget).  Runs in a job thread: core only."""
    ev = lesson.evaluate(trainer)
    verdict = None if prediction is None else lesson.check(prediction, ev)
    return verdict, lesson.truth(ev), lesson.explanation(ev)


def lesson_html(text: str, references=()) -> str:
    """A lesson's Markdown text as the panel's rich text: paragraphs on blank lines, each link
    of ``references`` ((label, "view:…" or "run:…"), core's parse) an anchor the panel follows."""
    out = html.escape(text, quote=False)
    for label, target in references:
        md = html.escape(f"[{label}]({target})", quote=False)
        out = out.replace(md, f'<a href="{html.escape(target)}">{html.escape(label, quote=False)}</a>')
    paragraphs = [p.strip().replace("\n", " ") for p in out.split("\n\n") if p.strip()]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def run_label(recipe, k: int) -> str:
    extra = "" if recipe.optimizer == "gd" else f", {recipe.optimizer}"
    return f"run {k}: η = {recipe.lr:g}{extra}"


class LessonProgress:
    """Each lesson's locked prediction (text) and whether it held ("yes", "no", "shown" for free
    text, "" not yet run), in QSettings under lessons/<key>; ``settings`` None: kept in memory."""

    def __init__(self, settings=None):
        self.settings = settings
        self._memory: dict = {}

    def get(self, key: str):
        """(prediction text, held) or None if the lesson has no locked answer."""
        if self.settings is None:
            return self._memory.get(key)
        s = self.settings
        if not s.contains(f"{SETTINGS_GROUP}/{key}/prediction"):
            return None
        return (s.value(f"{SETTINGS_GROUP}/{key}/prediction", "", type=str),
                s.value(f"{SETTINGS_GROUP}/{key}/held", "", type=str))

    def set(self, key: str, prediction: str, held: str = "") -> None:
        if self.settings is None:
            self._memory[key] = (prediction, held)
            return
        self.settings.setValue(f"{SETTINGS_GROUP}/{key}/prediction", prediction)
        self.settings.setValue(f"{SETTINGS_GROUP}/{key}/held", held)

    def clear(self, key: str) -> None:
        if self.settings is None:
            self._memory.pop(key, None)
            return
        self.settings.remove(f"{SETTINGS_GROUP}/{key}")


class AnswerBox(QWidget):
    """The input a question asks for: run check boxes (pick-run), radio buttons (pick-outcome,
    pick-sign), a number field (number; "η from the slider" for a rate), a text box (free text).
    ``text()`` is the prediction as core.lessons.Question.parse_prediction reads it."""

    slider_rate_wanted = Signal()

    def __init__(self, question, recipes, parent=None):
        super().__init__(parent)
        self.kind = question.kind
        self.checks, self.radios, self.field, self.text_box, self.slider_button = [], [], None, None, None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if self.kind == PICK_RUN:
            for k, recipe in enumerate(recipes, 1):
                box = QCheckBox(run_label(recipe, k))
                self.checks.append(box)
                layout.addWidget(box)
        elif self.kind == NUMBER:
            self.field = QLineEdit()
            self.field.setPlaceholderText("your number")
            row = QHBoxLayout()
            row.addWidget(self.field, 1)
            if question.compute in RATE_COMPUTATIONS:
                self.slider_button = QPushButton("η from the slider")
                self.slider_button.setToolTip("Use the learning rate of the selected run (the Experiment "
                                              "panel's slider) as your guess.")
                self.slider_button.clicked.connect(self._on_slider_button_clicked)
                row.addWidget(self.slider_button)
            layout.addLayout(row)
        elif self.kind == FREE_TEXT:
            self.text_box = QPlainTextEdit()
            self.text_box.setPlaceholderText("your prediction, in a sentence or two")
            self.text_box.setFixedHeight(70)
            layout.addWidget(self.text_box)
        else:
            self.group = QButtonGroup(self)
            for choice in question.choices():
                r = QRadioButton(choice)
                self.group.addButton(r)
                self.radios.append(r)
                layout.addWidget(r)

    def text(self) -> str:
        if self.kind == PICK_RUN:
            return ", ".join(str(k) for k, b in enumerate(self.checks, 1) if b.isChecked())
        if self.kind == NUMBER:
            return self.field.text()
        if self.kind == FREE_TEXT:
            return self.text_box.toPlainText()
        return next((r.text() for r in self.radios if r.isChecked()), "")

    def set_text(self, text: str) -> None:
        if self.kind == PICK_RUN:
            picked = {t.strip() for t in text.replace(",", " ").split()}
            for k, b in enumerate(self.checks, 1):
                b.setChecked(str(k) in picked)
        elif self.kind == NUMBER:
            self.field.setText(text)
        elif self.kind == FREE_TEXT:
            self.text_box.setPlainText(text)
        else:
            for r in self.radios:
                r.setChecked(r.text() == text)

    def set_locked(self, locked: bool) -> None:
        for w in (*self.checks, *self.radios, self.field, self.text_box, self.slider_button):
            if w is not None:
                (w.setReadOnly if isinstance(w, (QLineEdit, QPlainTextEdit)) else w.setEnabled)(
                    locked if isinstance(w, (QLineEdit, QPlainTextEdit)) else not locked)

    @Slot()
    def _on_slider_button_clicked(self) -> None:
        self.slider_rate_wanted.emit()


class LessonPanel(QWidget):
    """The lesson's text, question, answer, verdict and explanation; buttons emit, the owner acts."""

    lesson_chosen = Signal(int)        # an index of the course list
    previous_wanted = Signal()
    next_wanted = Signal()
    lock_wanted = Signal()
    run_wanted = Signal()
    reset_wanted = Signal()
    link_activated = Signal(str)       # "view:curvature", "run:2"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.answer = None
        self.course = QComboBox()
        self.course.setToolTip("The built-in course (✓ held, ✗ did not hold, • answered, … locked).")
        self.previous_button, self.next_button = QPushButton("◀ Previous"), QPushButton("Next ▶")
        self.progress_label = QLabel()
        self.progress_label.setStyleSheet("color: palette(mid);")
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold; font-size: 120%;")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.RichText)
        self.question = QLabel()
        self.question.setWordWrap(True)
        self.question_box = QGroupBox("Your prediction, before the run")
        self.answer_layout = QVBoxLayout(self.question_box)
        self.answer_layout.addWidget(self.question)
        self.lock_button = QPushButton("Lock my answer")
        self.lock_button.setToolTip("Lock your prediction: then Run trains the lesson's experiment.")
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Train the lesson's experiment to its budget at full speed.")
        self.reset_button = QPushButton("Reset lesson")
        self.reset_button.setToolTip("Clear this lesson's answer (and its progress) and start again.")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setStyleSheet("font-weight: bold;")
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.RichText)
        self.explanation.setTextInteractionFlags(Qt.LinksAccessibleByMouse | Qt.LinksAccessibleByKeyboard)

        nav = QHBoxLayout()
        nav.addWidget(self.previous_button)
        nav.addWidget(self.next_button)
        buttons = QHBoxLayout()
        for b in (self.lock_button, self.run_button, self.reset_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.course)
        layout.addLayout(nav)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addWidget(self.question_box)
        layout.addLayout(buttons)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addWidget(self.verdict)
        layout.addWidget(self.explanation)
        layout.addStretch(1)

        self.course.activated.connect(self._on_course_activated)
        self.previous_button.clicked.connect(self._on_previous_button_clicked)
        self.next_button.clicked.connect(self._on_next_button_clicked)
        self.lock_button.clicked.connect(self._on_lock_button_clicked)
        self.run_button.clicked.connect(self._on_run_button_clicked)
        self.reset_button.clicked.connect(self._on_reset_button_clicked)
        self.explanation.linkActivated.connect(self._on_explanation_link_activated)
        self.text.linkActivated.connect(self._on_explanation_link_activated)

    # -- model -> view ----------------------------------------------------------------------
    def set_course(self, items, current: int, placeholder: str = "") -> None:
        """``items``: the course's lines (with their progress marks); ``current``: -1 for a file."""
        self.course.clear()
        self.course.addItems(list(items))
        self.course.setPlaceholderText(placeholder)
        self.course.setCurrentIndex(current)
        self.previous_button.setEnabled(current > 0)
        self.next_button.setEnabled(0 <= current < len(items) - 1)

    def show_lesson(self, lesson) -> None:
        self.title.setText(html.escape(lesson.title))
        self.text.setText(lesson_html(lesson.text))
        self.question.setText(f"<b>{html.escape(lesson.question.text)}</b>")
        if self.answer is not None:
            self.answer_layout.removeWidget(self.answer)
            self.answer.deleteLater()
        self.answer = AnswerBox(lesson.question, lesson.experiment.recipes())
        self.answer_layout.addWidget(self.answer)
        self.show_result("", "")
        self.show_error("")

    def set_stage(self, locked: bool, running: bool = False) -> None:
        self.answer.set_locked(locked)
        self.lock_button.setEnabled(not locked)
        self.run_button.setEnabled(locked and not running)

    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def show_result(self, verdict: str, explanation_html: str) -> None:
        self.verdict.setText(verdict)
        self.verdict.setVisible(bool(verdict))
        self.explanation.setText(explanation_html)
        self.explanation.setVisible(bool(explanation_html))

    # -- slots ------------------------------------------------------------------------------
    @Slot(int)
    def _on_course_activated(self, index: int) -> None:
        self.lesson_chosen.emit(index)

    @Slot()
    def _on_previous_button_clicked(self) -> None:
        self.previous_wanted.emit()

    @Slot()
    def _on_next_button_clicked(self) -> None:
        self.next_wanted.emit()

    @Slot()
    def _on_lock_button_clicked(self) -> None:
        self.lock_wanted.emit()

    @Slot()
    def _on_run_button_clicked(self) -> None:
        self.run_wanted.emit()

    @Slot()
    def _on_reset_button_clicked(self) -> None:
        self.reset_wanted.emit()

    @Slot(str)
    def _on_explanation_link_activated(self, link: str) -> None:
        self.link_activated.emit(link)


class LessonCommands(QObject):
    """The window's lessons: the panel in its dock, the course, the open lesson, its progress.

    ``open(name_or_lesson)`` and ``open_file(path)`` (False and the window's message if the
    lesson is malformed or its experiment does not load: the current experiment stays);
    ``lock()``, ``run()``, ``reset()``, ``follow(link)``; ``judged`` fires when a verdict is shown.
    """

    judged = Signal()

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.progress = LessonProgress(window.settings if window.remember else None)
        self.course_paths = core_lessons.course()
        self._course = None
        self.lesson = None
        self.locked = None                 # the parsed prediction once locked (None: not locked)
        self.prediction_text = ""
        self.pending = False               # a finished run waits for its verdict
        self.verdict = None
        self.explanation = ""
        self.dock = self.panel = self.scroll = None
        self.runner = JobRunner(self, "lrlab-lesson")
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.failed.connect(self._on_runner_failed)
        window.controller.state_changed.connect(self._on_controller_state_changed)

    @property
    def course(self) -> list:
        """The built-in lessons, read when first needed (not at the window's start)."""
        if self._course is None:
            self._course = [core_lessons.load(p) for p in self.course_paths]
        return self._course

    def shutdown(self) -> None:
        """Stop a verdict being worked out (the window closes)."""
        self.runner.shutdown()

    # -- the dock ---------------------------------------------------------------------------
    def _build(self) -> None:
        if self.panel is not None:
            return
        w = self.window
        self.panel = LessonPanel()
        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(PANEL_WIDTH)
        self.scroll = scroll
        self.dock = QDockWidget("Lesson", w)
        self.dock.setObjectName("lesson")
        self.dock.setWidget(scroll)
        self.dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
                              | QDockWidget.DockWidgetClosable)
        if w.width() < WIDE_ENOUGH:            # a projector: the lesson over the experiment, in tabs
            w.addDockWidget(Qt.LeftDockWidgetArea, self.dock)
            w.tabifyDockWidget(w.controls_dock, self.dock)
        else:
            w.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        p = self.panel
        p.lesson_chosen.connect(self._on_panel_lesson_chosen)
        p.previous_wanted.connect(self._on_panel_previous_wanted)
        p.next_wanted.connect(self._on_panel_next_wanted)
        p.lock_wanted.connect(self._on_panel_lock_wanted)
        p.run_wanted.connect(self._on_panel_run_wanted)
        p.reset_wanted.connect(self._on_panel_reset_wanted)
        p.link_activated.connect(self._on_panel_link_activated)

    def show_panel(self) -> None:
        self._build()
        self.dock.show()
        self.dock.raise_()

    # -- commands ---------------------------------------------------------------------------
    def key(self, lesson) -> str:
        """Where a lesson's progress is kept: its name (a file outside the course: file-<name>)."""
        inside = lesson.path is not None and os.path.abspath(lesson.path) in map(os.path.abspath, self.course_paths)
        return lesson.name if inside else f"file-{lesson.name}"

    def index(self, lesson) -> int:
        """The lesson's place in the course, -1 for a file outside it."""
        if lesson is None or lesson.path is None:
            return -1
        paths = [os.path.abspath(p) for p in self.course_paths]
        p = os.path.abspath(lesson.path)
        return paths.index(p) if p in paths else -1

    def open(self, lesson) -> bool:
        """Open ``lesson`` (a core Lesson, a course name or a lesson file): its experiment is loaded
        (paused at step 0) and its question asked.  False (and a message) if it cannot be: the
        current experiment and lesson stay."""
        w = self.window
        if not isinstance(lesson, core_lessons.Lesson):
            try:
                lesson = core_lessons.find(str(lesson))
            except ConfigError as e:
                w.show_error("The lesson could not be opened", str(e))
                return False
        w.controller.pause()
        if not w.load_experiment(lesson.experiment):
            return False
        self.show_panel()
        self.lesson, self.verdict, self.explanation, self.pending = lesson, None, "", False
        self.runner.cancel()
        self.panel.show_lesson(lesson)
        self.panel.answer.slider_rate_wanted.connect(self._on_answer_slider_rate_wanted)
        stored = self.progress.get(self.key(lesson))
        if stored is None:
            self.locked, self.prediction_text = None, ""
            self.panel.set_stage(locked=False)
            self.panel.show_status("Read, predict, then lock your answer: Run is enabled once it is locked.")
        else:
            text, held = stored
            self.panel.answer.set_text(text)
            self.locked = self._parse(text)
            self.prediction_text = text
            self.panel.set_stage(locked=True)
            last = {"yes": "Last time your prediction held.", "no": "Last time your prediction did not hold.",
                    "shown": "You answered this one."}.get(held, "Your answer is locked.")
            self.panel.show_status(f"{last} Run to see the lab's answer again, or Reset lesson to answer anew.")
        self._show_course()
        w.statusBar().showMessage(f"Lesson: {lesson.title}", 8000)
        return True

    def open_when_ready(self, lesson) -> None:
        """Open ``lesson`` once the plots are built (``python main.py --lesson``: see defer_plots)."""
        if self.window.plots_built:
            self.open(lesson)
            return
        self._wanted = lesson
        self.window.plots_ready.connect(self._on_window_plots_ready)

    def open_file(self, path) -> bool:
        try:
            lesson = core_lessons.load(path)
        except ConfigError as e:
            self.window.show_error("The lesson could not be opened", str(e))
            return False
        return self.open(lesson)

    def lock(self) -> bool:
        """Lock the panel's prediction (False and a message naming what is expected if it does not read)."""
        text = self.panel.answer.text()
        try:
            prediction = self._parse(text, strict=True)
        except ConfigError as e:
            self.panel.show_error(f"Your prediction: expected {e}")
            return False
        self.panel.show_error("")
        self.locked, self.prediction_text = prediction, text.strip()
        self.progress.set(self.key(self.lesson), self.prediction_text, "")
        self.panel.set_stage(locked=True)
        self.panel.show_status("Locked. Press Run: the lesson's experiment trains to its budget.")
        self._show_course()
        return True

    def lock_without_prediction(self) -> None:
        """(--screenshot) Show the lab's answer after the run, with no prediction."""
        self.locked, self.prediction_text = (), ""
        self.panel.set_stage(locked=True)

    def run(self) -> None:
        """Train the lesson's experiment from step 0 to its budget at full speed."""
        from .worker import FULL_SPEED
        w = self.window
        if self.lesson is None or self.locked is None:
            return
        if w.experiment != self.lesson.experiment or w.controller.t > 0:
            w.controller.pause()
            if not w.load_experiment(self.lesson.experiment):
                return
        self.panel.show_result("", "")
        self.panel.set_stage(locked=True, running=True)
        self.panel.show_status("Training…")
        w.set_speed(FULL_SPEED)
        w.controller.start()

    def reset(self) -> None:
        """Clear the lesson's answer and progress; its experiment back at step 0."""
        if self.lesson is None:
            return
        self.progress.clear(self.key(self.lesson))
        self.open(self.lesson)

    def follow(self, link: str) -> None:
        """``view:NAME``: switch to that tab (and sub-tab); ``run:N``: select run N."""
        w = self.window
        kind, _, value = link.partition(":")
        if kind == "view" and value in VIEW_TARGETS:
            view, sub = VIEW_TARGETS[value]
            w.tabs.setCurrentWidget(getattr(w, view).widget)
            if sub is not None:
                w.analysis.setCurrentWidget(getattr(w.analysis, sub))
        elif kind == "run" and value.isdigit():
            k = int(value) - 1
            if 0 <= k < len(w.experiment.learning_rates):
                w.controls.runs.list.setCurrentRow(k)

    # -- internals --------------------------------------------------------------------------
    def _parse(self, text: str, strict: bool = False):
        q = self.lesson.question
        if not text.strip():
            if strict:
                raise ConfigError("an answer: " + {PICK_RUN: "tick one run or more", NUMBER: "type a number",
                                                   FREE_TEXT: "write a sentence"}.get(q.kind, "pick one"))
            return None
        try:
            return q.parse_prediction(text, len(self.lesson.experiment.learning_rates))
        except ConfigError:
            if strict:
                raise
            return None

    def _show_course(self) -> None:
        items = []
        for k, lesson in enumerate(self.course, 1):
            stored = self.progress.get(self.key(lesson))
            mark = "  " if stored is None else HELD_TEXT.get(stored[1], "…")
            items.append(f"{mark} {k}. {lesson.title}")
        answered = [self.progress.get(self.key(les)) for les in self.course]
        done = [s for s in answered if s is not None and s[1]]
        held = sum(1 for s in done if s[1] == "yes")
        i = self.index(self.lesson)
        self.panel.set_course(items, i, "" if i >= 0 else f"(file) {self.lesson.title}")
        self.panel.progress_label.setText(f"Course: {len(done)} of {len(self.course)} answered, {held} held")

    def _judge_when_idle(self) -> None:
        w = self.window
        if not self.pending or self.lesson is None:
            return
        if not w.controller.idle:               # the worker owns the trainer until then
            QTimer.singleShot(POLL_MS, self._judge_when_idle)
            return
        if w.experiment != self.lesson.experiment or not w.controller.done:
            self.pending = False
            return
        self.panel.show_status("The run reached its budget: the lab is working out the answer…")
        self.runner.submit(judge, self.lesson, w.controller.trainer, self.locked if self.locked != () else None)

    # -- slots ------------------------------------------------------------------------------
    @Slot(str)
    def _on_controller_state_changed(self, state: str) -> None:
        from .worker import FINISHED, RUNNING
        if self.lesson is None or self.panel is None:
            return
        if state == FINISHED and self.locked is not None and self.window.experiment == self.lesson.experiment:
            self.pending = True
            self._judge_when_idle()
        elif state == FINISHED and self.locked is None and self.window.experiment == self.lesson.experiment:
            self.panel.show_status("The run finished before your answer was locked: Reset lesson (or lock an "
                                   "answer and Run) to predict first.")
        elif state != RUNNING and self.locked is not None:
            self.panel.set_stage(locked=True)

    @Slot(object)
    def _on_runner_finished(self, result) -> None:
        verdict, truth, explanation = result
        self.pending = False
        self.verdict, self.explanation = verdict, explanation
        lesson = self.lesson
        if verdict is None:
            line = f"The lab's answer: {format_value(truth)}" if lesson.question.kind != FREE_TEXT else ""
        elif verdict.held is None:
            line = f"Your prediction: “{html.escape(self.prediction_text)}”"
        else:
            line = ("✓ " if verdict.held else "✗ ") + html.escape(verdict.message[0].upper() + verdict.message[1:])
        if verdict is not None:
            held = "shown" if verdict.held is None else "yes" if verdict.held else "no"
            self.progress.set(self.key(lesson), self.prediction_text, held)
        self.panel.show_result(line, lesson_html(explanation, lesson.references))
        self.panel.set_stage(locked=True)
        self.panel.show_status("After the run:")
        self._show_course()
        QTimer.singleShot(0, self._on_timer_show_verdict)
        self.judged.emit()

    @Slot()
    def _on_timer_show_verdict(self) -> None:
        """Scroll the verdict into sight (once the panel has laid it out)."""
        if self.panel is not None:
            self.scroll.ensureWidgetVisible(self.panel.verdict, 0, 0)
            bar = self.scroll.verticalScrollBar()
            bar.setValue(min(bar.maximum(), self.panel.verdict.y() - 8))

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.pending = False
        self.panel.show_error(f"The lab could not work out the answer: {message}")
        self.panel.set_stage(locked=True)
        self.judged.emit()

    @Slot(int)
    def _on_panel_lesson_chosen(self, index: int) -> None:
        if 0 <= index < len(self.course) and index != self.index(self.lesson):
            self.open(self.course[index])

    @Slot()
    def _on_panel_previous_wanted(self) -> None:
        i = self.index(self.lesson)
        if i > 0:
            self.open(self.course[i - 1])

    @Slot()
    def _on_panel_next_wanted(self) -> None:
        i = self.index(self.lesson)
        if 0 <= i < len(self.course) - 1:
            self.open(self.course[i + 1])

    @Slot()
    def _on_panel_lock_wanted(self) -> None:
        self.lock()

    @Slot()
    def _on_panel_run_wanted(self) -> None:
        self.run()

    @Slot()
    def _on_panel_reset_wanted(self) -> None:
        self.reset()

    @Slot(str)
    def _on_panel_link_activated(self, link: str) -> None:
        self.follow(link)

    @Slot()
    def _on_answer_slider_rate_wanted(self) -> None:
        w = self.window
        rates = w.controls.runs.rates()
        if rates:
            self.panel.answer.set_text(exact(float(rates[w.controls.runs.selected()])))

    @Slot()
    def _on_window_plots_ready(self) -> None:
        self.window.plots_ready.disconnect(self._on_window_plots_ready)
        self.open(self._wanted)

    @Slot()
    def _on_lessons_action_triggered(self) -> None:
        if self.lesson is None:
            self.open(self.course[0])
        else:
            self.show_panel()

    @Slot()
    def _on_open_lesson_action_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open lesson", "", "LR Lab lessons (*.md);;All files (*)")
        if path:
            self.open_file(path)
