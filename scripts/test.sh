#!/usr/bin/env bash
# Set up (first time) and run the test suite, headless; arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen PYQTGRAPH_QT_LIB=PySide6
exec .venv/bin/python -m pytest "$@"
