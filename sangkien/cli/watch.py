"""Progress a person can see while a sync runs: a bar per source on a TTY, a plain line now and then elsewhere.

On a terminal each source gets a line that advances as its rows land (rows, rows per second, time so far),
then says validating and done; the run's last stages (resolving, rolling up) get one line. Piped or
redirected, the same news comes as plain lines: each stage as it starts and, during a long pull, about
one line a minute, with no control characters. The stages report through sangkien.pipeline.progress.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sangkien.cli import console

if TYPE_CHECKING:
    from sangkien.pipeline.progress import Progress as Event

PLAIN_EVERY = 60.0  # seconds between plain lines about one pull


class _Bars:
    """rich progress bars, one task per source and one for the run's last stages."""

    def __init__(self) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.display = Progress(SpinnerColumn(finished_text="•"), TextColumn("{task.description}"),
                                TextColumn("{task.fields[rows]}", justify="right"),
                                TextColumn("{task.fields[speed]}"), TimeElapsedColumn(),
                                console=console.console(), transient=False)
        self.tasks: dict[str | None, Any] = {}
        self.started: dict[str | None, float] = {}
        self.lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        from sangkien.pipeline import progress

        with self.lock:
            key = event.source
            label = event.source or "all sources"
            if key not in self.tasks:
                self.tasks[key] = self.display.add_task(label, total=None, rows="", speed="")
                self.started[key] = time.monotonic()
            task = self.tasks[key]
            words = {progress.PULL: "pulling", progress.VALIDATE: "validating",
                     progress.RESOLVE: "resolving initiatives", progress.ROLL_UP: "rolling up the counts"}
            if event.stage == progress.DONE:
                outcome = "failed (see below)" if event.failed else "done"
                self.display.update(task, description=f"{label}: {outcome}", rows=f"{event.rows:,} rows",
                                    speed="", total=1, completed=1)
                return
            speed = ""
            if event.stage == progress.PULL and event.rows:
                seconds = max(time.monotonic() - self.started[key], 1e-6)
                speed = f"{event.rows / seconds:,.0f} rows/s"
            rows = f"{event.rows:,} rows" if event.source else (f"{event.rows:,} initiatives" if event.rows else "")
            # drawn at once, not at the next tick: a batch (a file, a page) is worth a frame, and a quick
            # source still shows its count moving
            self.display.update(task, description=f"{label}: {words.get(event.stage, event.stage)}", rows=rows,
                                speed=speed, refresh=True)

    def finish(self) -> None:
        """The run's last stage ended: its line stops spinning."""
        with self.lock:
            if None in self.tasks:
                self.display.update(self.tasks[None], description="all sources: resolved and rolled up",
                                    total=1, completed=1)


class _Lines:
    """Plain lines: each stage as it starts, and during a pull about one line a minute."""

    def __init__(self) -> None:
        self.last: dict[str | None, tuple[str, float]] = {}
        self.lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        from sangkien.pipeline import progress

        with self.lock:
            now = time.monotonic()
            stage, when = self.last.get(event.source, ("", 0.0))
            if event.stage == stage and now - when < PLAIN_EVERY:
                return
            self.last[event.source] = (event.stage, now)
        label = event.source or "all sources"
        text = {progress.PULL: f"pulling ({event.rows:,} rows so far)" if event.rows else "pulling",
                progress.VALIDATE: f"validating {event.rows:,} rows",
                progress.DONE: f"{'failed' if event.failed else 'done'} ({event.rows:,} rows)",
                progress.RESOLVE: "resolving initiatives", progress.ROLL_UP: "rolling up the counts"}
        print(f"{label}: {text.get(event.stage, event.stage)}", flush=True)


@contextmanager
def watching(enabled: bool = True) -> Iterator[None]:
    """Show the progress the stages report inside the block (nothing when ``enabled`` is false)."""
    from sangkien.pipeline.progress import listening

    if not enabled:
        yield
        return
    if console.is_tty():
        bars = _Bars()
        with bars.display, listening(bars):
            yield
            bars.finish()
    else:
        with listening(_Lines()):
            yield


def announce(text: str) -> None:
    """A line about what is about to take a while (e.g. starting Prefect), printed at once."""
    print(text, flush=True)
