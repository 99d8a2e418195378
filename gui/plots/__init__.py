"""The plot widgets: loss curves, fitted functions, small multiples, parameter panel.

Plot items are created once per set of runs (``set_runs``) and updated with new data;
nothing is recreated per frame.  The auto-range of the loss plot follows the healthy
runs only, so one exploding run cannot flatten the others.

Drawing is kept to what a screen can show, so that repainting ~30 times a second
leaves the training thread (which shares the GIL with the painting) most of the time:

* A loss curve is decimated to the pixel columns of the view ("M4": in each column the
  first, lowest, highest and last value), so a zigzag's envelope stays visible at any
  zoom while at most a few points per column are drawn (``decimate``).
* Every run's loss curve is drawn into one cached image (``CurveLayer``).  While the
  view stays the same, a frame draws only the steps that arrived since the last one;
  the axes grow in coarse steps (``nice_ceil``, ``quantize_bounds``), so the image is
  redrawn from scratch only now and then.
* Every run's fit, and at slow speed the faded trail of its last few fits, is one item
  (``FitCurves``): one paint call whatever the number of runs.
* What does not change while training is kept as a pixmap (axes with their grid, label
  texts, the data points), legend entries are skipped when a repaint does not touch the
  legend, markers are plain Qt items: a repaint of new points calls little Python.
* Lines are drawn non-antialiased as segments (``draw_segments``): Qt strokes a wide,
  antialiased zigzag polyline ~100 times slower.

Modules: ``ranges`` (axis ranges and decimation, pure numpy), ``layer`` (fast line
drawing), ``items`` (shared pyqtgraph pieces), ``loss`` (LossPlot), ``fit`` (FitPlot),
``multiples`` (SmallMultiples), ``params`` (ParamPanel).
"""
from .ranges import (LossSeries, decimate, fit_bounds, format_number, healthy_runs, log10_positive, loss_bounds,
                     nice_ceil, off_chart, quantize_bounds, segments)
from .layer import CurveLayer, draw_segments
from .items import (BoundedViewBox, LegendStrip, LogAxis, PixelLabel, ThemedPlot, cache_axes,
                    cross_marker, set_view_bounds)
from .loss import LossPlot
from .fit import FitCurves, FitPlot, trail_alpha
from .multiples import SmallMultiples
from .params import CHAIN_RULE, ParamPanel

__all__ = [
    "LossSeries", "decimate", "fit_bounds", "format_number", "healthy_runs", "log10_positive", "loss_bounds",
    "nice_ceil", "off_chart", "quantize_bounds", "segments",
    "CurveLayer", "draw_segments",
    "BoundedViewBox", "LegendStrip", "LogAxis", "PixelLabel", "ThemedPlot", "cache_axes", "cross_marker",
    "set_view_bounds",
    "LossPlot",
    "FitCurves", "FitPlot", "trail_alpha",
    "SmallMultiples",
    "CHAIN_RULE", "ParamPanel",
]
