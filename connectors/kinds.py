"""The one place connector kinds are named: the ``sangkien.connectors`` entry-point group.

A kind is a ``Connector`` subclass registered under that group (pyproject.toml registers
the four built-in kinds; a province can ship its own kind as a package the same way).
``connectors.base`` holds the contract and names no kind, so no kind module imports back
into this one.
"""
from __future__ import annotations

import functools
import sys
from importlib.metadata import entry_points

from connectors.base import Connector

GROUP = "sangkien.connectors"


def connector_kinds() -> dict[str, type[Connector]]:
    """Every installed connector kind, by name (entry-point group ``sangkien.connectors``). Looked up once per
    ``sys.path`` (a run asks six times per source; each look scans every installed distribution: 17 ms)."""
    return dict(_kinds_on(tuple(sys.path)))


@functools.lru_cache(maxsize=8)
def _kinds_on(_path: tuple[str, ...]) -> dict[str, type[Connector]]:
    kinds: dict[str, type[Connector]] = {}
    for ep in entry_points(group=GROUP):
        kinds[ep.name] = ep.load()
    if not kinds:  # running from a source tree that is not installed
        from connectors.files import FilesConnector
        from connectors.portal import PortalConnector
        from connectors.rest import RestConnector
        from connectors.sql import SqlConnector
        kinds = {"files": FilesConnector, "portal": PortalConnector, "rest": RestConnector, "sql": SqlConnector}
    return kinds
