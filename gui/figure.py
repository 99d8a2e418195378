"""What a figure export may be: its formats (by the file's extension) and its size in pixels.

Imports no Qt: the command line checks ``--plot`` and ``--plot-size`` with these before it
trains (gui.render, which draws the figure, imports Qt).

A figure is laid out on a canvas of at least LOGICAL = 800 × 500 points (the asked aspect),
then scaled to the asked size: text, markers and lines keep their size relative to the
figure, so a 1600 × 1000 and a 3200 × 2000 export look the same, the second one sharper.
"""
from __future__ import annotations

import os

from core.errors import ConfigError

FORMATS = {".png": "PNG", ".svg": "SVG", ".pdf": "PDF"}
MIN_SIZE, MAX_SIZE = 100, 10000          # pixels, each side
LOGICAL = (800, 500)                     # the smallest canvas a figure is laid out on (points)
DEFAULT_SIZE = (1600, 1000)


def figure_format(path, flag: str) -> str:
    """"PNG", "SVG" or "PDF", from the extension of ``path`` (any case); else ConfigError
    naming ``flag`` and the path."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in FORMATS:
        raise ConfigError(f"{flag} {os.fspath(path)}: the file must end in {', '.join(FORMATS)} "
                          f"(the format is chosen by the extension); got {ext or 'no extension'!r}")
    return FORMATS[ext]


def figure_size(size, flag: str = "--plot-size") -> tuple[int, int]:
    """(width, height) as whole numbers of pixels from MIN_SIZE to MAX_SIZE; ``size`` is two
    numbers or two strings (the command line's); else ConfigError naming ``flag`` and the values."""
    try:
        values = list(size)
    except TypeError:
        values = [size]
    shown = " ".join(str(v) for v in values)
    if len(values) != 2:
        raise ConfigError(f"{flag} {shown}: give a width and a height in pixels, e.g. {flag} 1600 1000")
    out = []
    for name, v in zip(("width", "height"), values):
        if isinstance(v, bool):
            n = None
        elif isinstance(v, str):
            n = int(v.strip()) if v.strip().lstrip("+").isdigit() else None
        else:
            try:
                n = int(v) if int(v) == v else None
            except (TypeError, ValueError, OverflowError):
                n = None
        if n is None or not MIN_SIZE <= n <= MAX_SIZE:
            raise ConfigError(f"{flag} {shown}: the {name} must be a whole number of pixels from "
                              f"{MIN_SIZE} to {MAX_SIZE}; got {v!r}")
        out.append(n)
    return out[0], out[1]


def canvas(size) -> tuple[int, int, float]:
    """(width, height, scale) of the canvas a ``size`` figure is laid out on: the asked aspect,
    at least LOGICAL, scaled by ``scale`` = min(W / 800, H / 500) to the asked size."""
    w, h = size
    scale = min(w / LOGICAL[0], h / LOGICAL[1])
    return max(1, round(w / scale)), max(1, round(h / scale)), scale
