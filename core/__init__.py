"""LR Lab's engine: pure numpy, no Qt.  See README.md for the model and the rules."""
