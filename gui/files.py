"""The window's file commands: open and save an experiment, export the loss curves (a PNG,
SVG or PDF figure; CSV) and the fit (a figure); with their dialogs (the figure's size: width
and height in pixels, its format: by the file's extension).  Files are written by core.report and
gui.render (atomically); a failure (ConfigError: an unwritable path, a bad file) becomes
the window's visible message, never an exception."""
from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QSpinBox

from core.errors import ConfigError
from core.experiment import Experiment
from core.report import write_atomic, write_csv

from .figure import DEFAULT_SIZE, FORMATS, MAX_SIZE, MIN_SIZE, figure_format
from .views import Snapshot

FIGURE_FILTERS = ";;".join(f"{name} {'image' if name == 'PNG' else 'vector figure'} (*{ext})"
                           for ext, name in FORMATS.items())


class FigureSizeDialog(QDialog):
    """Width and height of an exported figure, in pixels (text scales with them: gui.figure)."""

    def __init__(self, parent, title: str, size=DEFAULT_SIZE):
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout(self)
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box, value, label in ((self.width_box, size[0], "Width (pixels):"),
                                  (self.height_box, size[1], "Height (pixels):")):
            box.setRange(MIN_SIZE, MAX_SIZE)
            box.setSingleStep(100)
            box.setValue(value)
            form.addRow(label, box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def size_value(self) -> tuple[int, int]:
        return self.width_box.value(), self.height_box.value()

    @classmethod
    def ask(cls, parent, title: str, size=DEFAULT_SIZE):
        """(width, height), or None if cancelled."""
        dialog = cls(parent, title, size)
        try:
            return dialog.size_value() if dialog.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dialog.deleteLater()


class FileCommands(QObject):
    """``window``: the MainWindow (its controller, its overlay view, ``load_experiment``,
    ``show_error`` and status bar)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window

    # -- the commands (tests call them with a path) ---------------------------------------------
    def export_loss_png(self, path, width: int | None = None) -> bool:
        """The loss curves as a PNG ``width`` pixels wide (8:5)."""
        return self._export_png(self.export_loss_figure, path, width)

    def export_fit_png(self, path, width: int | None = None) -> bool:
        """The fit as a PNG ``width`` pixels wide (8:5)."""
        return self._export_png(self.export_fit_figure, path, width)

    def export_loss_figure(self, path, size=DEFAULT_SIZE) -> bool:
        """The loss curves as a ``size`` = (width, height) figure: PNG, SVG or PDF by the extension."""
        w = self.window
        if w.controller.progress is not None:
            w.overlay_view.show_loss(Snapshot.of(w.controller))
        return self._export_figure(w.loss_plot, path, size, "Export loss curves")

    def export_fit_figure(self, path, size=DEFAULT_SIZE) -> bool:
        """The fit as a ``size`` = (width, height) figure: PNG, SVG or PDF by the extension."""
        w = self.window
        if w.controller.progress is not None:
            w.overlay_view.show_fits(Snapshot.of(w.controller))
        return self._export_figure(w.fit_plot, path, size, "Export fit")

    @staticmethod
    def _export_png(export, path, width) -> bool:
        from .figure import LOGICAL
        width = DEFAULT_SIZE[0] if width is None else width
        return export(path, (width, max(MIN_SIZE, round(width * LOGICAL[1] / LOGICAL[0]))))

    def _export_figure(self, view, path, size, flag: str) -> bool:
        from .render import export_figure
        return self._guard(path, export_figure, view, path, size, flag=flag)

    def export_csv(self, path) -> bool:
        c = self.window.controller
        return self._guard(path, write_csv, path, c.learning_rates, c.losses(), flag="Export loss curves CSV")

    def save_experiment(self, path) -> bool:
        exp = self.window.controller.experiment
        return self._guard(path, write_atomic, path, lambda fh: fh.write(exp.file_text(path)), "Save experiment")

    def save_torch_script(self, path) -> bool:
        """The experiment as a standalone PyTorch script (core.export_torch: `main.py export-torch`)."""
        from core.export_torch import torch_script
        exp = self.window.controller.experiment
        return self._guard(path, lambda: write_atomic(path, lambda fh: fh.write(torch_script(exp)),
                                                      "Save as PyTorch script"))

    def open_experiment(self, path) -> bool:
        w = self.window
        try:
            exp = Experiment.load(path)
        except ConfigError as e:
            w.show_error("The experiment could not be opened", str(e))
            return False
        ok = w.load_experiment(exp)
        if ok:
            w.statusBar().showMessage(f"Opened {path}", 5000)
        return ok

    def _guard(self, path, fn, *args, **kwargs) -> bool:
        """Write a file with ``fn``; a ConfigError (unwritable path...) becomes a message."""
        try:
            fn(*args, **kwargs)
        except ConfigError as e:
            self.window.show_error("The file could not be written", str(e))
            return False
        self.window.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    # -- the menu actions: a dialog, then the command ------------------------------------------------
    def _save_path(self, title: str, name: str, filters: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self.window, title, name, filters)
        return path

    def _ask_figure(self, title: str, name: str, export) -> None:
        """Ask for a figure's path (its format by the filter chosen, or the extension typed) and its
        size, then ``export(path, (width, height))``."""
        path, chosen = QFileDialog.getSaveFileName(self.window, title, name, FIGURE_FILTERS)
        if not path:
            return
        try:
            figure_format(path, title)
        except ConfigError:                # no extension, or another one: the filter's
            ext = next((e for e, n in FORMATS.items() if chosen.startswith(n)), ".png")
            path += ext
        size = FigureSizeDialog.ask(self.window, title)
        if size is not None:
            export(path, size)

    @Slot()
    def _on_open_action_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open experiment", "", "LR Lab experiments (*.json);;"
                                              "All files (*)")
        if path:
            self.open_experiment(path)

    @Slot()
    def _on_save_action_triggered(self) -> None:
        path = self._save_path("Save experiment", "experiment.json", "LR Lab experiments (*.json)")
        if path:
            self.save_experiment(path)

    @Slot()
    def _on_torch_action_triggered(self) -> None:
        path = self._save_path("Save as PyTorch script", "lrlab_experiment.py", "Python scripts (*.py)")
        if path:
            self.save_torch_script(path)

    @Slot()
    def _on_export_png_action_triggered(self) -> None:
        self._ask_figure("Export loss curves", "loss-curves.png", self.export_loss_figure)

    @Slot()
    def _on_export_fit_action_triggered(self) -> None:
        self._ask_figure("Export fit", "fit.png", self.export_fit_figure)

    @Slot()
    def _on_export_csv_action_triggered(self) -> None:
        path = self._save_path("Export loss curves CSV", "losses.csv", "CSV files (*.csv)")
        if path:
            self.export_csv(path)
