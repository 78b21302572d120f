"""Initiatives, drawn vectorized over the grassroots units: unit, field, status, title, authors, dates, benefit."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sandbox.generate.constants import FIELDS
from sandbox.generate.dates import _SUBMIT_FIRST, _SUBMIT_LAST, _UPDATED_LAST, PHASE1_LAST, PROGRAM_START
from sandbox.generate.orgs import _OrgTree
from sandbox.generate.text import fold_text
from sandbox.generate.vocab import (
    _FAMILY_NAMES,
    _FEMALE_GIVEN,
    _FEMALE_MIDDLE,
    _MALE_GIVEN,
    _MALE_MIDDLE,
    _TITLE_LEADS,
    _TITLE_OBJECTS,
    _TITLE_PLACES,
    _TITLE_SUFFIXES,
    _TITLE_VERBS,
)


@dataclass
class _Initiatives:
    unit: np.ndarray        # int32 index into grassroots
    field: np.ndarray       # int8 index into FIELDS
    stype: np.ndarray       # int8 index into SOLUTION_TYPES
    status: np.ndarray      # int8 index into STATUSES
    title: np.ndarray       # object, NFC
    authors: np.ndarray     # int32 (n, 4) indices into the person table (first n_authors used)
    n_authors: np.ndarray   # int8 in 1..4
    recognized: np.ndarray  # int32 day numbers
    applied: np.ndarray
    submitted: np.ndarray
    updated: np.ndarray     # int64 seconds since epoch
    benefit: np.ndarray     # int64 VND, -1 when absent
    person_name: np.ndarray          # object: person -> "Family Middle Given"
    person_name_swapped: np.ndarray  # object: person -> "Given Family Middle"

    @property
    def phase(self) -> np.ndarray:
        return np.where(self.submitted <= PHASE1_LAST, 1, 2).astype(np.int8)

    @property
    def eligible(self) -> np.ndarray:
        return self.applied >= PROGRAM_START


@dataclass(frozen=True)
class _TitleVocab:
    leads: np.ndarray
    leads_f: np.ndarray
    verbs: np.ndarray
    verbs_f: np.ndarray
    objects: np.ndarray
    objects_f: np.ndarray
    object_start: np.ndarray
    object_count: np.ndarray
    places: np.ndarray
    places_f: np.ndarray
    place_start: np.ndarray
    place_count: np.ndarray
    suffixes: np.ndarray
    suffixes_f: np.ndarray


@functools.cache
def _title_vocab() -> _TitleVocab:
    def arrays(items: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return np.array(items, dtype=object), np.array([fold_text(s) for s in items], dtype=object)

    def grouped(groups: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        flat = [s for g in groups for s in g]
        counts = np.array([len(g) for g in groups])
        return (*arrays(flat), np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)

    suffixes = np.array(_TITLE_SUFFIXES, dtype=object)
    suffixes_f = np.array([(" " + fold_text(s)) if s else "" for s in _TITLE_SUFFIXES], dtype=object)
    return _TitleVocab(*arrays(_TITLE_LEADS), *arrays(_TITLE_VERBS), *grouped(_TITLE_OBJECTS),
                       *grouped(_TITLE_PLACES), suffixes, suffixes_f)


@functools.cache
def _person_names() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All name combinations: (normal order, given-name-first order, sampling probability)."""
    normal, swapped, weight = [], [], []
    for middles, givens in ((_MALE_MIDDLE, _MALE_GIVEN), (_FEMALE_MIDDLE, _FEMALE_GIVEN)):
        for family, w in _FAMILY_NAMES:
            for middle in middles:
                for given in givens:
                    normal.append(f"{family} {middle} {given}")
                    swapped.append(f"{given} {family} {middle}")
                    weight.append(w / (len(middles) * len(givens)))
    p = np.array(weight)
    return np.array(normal, dtype=object), np.array(swapped, dtype=object), p / p.sum()


def _draw_titles(rng: np.random.Generator, field: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Titles (NFC) and their folded form, composed from the field's vocabulary."""
    v = _title_vocab()
    n = len(field)
    obj = v.object_start[field] + (rng.random(n) * v.object_count[field]).astype(np.int64)
    place = v.place_start[field] + (rng.random(n) * v.place_count[field]).astype(np.int64)
    lead = rng.integers(0, len(v.leads), n)
    verb = rng.integers(0, len(v.verbs), n)
    suffix = rng.integers(0, len(v.suffixes), n)
    title = v.leads[lead] + " " + v.verbs[verb] + " " + v.objects[obj] + " " + v.places[place] + v.suffixes[suffix]
    folded = (v.leads_f[lead] + " " + v.verbs_f[verb] + " " + v.objects_f[obj] + " " + v.places_f[place]
              + v.suffixes_f[suffix])
    return title, folded


def _draw_initiatives(rng: np.random.Generator, tree: _OrgTree, n: int) -> _Initiatives:
    """Draw ``n`` initiatives over the grassroots units of ``tree`` (vectorized)."""
    g = tree.grassroots
    n_units = len(g)
    weight = rng.lognormal(0.0, 0.7, n_units)
    unit = rng.choice(n_units, size=n, p=weight / weight.sum()).astype(np.int32)

    primary = g["field"].to_numpy()[unit]
    field = np.where(rng.random(n) < 0.7, primary, rng.integers(0, 8, n)).astype(np.int8)
    field[rng.random(n) < 0.03] = FIELDS.index("other")
    stype = rng.choice(5, size=n, p=[0.35, 0.25, 0.20, 0.15, 0.05]).astype(np.int8)
    status = rng.choice(3, size=n, p=[0.80, 0.12, 0.08]).astype(np.int8)

    # Submission dates: spread over the program, with a rush before each phase deadline.
    rush = rng.random(n)
    submitted = rng.integers(_SUBMIT_FIRST, _SUBMIT_LAST + 1, n)
    submitted = np.where(rush < 0.10, rng.integers(PHASE1_LAST - 45, PHASE1_LAST + 1, n), submitted)
    submitted = np.where(rush > 0.90, rng.integers(_SUBMIT_LAST - 60, _SUBMIT_LAST + 1, n), submitted)
    max_gap = np.minimum(180, submitted - PROGRAM_START)
    applied = submitted - 1 - (rng.random(n) * max_gap).astype(np.int64)
    early = rng.random(n) < 0.02  # applied before the program: not eligible
    applied = np.where(early, PROGRAM_START - 1 - rng.integers(0, 240, n), applied)
    recognized = applied + (rng.random(n) * (submitted - applied)).astype(np.int64)
    seconds = rng.integers(7 * 3600, 22 * 3600, n)
    updated_day = np.minimum(submitted + rng.integers(0, 120, n), _UPDATED_LAST)
    updated = updated_day.astype(np.int64) * 86400 + seconds

    has_benefit = rng.random(n) < 0.45
    benefit = np.round(np.exp(rng.normal(16.5, 1.3, n)), -3).astype(np.int64)
    benefit = np.where(has_benefit, np.maximum(benefit, 1000), -1)

    # Authors come from a roster per unit (co-authors are roster neighbours: teams).
    per_unit = np.bincount(unit, minlength=n_units)
    roster = np.maximum(4, np.ceil(per_unit * 0.8)).astype(np.int64)
    roster_start = np.concatenate([[0], np.cumsum(roster)[:-1]])
    names, names_swapped, p = _person_names()
    person = rng.choice(len(names), size=int(roster.sum()), p=p)
    first = (rng.random(n) * roster[unit]).astype(np.int64)
    authors = np.stack([roster_start[unit] + (first + j) % roster[unit] for j in range(4)], axis=1)
    n_authors = rng.choice(4, size=n, p=[0.45, 0.30, 0.15, 0.10]).astype(np.int8) + 1

    title, folded = _draw_titles(rng, field)
    # No two initiatives of one unit share a folded title and an application date.
    for _ in range(50):
        dup = pd.DataFrame({"u": unit, "t": folded, "a": applied}).duplicated().to_numpy()
        if not dup.any():
            break
        title[dup], folded[dup] = _draw_titles(rng, field[dup])
    else:  # pragma: no cover - vocabulary far larger than any unit
        raise RuntimeError("could not draw distinct titles; the title vocabulary is too small")

    return _Initiatives(unit=unit, field=field, stype=stype, status=status, title=title,
                        authors=authors.astype(np.int32), n_authors=n_authors,
                        recognized=recognized.astype(np.int32), applied=applied.astype(np.int32),
                        submitted=submitted.astype(np.int32), updated=updated, benefit=benefit,
                        person_name=names[person], person_name_swapped=names_swapped[person])
