"""The payload a node pushes to the node above: consolidated counts, version 1.

A child node sends, for one as-of time, its counts per unit and phase on every
counting basis (duplicates already removed) and one entry per initiative it counts.
An entry carries no names: only keyed hashes (HMAC-SHA256 under the program key all
nodes share) of the initiative's match keys and of its registrants, so the node above
can count an initiative that reaches it through two parents (a province and a sector
union) once, and a person once, without receiving personal data.

``idempotency_key`` is derived from (node, as-of, content): sending the same thing
twice is recognised and answered with the first receipt. docs/tiers.md describes the
exchange; this module is its executable form.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt

PAYLOAD_VERSION = 1

UnitCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
HashKey = Annotated[str, Field(min_length=16, max_length=64, pattern=r"^[0-9a-f]+$")]
Phase = Annotated[int, Field(ge=1, le=99)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnitCounts(_Strict):
    """One unit's counts for one phase, over the sender's whole subtree of that unit."""

    unit_code: UnitCode
    phase: Phase
    records: NonNegativeInt = Field(description="submissions: source records counted (eligible or not)")
    initiatives: NonNegativeInt = Field(description="distinct initiatives after deduplication")
    valid: NonNegativeInt
    pending: NonNegativeInt
    rejected: NonNegativeInt
    ineligible: NonNegativeInt = Field(description="records that cannot count (not recognized, out of window)")
    registrants: NonNegativeInt = Field(description="distinct people among the authors")
    benefit_vnd: NonNegativeFloat = Field(description="sum of the initiatives' declared benefit, in đồng")
    duplicates_removed: NonNegativeInt = Field(description="records folded into an initiative another record stands for")


class InitiativeEntry(_Strict):
    """One initiative the sender counts, identified only by keyed hashes."""

    keys: list[HashKey] = Field(min_length=1, max_length=64,
                                description="HMAC of each of the initiative's match keys (portal id; unit, title and date)")
    unit_code: UnitCode = Field(description="the grassroots unit the initiative is counted under")
    phase: Phase
    status: Literal["valid", "pending", "rejected"]
    benefit_vnd: NonNegativeFloat | None = None
    records: int = Field(ge=1, le=10_000, description="source records the sender folded into this initiative")
    people: list[HashKey] = Field(default_factory=list, max_length=200,
                                  description="HMAC of each registrant's key (unit and folded name)")


class Submission(_Strict):
    """What a child node pushes: everything the node above needs to count its subtree."""

    version: Literal[1] = PAYLOAD_VERSION
    node: UnitCode = Field(description="the sending node's org unit")
    as_of: AwareDatetime = Field(description="when the sender's counts were computed")
    idempotency_key: str = Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9:._-]+$")
    units: list[UnitCounts] = Field(max_length=200_000)
    initiatives: list[InitiativeEntry] = Field(max_length=5_000_000)


class Receipt(_Strict):
    """What the node above answers, and what the sender stores."""

    submission_id: int
    node: str
    as_of: AwareDatetime
    idempotency_key: str
    content_hash: str
    received_at: AwareDatetime
    units: int
    initiatives: int
    replayed: bool = Field(False, description="true when this key was received before: this is the first receipt")


def content_hash(units: list[UnitCounts], initiatives: list[InitiativeEntry]) -> str:
    """A stable hash of what a submission says (not when or by whom): unchanged counts hash the same."""
    digest = hashlib.sha256()
    for unit in sorted(units, key=lambda u: (u.unit_code, u.phase)):
        digest.update(json.dumps(unit.model_dump(mode="json"), sort_keys=True).encode())
    for entry in sorted(initiatives, key=lambda e: e.keys):
        digest.update(json.dumps(entry.model_dump(mode="json"), sort_keys=True).encode())
    return digest.hexdigest()


def idempotency_key(node: str, as_of: dt.datetime, content: str) -> str:
    """The key for (node, as-of, content): the same push sent twice carries the same key."""
    stamp = as_of.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{node}:{stamp}:{content[:32]}"
