"""The installed entry point and the command line's exit paths that are not about input."""
import os
import sys
from pathlib import Path

import pytest

import main

ROOT = Path(__file__).resolve().parents[1]


def test_lrlab_console_script_is_main_main():
    tomllib = pytest.importorskip("tomllib")      # Python 3.11+
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["lrlab"].partition(":")
    assert (module, name) == ("main", "main")
    assert main.main(["explain"]) == 0


def test_a_closed_pipe_ends_the_command_quietly(monkeypatch, capfd):
    read_end, write_end = os.pipe()
    os.close(read_end)                              # the reader (e.g. `head`) is gone
    saved = os.dup(1)
    try:
        os.dup2(write_end, 1)
        monkeypatch.setattr(sys, "stdout", os.fdopen(os.dup(1), "w"))
        assert main.main(["explain"]) == 1           # no BrokenPipeError escapes
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(write_end)
    assert "Traceback" not in capfd.readouterr().err
