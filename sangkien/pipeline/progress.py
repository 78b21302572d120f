"""How far a run has got, for whoever watches: the stages report, the CLI draws progress bars from it.

The pipeline calls ``report`` as it goes (a source's rows landed so far, a stage starting); a listener
(``listening``) turns that into a display. Nobody listening costs a list lookup. A listener that fails is
dropped, never the run: progress is for people, the run's data and totals are in the store either way.
Reports may come from several threads at once (Prefect runs tasks in threads): a listener must cope.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

PULL, VALIDATE, DONE = "pull", "validate", "done"  # a source's stages
RESOLVE, ROLL_UP = "resolve", "roll-up"  # the run's stages after every source


@dataclass(frozen=True)
class Progress:
    """``source`` reached ``stage`` (None: a stage of the whole run) with ``rows`` rows so far."""

    stage: str
    source: str | None = None
    rows: int = 0
    failed: bool = False


Listener = Callable[[Progress], None]
_listeners: list[Listener] = []


def report(stage: str, source: str | None = None, rows: int = 0, failed: bool = False) -> None:
    """Tell every listener; a listener that raises is removed."""
    for listener in list(_listeners):
        try:
            listener(Progress(stage, source, rows, failed))
        except Exception:  # a display must not break a sync
            if listener in _listeners:
                _listeners.remove(listener)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send the reports made inside the block to ``listener``."""
    _listeners.append(listener)
    try:
        yield
    finally:
        if listener in _listeners:
            _listeners.remove(listener)
