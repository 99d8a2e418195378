"""Data sets: the tutorial's single point, y = 2x + 1 + noise, two targets that need
the hidden layer, and the user's own x,y CSV.

Generated sets put ``samples`` x values evenly over ``x_range`` and add Gaussian
noise of standard deviation ``noise`` drawn from the ``rng`` passed in.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import ConfigError


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
        raise ConfigError(f"dataset must be one of {', '.join(TARGETS)}; got {name!r}")
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


def load_csv(path) -> Dataset:
    """Two numeric columns x,y; a first line that is not numeric is taken as a header.

    A bad cell raises ConfigError naming the file, the line and the column; a line the csv
    module cannot read (a cell over its field_size_limit, a NUL byte) names the file and line.
    """
    xs, ys = [], []
    reader = None
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            for lineno, row in enumerate(reader, start=1):
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) != 2:
                    raise ConfigError(
                        f"data file {path}: line {lineno} has {len(row)} columns; expected 2 (x,y)")
                values = [_number(cell) for cell in row]
                if lineno == 1 and not xs and all(v is None for v in values):
                    continue                      # a header line
                for col, cell, v in zip(("x", "y"), row, values):
                    if v is None:
                        raise ConfigError(
                            f"data file {path}: line {lineno}, column {col}: "
                            f"{cell.strip()!r} is not a finite number")
                xs.append(values[0])
                ys.append(values[1])
    except OSError as e:
        raise ConfigError(f"data file {path}: cannot be read ({e.strerror})") from None
    except csv.Error as e:
        raise ConfigError(f"data file {path}: line {reader.line_num}: {e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"data file {path}: is not a UTF-8 text file") from None
    if not xs:
        raise ConfigError(f"data file {path}: has no data rows")
    return Dataset(np.array(xs), np.array(ys), str(path))
