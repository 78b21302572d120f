"""Seconds and peak memory per stage of a run, for the log and the benchmarks."""

from __future__ import annotations

import sys
import time


class Stages:
    """Seconds per stage of a run, and the process's peak memory at its end, for the log and the benchmarks."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}

    def mark(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self.last
        self.peak_mb[stage] = _peak_mb()
        self.last = now

    def __str__(self) -> str:
        return ", ".join(f"{k} {v:.2f} s" + (f" ({self.peak_mb[k]:,.0f} MB)" if self.peak_mb[k] else "")
                         for k, v in self.seconds.items())


def _peak_mb() -> float:
    """The process's peak resident memory so far (0 where the platform does not tell)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB elsewhere
