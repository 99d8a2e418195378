"""Why a learning rate diverges: the curvature, the stability forecast, the range test,
the loss landscape and the phase diagram, as views.

Every number comes from core (core.curvature, core.range_test, core.landscape,
core.phase, core.trajectory); these widgets take plain data, draw it and emit signals.
Anything that may take longer than a frame runs in a gui.jobs.JobRunner, off the GUI
thread, and a view shows "computing…" meanwhile.  Views compute lazily: a view that is
not on screen marks itself stale and computes when it is shown.

    AnalysisTabs                 the tab widget the main window embeds           (tabs.py)
      "Curvature"                SharpnessPlot (λ_max against step, 2/η dashed) + ForecastPanel
                                 (+ PredictedLossPlot for the model without a hidden layer)
                                                                                  (curvature.py)
      "Range test"               RangeTestView (RangeTestPlot; also used by ``lr-find --png``)
                                                                                  (range_test.py)
      "Landscape"                LandscapeView (LandscapePlot)                   (landscape.py)
      "Phase diagram"            PhaseDiagramView (PhasePlot)                    (phase.py)

common.py holds what they share: formatting, pens, labels, the themed plots and
``_JobView``, the base of the views a background job computes.
"""
from .common import PlainLogAxis, rounded, short
from .curvature import (CurvatureView, ForecastPanel, PredictedLossPlot, SharpnessPlot, forecast_job,
                        regime_text)
from .landscape import LandscapePlot, LandscapeView, landscape_job, trajectory_landscape_job
from .phase import PhaseDiagramView, PhasePlot, phase_rows_job, stack_phase
from .range_test import RangeTestPlot, RangeTestView, range_test_comparison, times
from .tabs import AnalysisTabs

__all__ = [
    "AnalysisTabs",
    "CurvatureView", "ForecastPanel", "PredictedLossPlot", "SharpnessPlot", "forecast_job", "regime_text",
    "RangeTestPlot", "RangeTestView", "range_test_comparison", "times",
    "LandscapePlot", "LandscapeView", "landscape_job", "trajectory_landscape_job",
    "PhaseDiagramView", "PhasePlot", "phase_rows_job", "stack_phase",
    "PlainLogAxis", "rounded", "short",
]
