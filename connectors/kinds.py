"""The one place connector kinds are named: the ``sangkien.connectors`` entry-point group.

A kind is a ``Connector`` subclass registered under that group (pyproject.toml registers
the four built-in kinds; a province can ship its own kind as a package the same way).
``connectors.base`` holds the contract and names no kind, so no kind module imports back
into this one.
"""
from __future__ import annotations

from importlib.metadata import entry_points

from connectors.base import Connector

GROUP = "sangkien.connectors"


def connector_kinds() -> dict[str, type[Connector]]:
    """Every installed connector kind, by name (entry-point group ``sangkien.connectors``)."""
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
