"""A finished stage gives back the memory it freed, so the next stage's peak does not stand on it."""
from __future__ import annotations

import sys

import pytest

from sangkien.pipeline.stages import release_memory


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 1e6


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim; a no-op elsewhere")
def test_memory_a_stage_freed_in_pieces_goes_back_to_the_system():
    pieces = [bytes(2048) for _ in range(150_000)]  # 300 MB in blocks malloc keeps on its heap
    pinned = [bytes(2048) for _ in range(10)]        # allocated above them: the heap's top stays in use
    held = _resident_mb()
    del pieces
    freed = _resident_mb()
    release_memory()
    released = _resident_mb()
    assert held - freed < 100, "glibc returned the pieces by itself: the test shows nothing"
    assert freed - released > 200
    assert pinned
