"""The projector mode: View ▸ Larger text / Smaller text / Normal text size (Ctrl+= / Ctrl+− /
Ctrl+0) scale every font of the window — controls, tables, plot axes, titles, legends and
labels — through one factor, gui.style's font scale, remembered across launches.

At launch the factor is set before anything is built, so every size made through
``style.font`` / ``style.pt`` comes out scaled.  A change later scales what exists by the
ratio of the new factor to the old: the widgets with a font of their own (their children
follow), and every text item of every plot scene (``scale_scene_fonts``).
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QWidget

from . import style

BASE_PT = 11          # the window's text, before scaling (make_app's least size)
SETTING = "font_scale"


def nearest_step(scale: float) -> int:
    """The index of the FONT_SCALES step nearest to ``scale``."""
    return min(range(len(style.FONT_SCALES)), key=lambda i: abs(style.FONT_SCALES[i] - scale))


def _scaled_font(font, ratio: float):
    font.setPointSizeF(font.pointSizeF() * ratio)
    return font


def scale_widget_fonts(root: QWidget, ratio: float) -> None:
    """``root`` and every widget under it that has a font of its own: point sizes × ``ratio``."""
    for w in [root] + root.findChildren(QWidget):
        if w is root or w.testAttribute(Qt.WidgetAttribute.WA_SetFont):
            w.setFont(_scaled_font(w.font(), ratio))


def _scaled_pt(size, ratio: float):
    """A CSS size like "13pt" × ``ratio`` (another form is kept)."""
    if isinstance(size, str) and size.endswith("pt"):
        return f"{float(size[:-2]) * ratio:g}pt"
    return size


def scale_scene_fonts(scene, ratio: float) -> None:
    """Every text of a pyqtgraph scene × ``ratio``: axis ticks and labels (and a fixed axis
    width), titles and legend entries (LabelItems), boxed labels (TextItem, PixelLabel)."""
    import pyqtgraph as pg
    from .plots.items import LegendStrip, PixelLabel
    legends = []
    for item in scene.items():
        if isinstance(item, pg.AxisItem):
            tick = item.style.get("tickFont")
            if tick is not None:
                item.setStyle(tickFont=_scaled_font(type(tick)(tick), ratio))
            label_style = dict(item.labelStyle)
            if "font-size" in label_style:
                label_style["font-size"] = _scaled_pt(label_style["font-size"], ratio)
                if item.labelText:
                    item.setLabel(item.labelText, units=item.labelUnits or None, **label_style)
                else:
                    item.labelStyle = label_style
            if item.fixedWidth is not None:
                item.setWidth(round(item.fixedWidth * ratio))
        elif isinstance(item, pg.LabelItem):
            if "size" in item.opts and item.text:
                item.setText(item.text, size=_scaled_pt(item.opts["size"], ratio))
            elif "size" in item.opts:
                item.opts["size"] = _scaled_pt(item.opts["size"], ratio)
        elif isinstance(item, pg.TextItem):
            item.setFont(_scaled_font(item.textItem.font(), ratio))
        elif isinstance(item, PixelLabel):
            item.set_font(_scaled_font(item.text_item.font(), ratio))
        elif isinstance(item, pg.LegendItem):
            item.opts["labelTextSize"] = _scaled_pt(item.opts.get("labelTextSize"), ratio)
            legends.append(item)
    for legend in legends:                       # (after their labels changed size)
        legend.updateSize()
        if isinstance(legend, LegendStrip):
            legend.fit_columns()


class FontScale(QObject):
    """The window's text size: ``step(+1)`` larger, ``step(-1)`` smaller, ``reset()``; ``scale``.
    ``settings`` (a QSettings, or None: neither read nor written) remembers it; ``changed``
    fires after a change (for what sizes itself to its text once, as the status bar)."""

    changed = Signal(float)

    def __init__(self, window, settings=None):
        super().__init__(window)
        self.window, self.settings = window, settings
        scale = 1.0
        if settings is not None:
            scale = style.FONT_SCALES[nearest_step(settings.value(SETTING, 1.0, type=float))]
        style.set_font_scale(scale)               # before the window builds anything
        font = window.font()
        font.setPointSizeF(style.pt(max(font.pointSizeF(), BASE_PT)))
        window.setFont(font)

    @property
    def scale(self) -> float:
        return style.font_scale()

    def step(self, direction: int) -> None:
        i = nearest_step(self.scale) + (1 if direction > 0 else -1)
        self.set(style.FONT_SCALES[max(0, min(len(style.FONT_SCALES) - 1, i))])

    def reset(self) -> None:
        self.set(1.0)

    @Slot()
    def _on_larger_text_action_triggered(self) -> None:
        self.step(+1)

    @Slot()
    def _on_smaller_text_action_triggered(self) -> None:
        self.step(-1)

    @Slot()
    def _on_normal_text_action_triggered(self) -> None:
        self.reset()

    def set(self, scale: float) -> None:
        old = self.scale
        if scale == old:
            return
        ratio = scale / old
        style.set_font_scale(scale)
        scale_widget_fonts(self.window, ratio)
        import sys
        if "pyqtgraph" in sys.modules:            # (no plots before pyqtgraph is loaded: see defer_plots)
            import pyqtgraph as pg
            for view in self.window.findChildren(pg.GraphicsView):
                scale_scene_fonts(view.scene(), ratio)
        if self.settings is not None:
            self.settings.setValue(SETTING, scale)
        self.changed.emit(scale)
