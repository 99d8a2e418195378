"""core.report: labels that read back, JSON without non-finite numbers, outputs checked whole
and written together, and temporary files of killed processes cleaned up."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from core.errors import ConfigError
from core.report import (check_writable, json_safe, lr_label, lr_text, remove_dead_temps, write_atomic,
                         write_json, write_together)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_lr_labels_read_back_as_the_same_float():
    assert [lr_label(v) for v in (0.1, 1.0, 1e-06, 0.003, 30)] == ["lr=0.1", "lr=1", "lr=1e-06", "lr=0.003", "lr=30"]
    assert lr_label(0.1000001) == "lr=0.1000001" != lr_label(0.1)
    rng = np.random.default_rng(3)
    for v in np.concatenate([10.0 ** rng.uniform(-9, 3, 500), rng.uniform(0, 1, 500), [5e-324, 1e308]]):
        assert float(lr_text(v)) == float(v)
        assert len(lr_text(v)) <= max(len(repr(float(v))), len(f"{v:g}"))


def test_json_writes_null_for_non_finite_numbers(tmp_path):
    out = tmp_path / "a.json"
    write_json(out, {"a": float("inf"), "b": [1.0, np.nan, np.float64(-np.inf)], "c": np.array([2.0, np.inf]),
                     "d": {"e": np.int64(3), "f": True}})
    assert json.loads(out.read_text()) == {"a": None, "b": [1.0, None, None], "c": [2.0, None],
                                           "d": {"e": 3, "f": True}}
    assert json_safe((1, 2.5)) == [1, 2.5]


def test_an_over_long_name_is_refused_before_anything_is_written(tmp_path):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    long = tmp_path / ("x" * (limit + 1) + ".json")
    with pytest.raises(ConfigError, match=f"--json .*file name is {limit + 6} bytes.*at most {limit}"):
        check_writable(long, "--json")
    check_writable(tmp_path / ("x" * (limit - 5) + ".json"), "--json")       # at the limit: fine
    assert list(tmp_path.iterdir()) == []


def test_outputs_written_together_leave_every_old_file_if_one_fails(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.json"
    a.write_text("old a\n")
    b.write_text("old b\n")

    def fail(path):
        with open(path, "w") as fh:
            fh.write("half")
        raise ConfigError("--png: the image could not be rendered")

    save_a = lambda p: write_atomic(p, lambda fh: fh.write("new a\n"), "--csv")      # noqa: E731
    with pytest.raises(ConfigError, match="--png"):
        write_together([("--csv", a, save_a), ("--json", b, fail)])
    assert a.read_text() == "old a\n" and b.read_text() == "old b\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.json"]
    write_together([("--csv", a, save_a), ("--json", b, lambda p: write_json(p, {"x": 1}))])
    assert a.read_text() == "new a\n" and json.loads(b.read_text()) == {"x": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.json"]


def test_temp_files_of_dead_processes_are_removed_by_the_next_write(tmp_path):
    dead = dead_pid()
    live_child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        names = {f".lrlab-{dead}-abc123.tmp": False,                 # its process is gone: removed
                 f".lrlab-{live_child.pid}-def456.tmp": True,       # a live process's: kept
                 f".lrlab-{os.getpid()}-ghi789.tmp": True,          # ours: kept
                 ".lrlab-oldstyle.tmp": True,                        # no pid in the name: kept
                 f"lrlab-{dead}-x.tmp": True,                        # not our pattern: kept
                 f".lrlab-{dead}-x.csv": True}
        for name in names:
            (tmp_path / name).write_bytes(b"x" * 1000)
        write_atomic(tmp_path / "out.csv", lambda fh: fh.write("a\n"), "--csv")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            ["out.csv"] + [n for n, keep in names.items() if keep])
        assert remove_dead_temps(tmp_path) == []
    finally:
        live_child.kill()
        live_child.wait()
    assert remove_dead_temps(tmp_path) == [f".lrlab-{live_child.pid}-def456.tmp"]


def test_temp_files_carry_the_writers_pid(tmp_path):
    seen = []

    def write(fh):
        seen.extend(p.name for p in tmp_path.iterdir())
        fh.write("x")

    write_atomic(tmp_path / "f.txt", write, "--csv")
    assert len(seen) == 1 and seen[0].startswith(f".lrlab-{os.getpid()}-") and seen[0].endswith(".tmp")
