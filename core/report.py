"""What a finished (or running) experiment reports, and the files it writes.

CSV: first column ``step``; one column per run headed ``lr=<value>``; row k holds the
loss after k updates; a cell after its run blew up is empty; numbers are written in
full float64 precision (Python's shortest round-trip ``repr``).

Every file is written to a temporary file beside the target and renamed into place,
so a failed export never leaves a half-written or truncated file.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass

import numpy as np

from .errors import ConfigError

SUMMARY_FORMAT = "lrlab-summary"


@dataclass(frozen=True)
class RunSummary:
    lr: float
    final_loss: float | None      # loss after the last update; None once the run blew up
    best_loss: float | None       # lowest finite loss recorded
    outcome: str
    diverged_step: int | None     # None if the run has not diverged


def summarize(learning_rates, losses: np.ndarray, outcomes, diverged_steps) -> list[RunSummary]:
    out = []
    for lr, row, outcome, dstep in zip(learning_rates, losses, outcomes, diverged_steps):
        finite = row[np.isfinite(row)]
        final = float(row[-1]) if np.isfinite(row[-1]) else None
        out.append(RunSummary(float(lr), final, float(finite.min()) if finite.size else None,
                              outcome, int(dstep) if dstep >= 0 else None))
    return out


def lr_label(lr: float) -> str:
    return f"lr={lr:g}"


def check_writable(path, flag: str) -> None:
    """Fail early (before training) if ``path`` cannot be written; creates nothing."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ConfigError(f"{flag} {path}: is a folder, not a file")
    if not os.path.isdir(folder):
        raise ConfigError(f"{flag} {path}: folder {folder} does not exist")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise ConfigError(f"{flag} {path}: cannot be written (permission denied)")
    fd, probe = _temp_beside(path, flag)          # can a file be made in that folder?
    os.close(fd)
    _remove(probe)


def _temp_beside(path: str, flag: str):
    folder = os.path.dirname(os.path.abspath(path))
    try:
        return tempfile.mkstemp(prefix=".lrlab-", suffix=".tmp", dir=folder)
    except OSError as e:
        raise ConfigError(f"{flag} {path}: cannot be written ({e.strerror})") from None


def write_atomic(path, write, flag: str, mode: str = "w") -> None:
    """Call ``write(fh)`` on a temporary file beside ``path``, then rename it into place."""
    path = os.fspath(path)
    check_writable(path, flag)
    fd, tmp = _temp_beside(path, flag)
    try:
        os.fchmod(fd, 0o666 & ~_umask())           # mkstemp makes 0600; give the usual mode
        with os.fdopen(fd, mode, **({"encoding": "utf-8", "newline": ""} if "b" not in mode else {})) as fh:
            write(fh)
        os.replace(tmp, path)
    except OSError as e:
        _remove(tmp)
        raise ConfigError(f"{flag} {path}: cannot be written ({e.strerror})") from None
    except BaseException:
        _remove(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _cell(v: float) -> str:
    return repr(v) if math.isfinite(v) else ""


def write_csv(path, learning_rates, losses: np.ndarray, flag: str = "--csv") -> None:
    """Loss curves: ``losses[k, t]`` is run k's loss after t updates."""
    losses = np.asarray(losses, dtype=float)
    header = ",".join(["step"] + [lr_label(lr) for lr in learning_rates])

    def write(fh):
        fh.write(header + "\n")
        rows = losses.T.tolist()                       # Python floats: repr is round-trip exact
        for start in range(0, len(rows), 65536):
            fh.write("".join(
                f"{t},{','.join(map(_cell, row))}\n"
                for t, row in enumerate(rows[start:start + 65536], start)))

    write_atomic(path, write, flag)


def summary_dict(experiment, runs: list[RunSummary], steps_done: int) -> dict:
    return {"format": SUMMARY_FORMAT, "version": 1, "steps": steps_done,
            "experiment": experiment.to_dict(), "runs": [asdict(r) for r in runs]}


def write_json(path, data: dict, flag: str = "--json") -> None:
    write_atomic(path, lambda fh: fh.write(json.dumps(data, indent=2, allow_nan=False) + "\n"), flag)
