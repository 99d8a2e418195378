"""What a finished (or running) experiment reports, and the files it writes.

CSV: first column ``step``; one column per run headed ``lr=<value>`` (followed by the run's
optimizer and schedule when some run is not plain gradient descent at a constant rate:
core.recipes.column_labels); row k holds the
loss after k updates; a cell after its run blew up is empty; numbers are written in
full float64 precision (Python's shortest round-trip ``repr``).

JSON: a number that is not finite (an overflowed η·λ_max, say) is written as ``null``.

Every file is written to a temporary file beside the target and renamed into place,
so a failed export never leaves a half-written or truncated file.  The temporary file is
named ``.lrlab-<pid>-<random>.tmp``; a write to a folder removes the temporary files there
whose process is gone (a killed export), never one of a live process.  The outputs of one
command are written together (``write_together``): every temporary file first, then every
rename, so a failure leaves all the old files as they were.
"""
from __future__ import annotations

import json
import math
import os
import re
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


def lr_text(lr: float) -> str:
    """A learning rate as text that reads back as the same float: ``%g`` when that is exact
    (0.1, 1e-06, 1: as always), else the shortest round-trip form (0.1000001)."""
    lr = float(lr)
    short = f"{lr:g}"
    return short if float(short) == lr or not math.isfinite(lr) else repr(lr)


def lr_label(lr: float) -> str:
    return f"lr={lr_text(lr)}"


def check_writable(path, flag: str) -> None:
    """Fail early (before training) if ``path`` cannot be written; creates nothing (it may
    remove dead processes' temporary files in the folder)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.basename(path):
        raise ConfigError(f"{flag} {path!r}: names a folder, not a file")
    if os.path.isdir(path):
        raise ConfigError(f"{flag} {path}: is a folder, not a file")
    if not os.path.isdir(folder):
        raise ConfigError(f"{flag} {path}: folder {folder} does not exist")
    _check_name_length(path, folder, flag)
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise ConfigError(f"{flag} {path}: cannot be written (permission denied)")
    fd, probe = _temp_beside(path, flag)          # can a file be made in that folder?
    os.close(fd)
    _remove(probe)


def _check_name_length(path: str, folder: str, flag: str) -> None:
    """The final name must fit the folder's file system (NAME_MAX, PATH_MAX), checked before
    anything is trained or written."""
    for key, length, what in (("PC_NAME_MAX", len(os.fsencode(os.path.basename(path))), "file name"),
                              ("PC_PATH_MAX", len(os.fsencode(os.path.abspath(path))) + 1, "full path")):
        try:
            limit = os.pathconf(folder, key)
        except (OSError, ValueError):
            continue
        if limit > 0 and length > limit:
            raise ConfigError(f"{flag} {path}: the {what} is {length} bytes; this file system "
                              f"allows at most {limit}")


TEMP_PREFIX = ".lrlab-"
_TEMP_NAME = re.compile(r"\.lrlab-(\d+)-[^/]*\.tmp\Z")


def _temp_beside(path: str, flag: str):
    """A new temporary file ``.lrlab-<pid>-<random>.tmp`` in the folder of ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    remove_dead_temps(folder)
    try:
        return tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=".tmp", dir=folder)
    except OSError as e:
        raise ConfigError(f"{flag} {path}: cannot be written ({e.strerror})") from None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True                  # someone else's (or unknowable): keep its file
    return True


def remove_dead_temps(folder) -> list[str]:
    """Remove the temporary files (``.lrlab-<pid>-*.tmp``) whose process no longer exists,
    left by an export that was killed; returns their names.  Files of live processes, and
    files without a pid in their name, are left alone."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if m and not _alive(int(m.group(1))):
            try:
                if entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
                    removed.append(entry.name)
            except OSError:
                pass
    return removed


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


def write_together(outputs) -> None:
    """Write one command's outputs together: ``outputs`` is a list of (flag, path, save), and
    ``save(p)`` writes the whole file at ``p`` (a temporary name beside ``path``).  Every
    file is written first; only if all succeed is each renamed into place.  If one fails,
    every temporary file is removed and the old files are all left as they were.  (A rename
    that fails after others succeeded cannot be undone; names and folders are checked
    first, so that takes a failing disk.)"""
    outputs = [(flag, os.fspath(path), save) for flag, path, save in outputs]
    for flag, path, _ in outputs:
        check_writable(path, flag)
    temps = []
    try:
        for flag, path, save in outputs:
            fd, tmp = _temp_beside(path, flag)
            os.close(fd)
            temps.append(tmp)
            save(tmp)
        for (flag, path, _), tmp in zip(outputs, temps):
            try:
                os.replace(tmp, path)
            except OSError as e:
                raise ConfigError(f"{flag} {path}: cannot be written ({e.strerror})") from None
    finally:
        for tmp in temps:
            if os.path.lexists(tmp):
                _remove(tmp)


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


def write_csv(path, learning_rates, losses: np.ndarray, flag: str = "--csv", labels=None) -> None:
    """Loss curves: ``losses[k, t]`` is run k's loss after t updates.  ``labels``: the column
    headers (core.recipes.column_labels: ``lr=0.1 momentum(0.9)``), else ``lr=<rate>``."""
    losses = np.asarray(losses, dtype=float)
    header = ",".join(["step"] + (list(labels) if labels is not None else [lr_label(lr) for lr in learning_rates]))

    def write(fh):
        fh.write(header + "\n")
        rows = losses.T.tolist()                       # Python floats: repr is round-trip exact
        for start in range(0, len(rows), 65536):
            fh.write("".join(
                f"{t},{','.join(map(_cell, row))}\n"
                for t, row in enumerate(rows[start:start + 65536], start)))

    write_atomic(path, write, flag)


def summary_dict(experiment, runs: list[RunSummary], steps_done: int, recipes=None, labels=None) -> dict:
    """What ``train --json`` writes; with ``recipes`` (and ``labels``, the CSV's column headers)
    each run, in the order of the CSV's columns, also gives its whole recipe and its column."""
    out = []
    for k, r in enumerate(runs):
        d = asdict(r)
        if labels is not None:
            d["column"] = labels[k]
        if recipes is not None:
            d["recipe"] = recipes[k].to_dict()
        out.append(d)
    return {"format": SUMMARY_FORMAT, "version": 1, "steps": steps_done,
            "experiment": experiment.to_dict(), "runs": out}


def json_safe(value):
    """``value`` with every non-finite number (inf, −inf, NaN) replaced by None (JSON null),
    numpy scalars and arrays as Python numbers and lists."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_safe(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def write_json(path, data: dict, flag: str = "--json") -> None:
    """``data`` as indented JSON; a non-finite number is written as null."""
    text = json.dumps(json_safe(data), indent=2, allow_nan=False) + "\n"
    write_atomic(path, lambda fh: fh.write(text), flag)


# -- the range test (lr-find --csv, --json) ---------------------------------------------------
RANGE_TEST_FORMAT = "lrlab-range-test"


def write_range_test_csv(path, result, flag: str = "--csv") -> None:
    """One row per recorded step: ``step,lr,loss,smoothed``; the loss of step i is the loss at
    the parameters before the update with that step's lr (fastai's pairing)."""
    rows = zip(np.asarray(result.lrs, dtype=float).tolist(), np.asarray(result.losses, dtype=float).tolist(),
               np.asarray(result.smoothed, dtype=float).tolist())

    def write(fh):
        fh.write("step,lr,loss,smoothed\n")
        fh.write("".join(f"{i},{_cell(lr)},{_cell(loss)},{_cell(sm)}\n" for i, (lr, loss, sm) in enumerate(rows)))

    write_atomic(path, write, flag)


def range_test_dict(experiment, result, lr_min: float, lr_max: float, critical_lr: float) -> dict:
    """What ``lr-find --json`` writes: the ramp, the losses, the suggestions and η*."""
    start, end = result.used
    return {"format": RANGE_TEST_FORMAT, "version": 1, "experiment": experiment.to_dict(),
            "lr_min": lr_min, "lr_max": lr_max, "steps": result.steps, "recorded": len(result.lrs),
            "stopped": result.stopped, "used": {"start": start, "end": end},
            "suggestions": {"valley": result.valley, "steep": result.steepest,
                            "minimum_tenth": result.minimum_tenth, "default": "valley"},
            "note": result.note or None, "critical_lr": critical_lr,
            "lrs": result.lrs, "losses": result.losses, "smoothed": result.smoothed}
