"""The record's fields, the names a source's columns map to (data contract v1).

``CANONICAL_FIELDS`` are the fields a source maps its columns to; ``REQUIRED_FIELDS``
must be mapped by every source. ``SourceMapping`` is what validating a source's landed
rows reads of its settings: the column mapping, the date format, the authors separator.
schemas/README.md documents each field. This module imports nothing of ours.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Canonical fields a source maps its columns to (schemas/README.md documents each).
CANONICAL_FIELDS = ("source_record_id", "portal_id", "title", "authors", "submitted_by", "unit", "field",
                    "solution_type", "recognized_on", "applied_on", "submitted_at", "status", "benefit_vnd",
                    "updated_at")
REQUIRED_FIELDS = ("source_record_id", "title", "authors", "unit", "solution_type", "applied_on",
                   "submitted_at", "status")



@dataclass(frozen=True)
class SourceMapping:
    """How one source's rows read as records: canonical field → the source's column, its dates, its authors."""

    columns: dict[str, str] = field(default_factory=dict)
    date_format: str = "%d/%m/%Y"
    authors_separator: str = ";"
