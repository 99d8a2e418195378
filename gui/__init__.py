"""LR Lab's desktop window (Qt + pyqtgraph); every number it shows comes from core/."""
