"""Draws LR Lab's icon with QPainter: three loss curves on a rounded tile — one smooth
and converging, one zigzagging, one shooting up.  ``python -m gui.icon`` rewrites
resources/icon.png; the window loads that file and falls back to drawing it.
"""
from __future__ import annotations

import math
import os
import sys

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPainterPath, QPen, QPixmap

ICON_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "resources", "icon.png")
SIZE = 256


def draw_icon(size: int = SIZE) -> QImage:
    img = QImage(size, size, QImage.Format_ARGB32)
    img.fill(Qt.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.Antialiasing)
    s = size / 256.0
    p.setPen(QPen(QColor("#B8C4D0"), 4 * s))
    p.setBrush(QColor("#F4F7FB"))
    p.drawRoundedRect(QRectF(8 * s, 8 * s, 240 * s, 240 * s), 44 * s, 44 * s)
    p.setPen(QPen(QColor("#202020"), 10 * s, Qt.SolidLine, Qt.RoundCap))
    p.drawLine(QPointF(44 * s, 40 * s), QPointF(44 * s, 212 * s))          # loss axis
    p.drawLine(QPointF(44 * s, 212 * s), QPointF(220 * s, 212 * s))        # step axis

    def curve(points, color, width):
        path = QPainterPath(QPointF(*points[0]))
        for pt in points[1:]:
            path.lineTo(QPointF(*pt))
        p.setPen(QPen(QColor(color), width * s, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
        p.setBrush(Qt.NoBrush)
        p.drawPath(path)

    xs = [56 + i * 4 for i in range(41)]
    smooth = [(x * s, (60 + 130 * (1 - math.exp(-(x - 56) / 30))) * s) for x in xs]
    zigzag = [(x * s, (70 + 90 * (1 - math.exp(-(x - 56) / 60)) + (14 if i % 2 else -14)) * s)
              for i, x in enumerate(xs[::3])]
    boom = [(x * s, (150 - 110 * ((x - 56) / 110) ** 3) * s) for x in xs if x <= 166]
    curve(zigzag, "#E69F00", 9)
    curve(boom, "#D55E00", 11)
    curve(smooth, "#0072B2", 13)
    p.end()
    return img


def icon() -> QIcon:
    if os.path.exists(ICON_PATH):
        return QIcon(ICON_PATH)
    return QIcon(QPixmap.fromImage(draw_icon()))


def main() -> int:
    from PySide6.QtGui import QGuiApplication
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])   # noqa: F841
    return 0 if draw_icon().save(ICON_PATH, "PNG") else 1


if __name__ == "__main__":
    sys.exit(main())
