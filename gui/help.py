"""The Help menu's texts: keyboard shortcuts, how to read each view, what a change does."""
from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

# The keyboard shortcuts, once: the window's actions take their keys from here, and the help
# lists them (in this order).  A key is a QKeySequence string or a standard key (the
# platform's own, e.g. Ctrl+O / ⌘O).
SHORTCUTS = (
    ("start", "Space", "Start or pause training"),
    ("step", "Right", "Take exactly one gradient-descent step (pauses first)"),
    ("reset", "R", "Reset to step 0 (paused)"),
    ("open", QKeySequence.StandardKey.Open, "Open an experiment (JSON)"),
    ("save", QKeySequence.StandardKey.Save, "Save the experiment (JSON)"),
    ("export_png", "Ctrl+E", "Export the loss curves as a figure (PNG, SVG, PDF)"),
    ("export_csv", "Ctrl+Shift+E", "Export the loss curves as CSV"),
    ("dark", "Ctrl+D", "Dark theme on or off"),
    ("log_y", "Ctrl+L", "Loss axis: log or linear"),
    ("larger_text", "Ctrl+=", "Larger text: every font of the window, plots included (projector mode)"),
    ("smaller_text", "Ctrl+-", "Smaller text"),
    ("normal_text", "Ctrl+0", "Normal text size"),
    ("views", QKeySequence.StandardKey.HelpContents, "How to read the views"),
    ("quit", "Ctrl+Q", "Quit"),            # (the standard Quit key is empty on some platforms)
)
KEY_NAMES = {"Right": "→ (Right arrow)"}       # how the help names a key, where its own name is not enough


def shortcut(action: str) -> QKeySequence | None:
    """The key of the action named ``action`` in SHORTCUTS, or None."""
    for name, key, _ in SHORTCUTS:
        if name == action:
            return QKeySequence(key)
    return None


def key_text(key) -> str:
    text = QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)
    return KEY_NAMES.get(text, text)

VIEWS = (
    ("Loss curves (Overlay, left)",
     "The loss after every step, one curve per learning rate in its colour, on a log axis. "
     "<b>Converging</b>: the curve falls and levels off low. <b>Slow</b>: it falls gently and stays far "
     "above the best run — the rate is too small. <b>Oscillating</b>: a thick zigzag band or a staircase — "
     "the loss goes up and down from one step to the next (every step is kept, so the band's envelope "
     "shows at any zoom). <b>Diverged</b>: the curve climbs above where it started, or shoots up and "
     "stops with ✗ and “diverged at step k”. A curve that ends with “loss = 0 from step k ↓” fitted "
     "its data exactly: 0 lies below any log axis. Hover to read a step's loss."),
    ("Fitted function (Overlay, right)",
     "The data points and each run's current function in its colour; the faded lines are its last few "
     "fits. <b>Converging</b>: the curve settles onto the points. <b>Slow</b>: it creeps towards them. "
     "<b>Oscillating</b>: at a slow speed the fit flips from one side of the data to the other and the "
     "faded trail shows both sides. <b>Diverged</b>: the curve leaves the data; a dashed curve is a run "
     "that blew up, frozen at its last sane parameters."),
    ("Side by side",
     "One panel per learning rate, its loss on the left and its fit on the right, so four or more runs "
     "can be compared without hiding each other. Healthy runs share one loss scale; the title says the "
     "run's outcome. Read each panel as the two views above."),
    ("Parameters",
     "For the run selected in the list: each parameter's value θ, its gradient ∂L/∂θ, its last update "
     "Δθ and the update-to-weight ratio |Δθ|/|θ|. Tiny ratios (below about 1e-5) mean slow learning; "
     "ratios near 1 or above mean the steps overshoot — oscillation or divergence. On the tutorial's "
     "single point the chain-rule table shows the forward pass, every derivative and the update of the "
     "current step, the numbers <code>python main.py explain</code> prints."),
    ("Curvature: sharpness and the stability forecast",
     "On a quadratic loss, gradient descent multiplies the error along each direction of the Hessian by "
     "(1 − η·λ) every step. So the largest eigenvalue λ_max, the <b>sharpness</b>, sets the cliff: "
     "<b>η* = 2/λ_max</b>. The table forecasts each run from η·λ_max at the initial parameters: "
     "<b>monotone</b> (&lt; 1), <b>oscillating</b> (1 to 2: the steepest direction flips sign every step but "
     "shrinks) or <b>unstable</b> (&gt; 2: it grows), with the live outcome beside it. For the network this "
     "is a forecast from the start point — its curvature changes as it trains; for the linear model it is "
     "exact, and the dashed predicted loss lies on the measured one. No rate above 1 can converge: the "
     "output bias alone has ∂²L/∂b² = 2. The plot shows each run's λ_max against step (solid) and its "
     "limit 2/η (dashed, same colour): with a fixed rate λ_max often rises until it hovers at 2/η while "
     "the loss keeps falling, unevenly — the <b>edge of stability</b>."),
    ("η* on the learning-rate slider",
     "Under the slider, a red triangle marks η* = 2/λ_max at the initial parameters and a red band covers "
     "the rates above it: the cliff, visible before you press Start. The grey mark is η = 1. A tick marks "
     "each decade."),
    ("Dead units",
     "For ReLU networks each run's row says how many hidden units are dead: they output 0 on every sample, "
     "so their gradient is 0 and they never learn again. A large rate kills units in its first steps."),
    ("Range test",
     "From the initial parameters the rate rises exponentially, one step each (Smith 2017; fastai's "
     "lr_find); the faint curve is the loss, the bold one its smoothed value. The usual suggestions — "
     "steepest descent, minimum/10 and valley — are marked, η* is the red dashed line on the same axis, "
     "and a sentence says where the two disagree: the test often bottoms out several times above η*, "
     "because a rate it passes through has only a few steps to blow up. A button adds a suggestion as a "
     "run."),
    ("Landscape",
     "The loss over a plane through parameter space (colour: log of the loss, white curves: equal loss) "
     "with the chosen run's path on it, one dot per step, from the square (start) to the star (end). For "
     "the linear model it is the exact (w, b) plane; for the network the plane of the path's two principal "
     "directions, or of two parameters you choose, and the text says how much of the path lies off it. An "
     "oscillating run zigzags across the valley; a converging one runs down it."),
    ("Phase diagram",
     "Every cell is one run: a learning rate (columns, log scale) with a hidden width or a seed (rows), "
     "coloured by its final (or best) loss and marked with its outcome: ✓ converging, … slow, ∿ "
     "oscillating, ✗ diverged (grey: it blew up). Hover a cell for its numbers; click it to add that run."),
    ("Outcome words",
     "Next to each run's colour: <b>converging</b>, <b>slow</b> (loss at least twice the best run's), "
     "<b>oscillating</b> (the loss rose on a quarter of the last 50 steps, or the update keeps reversing "
     "direction) or <b>diverged</b> (above its starting loss for the last 50 steps, or blew up). They "
     "update live."),
)

CHANGES = (
    "Changing the data, the model, a learning rate, the seed or the step budget starts the experiment "
    "again at step 0 with the new settings; if it was training, it keeps training. The speed, the "
    "theme, the log/linear axes and the selected run apply at once without a reset. Reset (R) returns "
    "to step 0 and pauses.")


def shortcuts_html() -> str:
    rows = "".join(f"<tr><td><b>{key_text(k)}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for _, k, v in SHORTCUTS)
    return f"<h3>Keyboard shortcuts</h3><table>{rows}</table>"


def views_html() -> str:
    parts = [f"<h3>{title}</h3><p>{text}</p>" for title, text in VIEWS]
    parts.append(f"<h3>Changing a setting while training</h3><p>{CHANGES}</p>")
    return "".join(parts)


class HelpDialog(QDialog):
    """A non-blocking dialog showing one help page."""

    def __init__(self, title: str, html: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.text = QTextBrowser()
        self.text.setHtml(html)
        self.text.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(640, 560)
