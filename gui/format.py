"""Every number the window shows as text, formatted here (one family: the same quantity
reads the same everywhere).  Pure Python: no Qt.

* ``number``   a table value: 6 significant digits; — for NaN, ∞ / −∞; −0 reads 0.
* ``short``    a rate or loss in a sentence or label: 3 significant digits (``digits``); — when not finite.
* ``rounded``  the number a button shows is the number it adds: ``short``'s value as a float.
* ``exact``    text that reads back as exactly the value (a typed field: 0.1, 0.003, 1e-05, 7).
* ``times``    a ratio v / ref as "0.52×" or "12×".
* ``tick``     a log axis's tick in plain numbers (20, 0.001; 1e-5 below 1e-4, 1e5 from 1e5).
"""
from __future__ import annotations

import math


def number(v) -> str:
    v = float(v)
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"{v + 0.0:.6g}"                     # + 0.0: −0.0 shows as 0


def short(v, digits: int = 3) -> str:
    v = float(v)
    if not math.isfinite(v):
        return "—"
    return f"{v:.{digits}g}"


def rounded(v, digits: int = 3) -> float:
    return float(f"{float(v):.{digits}g}")


def exact(v) -> str:
    return str(v) if isinstance(v, int) else repr(float(v))


def times(v, ref) -> str:
    """v / ref as "0.52×" or "12×"."""
    r = float(v) / float(ref)
    return f"{r:.2g}×" if r < 10 else f"{r:.0f}×"


def tick(x: float) -> str:
    return f"{x:.4g}" if 1e-4 <= abs(x) < 1e5 else f"{x:.0e}".replace("e-0", "e-").replace("e+0", "e")
