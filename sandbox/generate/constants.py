"""The world's public constants: file columns, canonical vocabularies, and where the reference CSVs live."""

from __future__ import annotations

from pathlib import Path

REFERENCE_DIR = Path(__file__).parent.parent / "reference"  # sandbox/reference: package data


NOISE_LEVELS: tuple[str, ...] = ("none", "light", "hard", "real")  # and "real:KIND" (sandbox.generate.realnoise)
ORG_COLUMNS: tuple[str, ...] = (
    "code", "name", "kind", "parent_code", "sector_parent_code", "valid_from", "valid_to", "aliases",
)
QUOTA_COLUMNS: tuple[str, ...] = ("unit_code", "phase", "target", "basis")
TRUTH_COLUMNS: tuple[str, ...] = (
    "source", "source_record_id", "initiative_id", "unit_code", "phase", "status", "eligible",
)

# Canonical vocabularies, in the order the generator indexes them.
STATUSES: tuple[str, ...] = ("valid", "pending", "rejected")
FIELDS: tuple[str, ...] = (
    "health", "education", "it", "admin_reform", "productivity", "osh", "production", "union_work", "other",
)
SOLUTION_TYPES: tuple[str, ...] = ("technical", "management", "operational", "applied_technology", "research")
