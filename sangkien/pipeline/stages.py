"""Seconds and peak memory per stage of a run, for the log and the benchmarks."""

from __future__ import annotations

import ctypes
import sys
import time
from collections.abc import Callable


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


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Give back to the system the memory a finished stage freed (glibc's ``malloc_trim``; elsewhere nothing).

    glibc keeps freed heap memory for later use, but a stage's frames and strings leave it in pieces
    that the next stage's large arrays do not fit: after landing 1.3 M portal rows, 1.4 GB stayed
    resident through resolution (the pipeline's peak, 5.4 GB at 2.4 M rows). Takes milliseconds."""
    if _TRIM is not None:
        _TRIM(0)
