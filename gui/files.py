"""The window's file commands: open and save an experiment, export the loss curves (PNG,
CSV) and the fit (PNG); with their dialogs.  Files are written by core.report and
gui.render (atomically); a failure (ConfigError: an unwritable path, a bad file) becomes
the window's visible message, never an exception."""
from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog, QInputDialog

from core.errors import ConfigError
from core.experiment import Experiment
from core.report import write_atomic, write_csv

from .views import Snapshot

DEFAULT_EXPORT_WIDTH = 1600


class FileCommands(QObject):
    """``window``: the MainWindow (its controller, its overlay view, ``load_experiment``,
    ``show_error`` and status bar)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window

    # -- the commands (tests call them with a path) ---------------------------------------------
    def export_loss_png(self, path, width: int | None = None) -> bool:
        w = self.window
        if w.controller.progress is not None:
            w.overlay_view.show_loss(Snapshot.of(w.controller))
        return self._export_png(w.loss_plot, path, width, "Export loss curves PNG")

    def export_fit_png(self, path, width: int | None = None) -> bool:
        w = self.window
        if w.controller.progress is not None:
            w.overlay_view.show_fits(Snapshot.of(w.controller))
        return self._export_png(w.fit_plot, path, width, "Export fit PNG")

    def _export_png(self, view, path, width, flag: str) -> bool:
        from .render import export_png
        return self._guard(path, export_png, view, path, width, flag=flag)

    def export_csv(self, path) -> bool:
        c = self.window.controller
        return self._guard(path, write_csv, path, c.learning_rates, c.losses(), flag="Export loss curves CSV")

    def save_experiment(self, path) -> bool:
        exp = self.window.controller.experiment
        return self._guard(path, write_atomic, path, lambda fh: fh.write(exp.to_json()), "Save experiment")

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

    def _width(self, title: str) -> int | None:
        width, ok = QInputDialog.getInt(self.window, title, "Width of the image in pixels:", DEFAULT_EXPORT_WIDTH,
                                        200, 20000, 100)
        return width if ok else None

    def _ask_png(self, title: str, name: str, export) -> None:
        """Ask for a PNG path and its width, then ``export(path, width)``."""
        path = self._save_path(title, name, "PNG images (*.png)")
        width = self._width(title) if path else None
        if path and width:
            export(path, width)

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
    def _on_export_png_action_triggered(self) -> None:
        self._ask_png("Export loss curves PNG", "loss-curves.png", self.export_loss_png)

    @Slot()
    def _on_export_fit_action_triggered(self) -> None:
        self._ask_png("Export fit PNG", "fit.png", self.export_fit_png)

    @Slot()
    def _on_export_csv_action_triggered(self) -> None:
        path = self._save_path("Export loss curves CSV", "losses.csv", "CSV files (*.csv)")
        if path:
            self.export_csv(path)
