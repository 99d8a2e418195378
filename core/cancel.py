"""A cooperative stop for core's long computations (the range test, the phase diagram, a
trajectory): they take ``should_stop``, a callable answering True once the caller no longer
wants the answer, ask it between chunks of steps, and raise ``Cancelled`` when it does.

Core knows nothing of threads: the caller decides what "stop" means (gui.jobs answers from
its job ids; a ``threading.Event``'s ``is_set`` works as well).  ``should_stop=None``
(the default, the command line's) never stops.

How often: a chunk is as many steps as make about ``WORK_PER_LOOK`` sample × parameter
products (at most ``MAX_CHUNK`` steps), so a look comes every ~0.1 s or sooner, from the
tutorial's network (2,000 steps, ~30 ms) to 100,000 samples × 512 hidden units (one step).
The steps and their numbers are the same whatever the chunks: a look only decides whether
the next chunk is trained.
"""
from __future__ import annotations

WORK_PER_LOOK = 4_000_000        # samples × parameters × steps between two looks (~0.02–0.1 s)
MAX_CHUNK = 2000                 # steps


class Cancelled(Exception):
    """The caller's ``should_stop()`` said True: the computation stopped, with no answer."""


def check(should_stop, what: str = "computation") -> None:
    """Raise Cancelled if ``should_stop`` (a callable or None) says so."""
    if should_stop is not None and should_stop():
        raise Cancelled(f"{what}: cancelled")


def chunk_steps(trainer, most: int = MAX_CHUNK) -> int:
    """Steps between two looks at ``should_stop`` for this trainer (≥ 1, ≤ ``most``)."""
    work = max(1, trainer.theta.size * len(trainer.data.x))
    return max(1, min(int(most), WORK_PER_LOOK // work))


def train(trainer, steps: int, should_stop=None, what: str = "training") -> None:
    """``trainer.step(steps)``, in chunks with a look at ``should_stop`` before each."""
    if should_stop is None:
        trainer.step(steps)
        return
    chunk, left = chunk_steps(trainer), int(steps)
    while left > 0 and not trainer.done:
        check(should_stop, what)
        left -= trainer.step(min(chunk, left))
