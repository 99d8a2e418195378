"""Data sets: the tutorial's single point, y = 2x + 1 + noise, two targets that need
the hidden layer, and the user's own x,y CSV.

Generated sets put ``samples`` x values evenly over ``x_range`` and add Gaussian
noise of standard deviation ``noise`` drawn from the ``rng`` passed in.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import ConfigError, shown

# Bounds of the data, shared by the generated sets (core.fields: samples, x range, noise) and
# the user's CSV.  MAX_MAGNITUDE keeps x, y, hi − lo, 2x + 1 and the plots' padded ranges finite
# (the window's plots refuse a range of ±inf; x from −1e308 to 1e308 made every frame fail).
MAX_SAMPLES = 100_000
MAX_MAGNITUDE = 1e300


@dataclass(frozen=True)
class Dataset:
    x: np.ndarray
    y: np.ndarray
    name: str

    def __len__(self) -> int:
        return self.x.size


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    generated: bool                       # False: fixed points, samples/noise/range unused
    make: Callable                        # (x, lo, hi) -> y   or  () -> (x, y)


def _mid(lo, hi):
    return 0.5 * (lo + hi)


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("tutorial", "Tutorial: the single point x = 3, y = 2.5", False,
               lambda: (np.array([3.0]), np.array([2.5]))),
        Target("linear", "y = 2x + 1 + noise (Exercise 3)", True,
               lambda x, lo, hi: 2.0 * x + 1.0),
        Target("sine", "y = sin(2π(x − lo)/(hi − lo)): one period over the range", True,
               lambda x, lo, hi: np.sin(2.0 * np.pi * (x - lo) / (hi - lo))),
        Target("abs", "y = |x − mid|: a V in the middle of the range", True,
               lambda x, lo, hi: np.abs(x - _mid(lo, hi))),
    )
}


def make_dataset(name: str, samples: int, noise: float, x_range, rng: np.random.Generator) -> Dataset:
    target = TARGETS.get(name)
    if target is None:
        raise ConfigError(f"dataset must be one of {', '.join(TARGETS)}; got {shown(name)}")
    if not target.generated:
        x, y = target.make()
        return Dataset(x, y, name)
    lo, hi = x_range
    x = np.linspace(lo, hi, samples)
    y = target.make(x, lo, hi) + noise * rng.standard_normal(samples)
    return Dataset(x, y, name)


def _number(cell: str):
    try:
        v = float(cell)
    except ValueError:
        return None
    return v if np.isfinite(v) else None


def too_many_rows(path, limit: int = MAX_SAMPLES) -> ConfigError:
    """The refusal of a data file over the row limit (the words of --samples' bound)."""
    return ConfigError(f"data file {shown(str(path), quote=False)}: more than {limit} data rows; "
                       f"samples must be between 1 and {limit}")


def count_rows(path, limit: int = MAX_SAMPLES) -> int | None:
    """The non-blank lines of a text file (a header included: an estimate from above of its data
    rows), read no further than the limit; ConfigError past it, None if it cannot be read
    (``load_csv`` then says why)."""
    n = 0
    try:
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
            for line in fh:
                if line.strip():
                    n += 1
                    if n > limit + 1:                  # more than the limit even after a header
                        raise too_many_rows(path, limit)
    except ConfigError:
        raise
    except (OSError, ValueError):              # unreadable, or a NUL in the name
        return None
    return n


def load_csv(path, max_rows: int = MAX_SAMPLES) -> Dataset:
    """Two numeric columns x,y; a first line that is not numeric is taken as a header.

    A bad cell raises ConfigError naming the file, the line and the column; a line the csv
    module cannot read (a cell over its field_size_limit, a NUL byte) names the file and line.
    Reading stops at the row after ``max_rows`` (refused, as --samples is past its bound), so
    a huge file costs no more than the limit; |x| and |y| must be at most MAX_MAGNITUDE.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"data file must be a file name; got {shown(path)}")
    xs, ys = [], []
    reader = None
    where = shown(str(path), quote=False)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            for lineno, row in enumerate(reader, start=1):
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) != 2:
                    raise ConfigError(
                        f"data file {where}: line {lineno} has {len(row)} columns; expected 2 (x,y)")
                values = [_number(cell) for cell in row]
                if lineno == 1 and not xs and all(v is None for v in values):
                    continue                      # a header line
                for col, cell, v in zip(("x", "y"), row, values):
                    if v is None:
                        raise ConfigError(
                            f"data file {where}: line {lineno}, column {col}: "
                            f"{shown(cell.strip())} is not a finite number")
                    if abs(v) > MAX_MAGNITUDE:
                        raise ConfigError(
                            f"data file {where}: line {lineno}, column {col}: "
                            f"{shown(cell.strip())} is beyond ±{MAX_MAGNITUDE:g}")
                if len(xs) == max_rows:
                    raise too_many_rows(path, max_rows)
                xs.append(values[0])
                ys.append(values[1])
    except ConfigError:
        raise
    except OSError as e:
        raise ConfigError(f"data file {where}: cannot be read ({e.strerror})") from None
    except csv.Error as e:
        raise ConfigError(f"data file {where}: line {reader.line_num}: {shown(str(e), quote=False)}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"data file {where}: is not a UTF-8 text file") from None
    except ValueError as e:                    # a NUL in the name
        raise ConfigError(f"data file {where}: cannot be opened ({e})") from None
    if not xs:
        raise ConfigError(f"data file {where}: has no data rows")
    return Dataset(np.array(xs), np.array(ys), str(path))
