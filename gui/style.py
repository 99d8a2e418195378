"""Colours, fonts and themes shared by every view: one colour per run everywhere.

Light plot background by default (projectors and prints); ``set_theme(True)`` /
``apply_theme(widget, True)`` switch to dark.  Fonts are sized for a projector.

pyqtgraph is imported only by the functions that style plots: the window's controls
use this module too, and can then be shown before pyqtgraph (~0.4 s) is loaded.
"""
from __future__ import annotations

from typing import NamedTuple

from PySide6 import QtGui          # PySide6 before pyqtgraph: pyqtgraph binds to it

from core import curvature as cv, outcomes as oc

# Okabe & Ito (2008), colour-blind safe; black is left out so every colour reads on
# both a white and a dark background, and the weakest on white (yellow) comes last.
RUN_COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00",
              "#CC79A7", "#56B4E9", "#999999", "#F0E442")

LIGHT = {"background": "#FFFFFF", "foreground": "#202020", "grid": 60, "panel": (255, 255, 255, 215)}
DARK = {"background": "#1E1E1E", "foreground": "#E6E6E6", "grid": 80, "panel": (30, 30, 30, 215)}

CLIFF_COLOR = "#C0392B"                # η* = 2/λ_max, where the steepest direction starts to grow
ETA_ONE_COLOR = "#7F7F7F"              # the η = 1 mark: no rate above it converges (reads on both themes)
UNKNOWN_COLOR = "#808080"              # an outcome or regime with no colour of its own
ERROR_STYLE = f"color: {CLIFF_COLOR};"   # a rejected value's message
FIELD_ERROR_STYLE = f"QLineEdit {{ border: 2px solid {CLIFF_COLOR}; }}"   # the field holding it

TICK_PT = 12           # axis tick labels
LABEL_PT = 13          # axis titles and legend
TITLE_PT = 14          # plot titles
SMALL_TICK_PT = 10     # small-multiples panels


class OutcomeStyle(NamedTuple):
    text: str       # the word shown next to the run's colour
    symbol: str     # a glyph that reads without colour
    color: str      # a hint colour for the word


OUTCOME_STYLE = {
    oc.CONVERGING: OutcomeStyle("converging", "✓", "#009E73"),
    oc.SLOW: OutcomeStyle("slow", "…", "#B07A00"),
    oc.OSCILLATING: OutcomeStyle("oscillating", "∿", "#CC79A7"),
    oc.DIVERGED: OutcomeStyle("diverged", "✗", "#D55E00"),
    oc.NOT_STARTED: OutcomeStyle("not started", "·", UNKNOWN_COLOR),
}

# The curvature forecast's regimes (core.curvature), in the colours of the outcomes they foretell.
REGIME_STYLE = {
    cv.MONOTONE: OutcomeStyle("monotone", "↘", OUTCOME_STYLE[oc.CONVERGING].color),
    cv.OSCILLATING: OutcomeStyle("oscillating", "∿", OUTCOME_STYLE[oc.OSCILLATING].color),
    cv.UNSTABLE: OutcomeStyle("unstable", "↗", OUTCOME_STYLE[oc.DIVERGED].color),
}


def outcome_style(outcome: str) -> OutcomeStyle:
    return OUTCOME_STYLE.get(outcome, OutcomeStyle(str(outcome), "?", UNKNOWN_COLOR))


def outcome_text(outcome: str) -> str:
    """'∿ oscillating' — symbol and word, for labels next to a run's colour."""
    s = outcome_style(outcome)
    return f"{s.symbol} {s.text}"


def run_color(i: int) -> str:
    return RUN_COLORS[int(i) % len(RUN_COLORS)]


def run_colors(n: int) -> list[str]:
    """The colours of runs 0 … n−1, the same in every view."""
    return [run_color(k) for k in range(n)]


def palette(dark: bool) -> dict:
    return DARK if dark else LIGHT


def dark_palette() -> QtGui.QPalette:
    """The Qt palette of the dark theme (the widgets around the plots)."""
    P, C = QtGui.QPalette, QtGui.QColor
    p = P()
    base, window, text = C(DARK["background"]), C("#2B2B2B"), C(DARK["foreground"])
    for role, color in ((P.Window, window), (P.WindowText, text), (P.Base, base), (P.AlternateBase, window),
                        (P.Text, text), (P.Button, window), (P.ButtonText, text), (P.ToolTipBase, window),
                        (P.ToolTipText, text), (P.Highlight, C("#3A6EA5")), (P.HighlightedText, C("#FFFFFF")),
                        (P.PlaceholderText, C("#909090"))):
        p.setColor(role, color)
    for role in (P.Text, P.WindowText, P.ButtonText):
        p.setColor(P.Disabled, role, C("#808080"))
    return p


# The projector mode's font scale (View ▸ Larger / Smaller text): every size in points made
# from here on is multiplied by it; gui.projector applies a change to what exists.
FONT_SCALES = (0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0)
_font_scale = {"value": 1.0}


def font_scale() -> float:
    return _font_scale["value"]


def set_font_scale(scale: float) -> None:
    _font_scale["value"] = float(scale)


def pt(points: float) -> float:
    """A size in points, scaled for the projector mode."""
    return points * _font_scale["value"]


def font(points: int, bold: bool = False) -> QtGui.QFont:
    f = QtGui.QFont()
    f.setPointSizeF(pt(points))
    f.setBold(bold)
    return f


def set_theme(dark: bool) -> None:
    """Global pyqtgraph colours for plots created from now on.  Antialiasing stays off (as
    pyqtgraph's default): a wide antialiased zigzag costs Qt ~100× more to draw; exports
    are antialiased by the exporter."""
    import pyqtgraph as pg
    p = palette(dark)
    pg.setConfigOptions(background=p["background"], foreground=p["foreground"], antialias=False)


def _plot_items(widget):
    import pyqtgraph as pg
    if isinstance(widget, pg.PlotItem):
        return [widget]
    if hasattr(widget, "plotItem"):
        return [widget.plotItem]
    if hasattr(widget, "ci"):                      # a GraphicsLayoutWidget
        return [i for i in widget.ci.items if isinstance(i, pg.PlotItem)]
    return []


def style_axes(plot, dark: bool, tick_pt: int | None = None, label_pt: int | None = None) -> None:
    """Pens and label colours of a PlotItem's axes and title (fonts too, if sizes are given); no SI prefixes."""
    fg = palette(dark)["foreground"]
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        no_si_prefix(ax)
        ax.setPen(fg)
        ax.setTextPen(fg)
        if tick_pt:
            ax.setStyle(tickFont=font(tick_pt))
        style = {**ax.labelStyle, "color": fg}
        if label_pt:
            style["font-size"] = f"{pt(label_pt):g}pt"
        if ax.labelText:
            ax.setLabel(ax.labelText, units=ax.labelUnits or None, **style)
        else:
            ax.labelStyle = style
    title = plot.titleLabel
    if title.text:
        title.setText(title.text, color=fg, size=title.opts.get("size", f"{pt(TITLE_PT):g}pt"))
    plot.showGrid(x=True, y=True, alpha=palette(dark)["grid"] / 255)


def set_title(plot, text: str, dark: bool, points: int = TITLE_PT, color: str | None = None) -> None:
    plot.setTitle(text, color=color or palette(dark)["foreground"], size=f"{pt(points):g}pt")


def style_legend(legend, dark: bool, points: int | None = LABEL_PT) -> None:
    """Colours (and size, unless ``points`` is None: kept as it is) of a legend's box and labels."""
    import pyqtgraph as pg
    p = palette(dark)
    legend.setBrush(pg.mkBrush(p["panel"]))
    legend.setPen(pg.mkPen(p["foreground"], width=0.5))
    legend.setLabelTextColor(p["foreground"])
    size = legend.opts.get("labelTextSize") if points is None else f"{pt(points):g}pt"
    legend.setLabelTextSize(size)
    for _, label in legend.items:
        label.setText(label.text, color=p["foreground"], size=size)


def apply_theme(widget, dark: bool) -> None:
    """Re-colour an existing PlotWidget / GraphicsLayoutWidget / PlotItem."""
    if hasattr(widget, "setBackground"):
        widget.setBackground(palette(dark)["background"])
    for plot in _plot_items(widget):
        style_axes(plot, dark)
        if plot.legend is not None:
            style_legend(plot.legend, dark, None)


def no_si_prefix(*axes) -> None:
    """Plain numbers on these axes.  pyqtgraph 0.14's enableAutoSIPrefix(False) still computes a
    scale from the current range (an axis spanning 0 … 0.7 then reads 0 … 700): undo it."""
    for ax in axes:
        ax.autoSIPrefix = False
        if ax.autoSIPrefixScale != 1.0 or ax.labelUnitPrefix:
            ax.autoSIPrefixScale, ax.labelUnitPrefix = 1.0, ""
            ax._updateLabel()
            ax.picture = None
            ax.update()
