"""Figures (gui.render, gui.figure): PNG/SVG/PDF at a chosen size, text that scales with the image,
the legend's outcomes, atomic writes; and the command line's --plot / --plot-size."""
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtGui

from core.errors import ConfigError
from core.experiment import preset
from gui import render, style
from gui.figure import canvas, figure_format, figure_size
from gui.plots import LossPlot

ROOT = Path(__file__).resolve().parents[1]
LRS = (0.01, 0.5, 5.0)
OUTCOMES = ("slow", "oscillating", "diverged")
TITLE_COLOR = "#FF00FF"          # a colour nothing else in the figure has: the title's pixels


def losses(T=120):
    t = np.arange(T)
    out = np.vstack([10 * 0.99 ** t, 10 * 0.9 ** t * (1 + 0.5 * (-1) ** t), 10 * 1.5 ** np.minimum(t, 30)])
    out[2, 31:] = np.nan
    return out


def loss_plot(qtbot) -> LossPlot:
    plot = LossPlot(dark=False, legend_outcomes=True)
    qtbot.addWidget(plot)
    plot.resize(700, 450)
    plot.set_runs(LRS, style.run_colors(3))
    style.set_title(plot.plotItem, "Title Hg", False, color=TITLE_COLOR)
    L = losses()
    plot.update_data(L, L.shape[1] - 1, OUTCOMES, np.array([-1, -1, 30]))
    return plot


def ink_box(image: QtGui.QImage, color: str):
    """(left, top, width, height) of the pixels within 60 of ``color`` (per channel)."""
    image = image.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    a = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    c = QtGui.QColor(color)
    bgr = np.array([c.blue(), c.green(), c.red()])
    hit = (np.abs(a[:, :image.width(), :3].astype(int) - bgr) <= 60).all(axis=2)
    rows, cols = np.flatnonzero(hit.any(axis=1)), np.flatnonzero(hit.any(axis=0))
    assert rows.size and cols.size, f"no {color} pixels"
    return cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1


# -- sizes, formats ---------------------------------------------------------------------------
def test_figure_size_and_format_checks_name_the_flag_and_value():
    assert figure_size(("1600", "1000")) == (1600, 1000) and figure_size((100, 10000)) == (100, 10000)
    for bad in (("0", "500"), ("800", "1.5"), ("99", "500"), ("800", "10001"), ("x", "1"), (True, 500), ("800",)):
        with pytest.raises(ConfigError, match=r"--plot-size"):
            figure_size(bad)
    assert [figure_format(f"a.{e}", "--plot") for e in ("png", "SVG", "Pdf")] == ["PNG", "SVG", "PDF"]
    for bad in ("a.jpg", "a", "a.png.txt"):
        with pytest.raises(ConfigError, match=re.escape(f"--plot {bad}")):
            figure_format(bad, "--plot")


def test_canvas_is_at_least_800_by_500_with_the_asked_aspect():
    assert canvas((1600, 1000)) == (800, 500, 2.0) and canvas((3200, 2000)) == (800, 500, 4.0)
    w, h, s = canvas((1000, 1600))                   # tall: the width is the narrow side
    assert (w, h, s) == (800, 1280, 1.25)
    w, h, s = canvas((3000, 600))
    assert h == 500 and w == 2500 and s == pytest.approx(1.2)


def test_png_has_the_asked_size_and_text_scales_with_it(qtbot, tmp_path):
    plot = loss_plot(qtbot)
    boxes = {}
    for w, h in ((1600, 1000), (3200, 2000)):
        path = tmp_path / f"f{w}.png"
        render.export_figure(plot, path, (w, h))
        image = QtGui.QImage(str(path))
        assert (image.width(), image.height()) == (w, h)
        boxes[w] = ink_box(image, TITLE_COLOR)
    (x1, y1, w1, h1), (x2, y2, w2, h2) = boxes[1600], boxes[3200]
    assert h2 / h1 == pytest.approx(2, rel=0.1) and w2 / w1 == pytest.approx(2, rel=0.1)     # the text's size
    assert x2 / x1 == pytest.approx(2, rel=0.1)                                             # and place
    assert h1 >= 12                                          # readable: ≥ 12 px high at 1600 px wide
    assert plot.size().width() == 700 and plot.size().height() == 450     # the widget is as it was
    assert sorted(os.listdir(tmp_path)) == ["f1600.png", "f3200.png"]    # no temporary file


def test_svg_has_the_size_the_viewbox_and_the_legend_with_outcomes(qtbot, tmp_path):
    plot = loss_plot(qtbot)
    path = tmp_path / "f.svg"
    render.export_figure(plot, path, (800, 500))
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("800", "500", "0 0 800 500")
    texts = [t.text for t in root.iter() if t.tag.endswith("text") and t.text]
    for lr, outcome in (("0.01", "slow"), ("0.5", "oscillating"), ("5", "diverged")):
        assert f"lr={lr} — {outcome}" in texts                      # text stays text
    assert any(t.startswith("diverged at step 30") for t in texts)


def test_pdf_has_a_page_of_the_asked_aspect(qtbot, tmp_path):
    plot = loss_plot(qtbot)
    path = tmp_path / "f.pdf"
    render.export_figure(plot, path, (1200, 600))
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", data)
    assert len(boxes) == 1
    w, h = map(float, boxes[0])
    assert w / h == pytest.approx(2.0, rel=1e-3)
    assert w == pytest.approx(1200 * 72 / render._screen_dpi(), rel=1e-3)      # W pixels at the screen's dpi


def test_a_failed_export_leaves_no_file_and_no_temporary(qtbot, tmp_path, monkeypatch):
    plot = loss_plot(qtbot)
    (tmp_path / "old.png").write_bytes(b"old")

    def broken(*args, **kwargs):
        raise ConfigError("figure: broken on purpose")
    monkeypatch.setattr(render, "figure_bytes", broken)
    for name in ("new.png", "old.png"):
        with pytest.raises(ConfigError, match="on purpose"):
            render.export_figure(plot, tmp_path / name, (800, 500))
    assert sorted(os.listdir(tmp_path)) == ["old.png"] and (tmp_path / "old.png").read_bytes() == b"old"
    with pytest.raises(ConfigError, match=r"\.gif"):
        render.export_figure(plot, tmp_path / "x.gif", (800, 500))
    assert sorted(os.listdir(tmp_path)) == ["old.png"]


def test_lines_scale_with_the_figure_too(qtbot, tmp_path):
    """A curve's thickness in pixels doubles with the size, as the text does."""
    plot = LossPlot(dark=False)
    qtbot.addWidget(plot)
    plot.set_runs((0.1,), ["#0000FF"])
    flat = np.full((1, 50), 1.0)
    plot.set_log_y(False)
    plot.update_data(flat, 49)
    thickness = []
    for w, h in ((1600, 1000), (3200, 2000)):
        path = tmp_path / f"l{w}.png"
        render.export_figure(plot, path, (w, h))
        image = QtGui.QImage(str(path)).convertToFormat(QtGui.QImage.Format.Format_RGB32)
        a = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine() // 4, 4)[:, :w, :3]
        column = a[:, w // 2].astype(int)                              # through the horizontal line
        blue = (column[:, 0] > 150) & (column[:, 2] < 100) & (column[:, 1] < 100)
        thickness.append(int(blue.sum()))
    assert thickness[0] >= 3 and thickness[1] / thickness[0] == pytest.approx(2, rel=0.25)


# -- the command line -----------------------------------------------------------------------------
def run(*args, cwd):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          timeout=180, cwd=cwd, env=env)


def test_train_plot_svg_from_the_command_line(tmp_path):
    r = run("train", "--preset", "exercise4", "--steps", "200", "--plot", "out.svg", "--plot-size", "800", "500",
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    root = ET.parse(tmp_path / "out.svg").getroot()
    assert (root.get("width"), root.get("height")) == ("800", "500")
    exp = preset("exercise4")
    texts = " ".join(t.text for t in root.iter() if t.tag.endswith("text") and t.text)
    assert all(f"lr={lr:g} — " in texts for lr in exp.learning_rates)
    assert sorted(os.listdir(tmp_path)) == ["out.svg"]


@pytest.mark.parametrize("args, message", [
    (["--plot", "out.jpg"], "--plot out.jpg: the file must end in .png, .svg, .pdf"),
    (["--plot", "out.png", "--plot-size", "0", "500"], "--plot-size 0 500: the width must be"),
    (["--plot", "out.pdf", "--plot-size", "800", "2.5"], "--plot-size 800 2.5: the height must be"),
    (["--plot", "out.png", "--plot-size", "800", "20000"], "--plot-size 800 20000: the height must be"),
    (["--plot-size", "800", "500"], "--plot-size 800 500: sizes the --plot figure"),
    (["--plot", ""], "--plot is empty"),
])
@pytest.mark.parametrize("command", ["train", "lr-find"])
def test_bad_plot_options_exit_2_with_one_line(tmp_path, command, args, message):
    r = run(command, "--preset", "exercise3", *args, cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert os.listdir(tmp_path) == []


def test_lr_find_plot_pdf(tmp_path):
    r = run("lr-find", "--preset", "exercise3", "--range-steps", "40", "--plot", "range.pdf",
            "--plot-size", "1200", "800", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = (tmp_path / "range.pdf").read_bytes()
    w, h = map(float, re.findall(rb"/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", data)[0])
    assert data.startswith(b"%PDF") and w / h == pytest.approx(1.5, rel=1e-3)


def test_a_figure_of_runs_with_recipes_names_each_recipe_in_its_legend(qtbot, tmp_path):
    """Two runs at the same rate differ only by their recipes: the legend must tell them apart."""
    from core.experiment import preset
    exp = preset("momentum").validated()
    tr = exp.trainer()
    tr.step(exp.steps)
    path = tmp_path / "m.svg"
    render.save_loss_plot(path, exp.learning_rates, tr.loss_history(), tr.outcomes, tr.diverged_steps(),
                          size=(800, 500), recipes=exp.recipes())
    texts = [t.text for t in ET.parse(path).getroot().iter() if t.tag.endswith("text") and t.text]
    assert f"lr=1 — {tr.outcomes[0]}" in texts and f"lr=1 · momentum 0.9 — {tr.outcomes[1]}" in texts
