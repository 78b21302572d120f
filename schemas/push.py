"""The payload a node pushes to the node above: consolidated counts, version 1.

A child node sends, for one as-of time, its counts per unit and phase on every
counting basis (duplicates already removed) and one entry per initiative it counts.
An entry carries no names: only keyed hashes (HMAC-SHA256 under the program key all
nodes share) of the initiative's match keys and of its registrants, so the node above
can count an initiative that reaches it through two parents (a province and a sector
union) once, and a person once, without receiving personal data.

A submission is for one program (``program``, its code at both nodes). A sender counting the
default program ``1trieu`` leaves it out, as senders did before programs existed, so an older
node above still takes it; the node above counts a submission without one for ``1trieu``.

``idempotency_key`` is derived from (node, as-of, content, program): sending the same thing
twice is recognised and answered with the first receipt. docs/tiers.md describes the
exchange; this module is its executable form.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

PAYLOAD_VERSION: Final = 1

UnitCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
ProgramCode = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
DEFAULT_PROGRAM: Final = "1trieu"  # a submission without a program counts for it
HashKey = Annotated[str, Field(min_length=16, max_length=64, pattern=r"^[0-9a-f]+$")]
Phase = Annotated[int, Field(ge=1, le=99)]


Count = Annotated[int, Field(ge=0, le=2_000_000_000)]
Amount = Annotated[float, Field(ge=0, le=1e18)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class UnitCounts(_Strict):
    """One unit's counts for one phase, over the sender's whole subtree of that unit."""

    unit_code: UnitCode
    phase: Phase
    records: Count = Field(description="submissions: source records counted (eligible or not)")
    initiatives: Count = Field(description="distinct initiatives after deduplication")
    valid: Count
    pending: Count
    rejected: Count
    ineligible: Count = Field(description="records that cannot count (not recognized, out of window)")
    registrants: Count = Field(description="distinct people among the authors")
    benefit_vnd: Amount = Field(description="sum of the initiatives' declared benefit, in đồng")
    duplicates_removed: Count = Field(description="records folded into an initiative another record stands for")


class InitiativeEntry(_Strict):
    """One initiative the sender counts, identified only by keyed hashes."""

    keys: list[HashKey] = Field(
        min_length=1, max_length=64,
        description="HMAC of each of the initiative's match keys (portal id; unit, title and date)")
    unit_code: UnitCode = Field(description="the grassroots unit the initiative is counted under")
    phase: Phase
    status: Literal["valid", "pending", "rejected"]
    benefit_vnd: Amount | None = None
    records: int = Field(ge=1, le=10_000, description="source records the sender folded into this initiative")
    people: list[HashKey] = Field(default_factory=list, max_length=200,
                                  description="HMAC of each registrant's key (unit and folded name)")
    submitted_on: dt.date | None = Field(default=None, description=(
        "the day it was first submitted, so that the node above can rank per quarter; sent only by a node whose "
        "push_dates setting is on (a node above older than this field refuses it)"))


class IneligibleCount(_Strict):
    """Records that cannot count (not recognized, applied outside the window), by the unit they name."""

    unit_code: UnitCode
    phase: Phase
    records: int = Field(ge=1, le=2_000_000_000)


class Submission(_Strict):
    """What a child node pushes: everything the node above needs to count its subtree."""

    version: Literal[1] = PAYLOAD_VERSION
    node: UnitCode = Field(description="the sending node's org unit")
    program: ProgramCode | None = Field(default=None, description="the program the counts are for (absent: 1trieu, "
                                                                  "the 2022-2023 program); phases are its phases")
    as_of: AwareDatetime = Field(description="when the sender's counts were computed; at most an hour ahead of the "
                                             "receiving node's clock (else 422)")
    idempotency_key: str = Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9:._-]+$")
    units: list[UnitCounts] = Field(max_length=200_000, description="one row per unit and phase (else 422)")
    initiatives: list[InitiativeEntry] = Field(max_length=5_000_000)
    ineligible: list[IneligibleCount] = Field(default_factory=list, max_length=200_000,
                                              description="one row per unit and phase (else 422)")

    @model_validator(mode="after")
    def _one_row_per_unit_and_phase(self) -> Submission:
        groups: tuple[tuple[str, Sequence[UnitCounts | IneligibleCount]], ...] = (
            ("units", self.units), ("ineligible", self.ineligible))
        for name, rows in groups:
            seen: set[tuple[str, int]] = set()
            for n, row in enumerate(rows):
                if (row.unit_code, row.phase) in seen:
                    raise ValueError(f"{name}[{n}]: unit {row.unit_code} phase {row.phase} is listed twice")
                seen.add((row.unit_code, row.phase))
        return self


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
    replayed: bool = Field(default=False,
                           description="true when this key was received before: this is the first receipt")


def content_hash(units: list[UnitCounts], initiatives: list[InitiativeEntry],
                 ineligible: list[IneligibleCount], program: str | None = None) -> str:
    """A stable hash of what a submission says (not when or by whom): unchanged counts hash the same. The same
    counts for another program hash differently (the default program's hash as before programs existed)."""
    digest = hashlib.sha256()
    if program not in (None, DEFAULT_PROGRAM):
        digest.update(f"program:{program}\x00".encode())
    digest.update(_UNITS.dump_json(sorted(units, key=lambda u: (u.unit_code, u.phase))))
    digest.update(b"\x00")
    digest.update(_ENTRIES.dump_json(sorted(initiatives, key=lambda e: e.keys), exclude=_undated(initiatives)))
    digest.update(b"\x00")
    digest.update(_INELIGIBLE.dump_json(sorted(ineligible, key=lambda i: (i.unit_code, i.phase))))
    return digest.hexdigest()


def _undated(initiatives: Sequence[InitiativeEntry]) -> dict[str, set[str]] | None:
    """Leave ``submitted_on`` out of entries that carry none (as payloads were before it existed)."""
    return None if any(e.submitted_on is not None for e in initiatives) else {"__all__": {"submitted_on"}}


def wire_exclude(submission: Submission) -> dict[str, Any] | None:
    """What to leave out of ``submission`` on the wire: the fields that were not there before programs and dates,
    when they are empty, so that a node above that predates them takes the push."""
    exclude: dict[str, Any] = {}
    if submission.program is None:
        exclude["program"] = True
    if _undated(submission.initiatives):
        exclude["initiatives"] = {"__all__": {"submitted_on"}}
    return exclude or None


_UNITS = TypeAdapter(list[UnitCounts])
_ENTRIES = TypeAdapter(list[InitiativeEntry])
_INELIGIBLE = TypeAdapter(list[IneligibleCount])


#: How the node above stores an entry's list of hashes (its ``keys``, its ``people``) as one text: joined by
#: KEY_SEPARATOR, which a hash (hex digits) never contains; an empty list is the empty text.
KEY_SEPARATOR = "|"


def join_keys(hashes: Iterable[str]) -> str:
    """An entry's hashes as the one text they are stored as (split again with ``str.split(KEY_SEPARATOR)``)."""
    return KEY_SEPARATOR.join(hashes)


def idempotency_key(node: str, as_of: dt.datetime, content: str) -> str:
    """The key for (node, as-of, content): the same push sent twice carries the same key."""
    stamp = as_of.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{node}:{stamp}:{content[:32]}"
