"""The window's actions (menus, toolbar, keys), as a table: ``build_actions(window)`` makes
each one, named ``<name>_action`` on the window and connected to the handler the table
names; its key comes from gui.help.SHORTCUTS (the same table the help lists)."""
from __future__ import annotations

from typing import NamedTuple

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QStyle

from .help import shortcut


class ActionSpec(NamedTuple):
    name: str                 # window.<name>_action; its key: SHORTCUTS[name], if listed
    text: str
    handler: str              # a method of the window, or "<part>.<method>" of one of its parts (files, font_scale, lessons)
    tip: str
    checkable: bool = False
    icon: object = None       # a QStyle standard pixmap


ACTIONS = (
    ActionSpec("start", "Start", "_on_start_action_triggered", "Start or pause training (Space).",
               icon=QStyle.SP_MediaPlay),
    ActionSpec("step", "Step", "_on_step_action_triggered", "Take exactly one gradient-descent step (Right arrow).",
               icon=QStyle.SP_MediaSkipForward),
    ActionSpec("reset", "Reset", "_on_reset_action_triggered", "Go back to step 0 of this experiment, paused (R).",
               icon=QStyle.SP_BrowserReload),
    ActionSpec("open", "Open experiment…", "files._on_open_action_triggered",
               "Open an experiment saved as JSON (the command line's --config format)."),
    ActionSpec("open_lesson", "Open lesson…", "lessons._on_open_lesson_action_triggered",
               "Open a lesson file (Markdown, the lrlab-lesson format): predict, run, explain."),
    ActionSpec("save", "Save experiment…", "files._on_save_action_triggered",
               "Save this experiment as JSON (the command line's --config format)."),
    ActionSpec("torch", "Save as PyTorch script…", "files._on_torch_action_triggered",
               "Save a standalone PyTorch script (torch and numpy only) that trains the same runs — data, "
               "initial parameters, optimizers and schedules — and writes LR Lab's CSV "
               "(`main.py export-torch`)."),
    ActionSpec("export_png", "Export loss curves figure…", "files._on_export_png_action_triggered",
               "Save the loss plot, legend included, as a PNG, SVG or PDF figure of the size you choose."),
    ActionSpec("export_csv", "Export loss curves CSV…", "files._on_export_csv_action_triggered",
               "Save every run's loss after every step as CSV, like `main.py train --csv`."),
    ActionSpec("export_fit", "Export fit figure…", "files._on_export_fit_action_triggered",
               "Save the fitted-function plot as a PNG, SVG or PDF figure of the size you choose."),
    ActionSpec("quit", "Quit", "close", "Close LR Lab."),
    ActionSpec("dark", "Dark theme", "_on_dark_action_toggled",
               "Switch between the light (projector) and the dark theme.", checkable=True),
    ActionSpec("log_y", "Log loss axis", "_on_log_y_action_toggled",
               "Show the loss on a logarithmic (checked) or linear axis.", checkable=True),
    ActionSpec("log_x", "Log step axis", "_on_log_x_action_toggled",
               "Show the steps on a logarithmic (checked) or linear axis.", checkable=True),
    ActionSpec("larger_text", "Larger text", "font_scale._on_larger_text_action_triggered",
               "Scale every font of the window up, plot axes and legends included (for a projector); remembered."),
    ActionSpec("smaller_text", "Smaller text", "font_scale._on_smaller_text_action_triggered",
               "Scale every font of the window down."),
    ActionSpec("normal_text", "Normal text size", "font_scale._on_normal_text_action_triggered",
               "Every font at its normal size."),
    ActionSpec("lessons", "Lessons", "lessons._on_lessons_action_triggered",
               "The course: predict what a run will do, lock your answer, run it, and see why."),
    ActionSpec("shortcuts", "Keyboard shortcuts", "_on_shortcuts_action_triggered", "List the keyboard shortcuts."),
    ActionSpec("views", "How to read the views", "_on_views_action_triggered",
               "What each view shows, and what slow, oscillating and diverging runs look like."),
)

# The menus, by action name (None: a separator).
MENUS = (("&File", ("open", "open_lesson", "save", "torch", None, "export_png", "export_csv", "export_fit", None,
                    "quit")),
         ("&Run", ("start", "step", "reset")),
         ("&View", ("dark", None, "log_y", "log_x", None, "larger_text", "smaller_text", "normal_text", None)),
         ("&Help", ("lessons", None, "shortcuts", "views")))
TOOLBAR = ("start", "step", "reset")
NEEDS_PLOTS = ("open", "open_lesson", "lessons", "save", "torch", "export_png", "export_csv", "export_fit", "dark",
               "log_y", "log_x")


def build_actions(window) -> None:
    """window.<name>_action for every ACTIONS row, added to the window (keys work with the menus closed)."""
    for spec in ACTIONS:
        a = QAction(spec.text, window)
        key = shortcut(spec.name)
        if key is not None:
            a.setShortcut(key)
        a.setToolTip(spec.tip)
        a.setStatusTip(spec.tip)
        if spec.icon is not None:
            a.setIcon(window.style().standardIcon(spec.icon))
        a.setCheckable(spec.checkable)
        owner, _, method = spec.handler.rpartition(".")
        slot = getattr(getattr(window, owner) if owner else window, method)
        (a.toggled if spec.checkable else a.triggered).connect(slot)
        window.addAction(a)
        setattr(window, f"{spec.name}_action", a)


def action(window, name: str) -> QAction:
    return getattr(window, f"{name}_action")
