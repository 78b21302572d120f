"""The match index: the matcher's coded arrays of every resolved record, kept in the store.

An incremental night compares its delta only with the records that share a blocking key
with it. Finding those records, and reading their titles, authors, units and dates back
from ``records`` and coding them again, took most of a night at 2 M records; the index
keeps every resolved record already coded (:class:`sangkien.pipeline.match.Prepared`'s stable
codes) with its initiative id, so a night reads a few large binary segments, finds the
delta's blocks with array operations and decodes only the titles it compares.

Segments live in ``match_index`` and are written in the same transaction as the
initiatives and members, so the index never disagrees with them:

* a full resolution deletes every segment and writes base segments of at most
  :data:`SEGMENT_ROWS` records, in raw id order;
* an incremental one appends one segment with its delta: a record listed again
  supersedes its earlier row, and a record that left (no longer accepted) is listed
  with initiative -1.

A segment's payload is a JSON header (array name -> dtype, shape, offset) followed by
the raw arrays; nothing is pickled. A segment written under another code scheme
(:data:`sangkien.pipeline.match.CODE_SCHEME`) makes :func:`load` return None: the caller then
resolves in full, which rewrites the index.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import mmap
import os
import re
import struct
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.pipeline import match
from sangkien.pipeline.match.blocking import grouped, ranges, sorted_unique
from sangkien.pipeline.match.model import NO_DAY

log = logging.getLogger("sangkien.pipeline.match.index")

SEGMENT_ROWS = 500_000  # base segments stay well below the 1 GB a blob or bytea may hold
COMPACT_SHARE = 0.25  # an incremental run rewrites the index whole once its appended rows pass this share

_DAY32_MISSING = np.iinfo(np.int32).min
_ROW_ARRAYS = ("raw_id", "initiative", "unit", "title_code", "head", "tail", "portal", "author_set", "parents",
               "days", "n_authors")


@dataclass
class Rows:
    """Coded records: one row each (authors and title bytes flat, with offsets)."""

    raw_id: np.ndarray        # int64
    initiative: np.ndarray    # int64; -1: the record left (a tombstone)
    unit: np.ndarray
    title_code: np.ndarray
    head: np.ndarray
    tail: np.ndarray
    portal: np.ndarray
    author_set: np.ndarray    # code of the record's whole author set (match.Prepared.author_set)
    parents: np.ndarray       # (n, 2) codes of the unit's parents when the row was written (blocking reads them)
    days: np.ndarray          # (n, 3) int32 day numbers in match.DATE_COLUMNS order
    n_authors: np.ndarray     # int8
    authors: np.ndarray       # flat int64 codes, n_authors per row in row order
    title_bytes: np.ndarray   # uint8, the folded titles' UTF-8 one after another
    title_ends: np.ndarray    # int64 (n,): where each row's title ends in title_bytes

    @property
    def n(self) -> int:
        return len(self.raw_id)

    @classmethod
    def from_prepared(cls, raw_id: np.ndarray, initiative: np.ndarray, prep: match.Prepared) -> Rows:
        days = np.stack([prep.days[c] for c in match.DATE_COLUMNS], axis=1)
        days = np.where(days == NO_DAY, _DAY32_MISSING, days).astype(np.int32)
        assert prep.author_set is not None, "match.prepare codes every record's author set"
        encoded = [str(t).encode() for t in prep.title]
        title_bytes = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        ends = np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)))
        return cls(np.asarray(raw_id, dtype=np.int64), np.asarray(initiative, dtype=np.int64), prep.unit,
                   prep.title_code, prep.head, prep.tail, prep.portal, prep.author_set,
                   prep.parent_matrix(), days,
                   (prep.authors >= 0).sum(axis=1).astype(np.int8), prep.authors[prep.authors >= 0],
                   title_bytes, ends)

    @classmethod
    def tombstones(cls, raw_ids: np.ndarray) -> Rows:
        n = len(raw_ids)
        nothing = np.full(n, -1, dtype=np.int64)
        return cls(np.asarray(raw_ids, dtype=np.int64), nothing, nothing, nothing, nothing, nothing, nothing, nothing,
                   np.full((n, 2), -1, dtype=np.int64), np.full((n, 3), _DAY32_MISSING, dtype=np.int32),
                   np.zeros(n, dtype=np.int8),
                   np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint8), np.zeros(n, dtype=np.int64))

    def slice(self, start: int, stop: int) -> Rows:
        a0 = int(self.n_authors[:start].sum(dtype=np.int64))
        a1 = a0 + int(self.n_authors[start:stop].sum(dtype=np.int64))
        t0 = int(self.title_ends[start - 1]) if start else 0
        t1 = int(self.title_ends[stop - 1]) if stop > start else t0
        return Rows(**{f: getattr(self, f)[start:stop] for f in _ROW_ARRAYS[:-1]}, n_authors=self.n_authors[start:stop],
                    authors=self.authors[a0:a1], title_bytes=self.title_bytes[t0:t1],
                    title_ends=self.title_ends[start:stop] - t0)

    # --- payload --------------------------------------------------------------------------

    def to_bytes(self, keys: list[np.ndarray] | None = None) -> bytes:
        arrays = {f: getattr(self, f) for f in (*_ROW_ARRAYS, "authors", "title_bytes", "title_ends")}
        arrays.update({f"key{k}": a for k, a in enumerate(keys or [])})
        header: dict[str, list] = {}
        offset = 0
        for name, a in arrays.items():
            a = np.ascontiguousarray(a)
            arrays[name] = a
            header[name] = [a.dtype.str, list(a.shape), offset]
            offset += a.nbytes
        head = json.dumps(header).encode()
        return b"".join([struct.pack("<I", len(head)), head, *(a.tobytes() for a in arrays.values())])

    @classmethod
    def from_bytes(cls, payload: bytes | mmap.mmap) -> tuple[Rows, list[np.ndarray]]:
        """A segment's rows and its blocking keys."""
        (size,) = struct.unpack_from("<I", payload)
        header = json.loads(payload[4:4 + size])
        base = 4 + size
        ends = [off + np.dtype(dt).itemsize * int(np.prod(shape)) for dt, shape, off in header.values()]
        if base + max(ends, default=0) != len(payload):
            raise ValueError(f"a segment of {len(payload)} bytes whose arrays end at {base + max(ends, default=0)}")
        arrays = {name: np.frombuffer(payload, dtype=np.dtype(dt), count=int(np.prod(shape)),
                                      offset=base + off).reshape(shape)
                  for name, (dt, shape, off) in header.items()}
        keys = [arrays.pop(f"key{k}") for k in range(2 * len(match.BLOCKING_RULES)) if f"key{k}" in arrays]
        return cls(**arrays), keys


def concat(parts: list[Rows]) -> Rows:
    """Rows of several segments, in order."""
    if len(parts) == 1:
        return parts[0]
    shift = np.cumsum([0] + [len(p.title_bytes) for p in parts[:-1]])
    return Rows(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in _ROW_ARRAYS},
                authors=np.concatenate([p.authors for p in parts]),
                title_bytes=np.concatenate([p.title_bytes for p in parts]),
                title_ends=np.concatenate([p.title_ends + s for p, s in zip(parts, shift, strict=False)]))


def _author_matrix(r: Rows, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (len(rows), k) author codes of ``rows``, -1 padded, and each row's count."""
    starts = np.r_[0, np.cumsum(r.n_authors.astype(np.int64))]
    count = r.n_authors[rows].astype(np.int64)
    authors = np.full((len(rows), max(1, int(count.max(initial=0)))), -1, dtype=np.int64)
    for k in range(authors.shape[1]):
        has = np.flatnonzero(count > k)
        authors[has, k] = r.authors[starts[rows[has]] + k]
    return authors, count


def _blocking_view(r: Rows) -> match.Prepared:
    """What blocking reads of a segment's rows (titles left empty)."""
    n = r.n
    authors, count = _author_matrix(r, np.arange(n))
    applied = r.days[:, 0].astype(np.int64)
    applied[applied == _DAY32_MISSING] = NO_DAY
    empty = np.empty(0, dtype=np.int64)
    return match.Prepared(n, r.unit, r.parents, np.empty(0, dtype=object), empty, r.head, r.tail,
                          authors, count, {"applied_on": applied}, r.portal, r.author_set)


def segment_keys(r: Rows, model: match.MatchModel = match.DEFAULT_MODEL) -> list[np.ndarray]:
    """Per blocking rule, the segment's distinct (key, row) pairs sorted by key: [keys0, rows0, keys1, ...]."""
    out: list[np.ndarray] = []
    for keys, rows in match.blocking_keys(_blocking_view(r), model).values():
        ok = keys >= 0
        keys, rows = keys[ok], rows[ok]
        keys, rows = grouped(keys, rows)  # by key, then row (rows come in ascending order)
        fresh = np.r_[True, (keys[1:] != keys[:-1]) | (rows[1:] != rows[:-1])] if len(keys) else np.empty(0, bool)
        out += [keys[fresh], rows[fresh].astype(np.int32)]
    return out


@dataclass
class MatchIndex:
    """Every segment's rows, and which of them stand (a record's latest row, not a tombstone).

    Rows are numbered across segments (segment k's rows start at ``offsets[k]``); the
    segments' arrays are left where they were read (often a memory-mapped cache file)
    and gathered from per segment, never concatenated.
    """

    parts: list[Rows]
    raw_id: np.ndarray       # int64 per row, all segments
    initiative: np.ndarray   # int64 per row, all segments; -1 for a tombstone
    alive: np.ndarray        # bool per row
    base_rows: int           # rows of the base segments
    offsets: np.ndarray      # each segment's first row
    keys: list[list[np.ndarray]]  # each segment's segment_keys
    ordered: list[bool]      # whether a segment's raw ids ascend (base segments do), so they can be searched

    @property
    def n(self) -> int:
        return len(self.raw_id)

    @property
    def segments(self) -> int:
        return len(self.parts)

    @property
    def records(self) -> int:
        return int(self.alive.sum())

    def row_of(self, raw_ids: np.ndarray) -> np.ndarray:
        """Positions of the standing rows of ``raw_ids`` (absent ones left out)."""
        found = _rows_holding(self, np.asarray(raw_ids, dtype=np.int64))
        return found[self.alive[found]]

    def _by_segment(self, rows: np.ndarray) -> list[tuple[Rows, np.ndarray, np.ndarray]]:
        """(segment, where in ``rows``, local rows) for each segment that ``rows`` (sorted) meet."""
        bounds = np.searchsorted(rows, np.asarray(np.r_[self.offsets, self.n]))
        return [(part, np.arange(bounds[k], bounds[k + 1]), rows[bounds[k]:bounds[k + 1]] - self.offsets[k])
                for k, part in enumerate(self.parts) if bounds[k + 1] > bounds[k]]

    def titles(self, rows: np.ndarray) -> np.ndarray:
        """The folded titles of ``rows`` (sorted row positions)."""
        out = np.empty(len(rows), dtype=object)
        for part, at, local in self._by_segment(rows):
            out[at] = _titles(part, local)
        return out

    def prepared(self, rows: np.ndarray, parents: dict[str, tuple[str | None, str | None]] | None) -> match.Prepared:
        """The matcher's arrays of ``rows`` (sorted row positions), titles left None: only the pairs
        within reach of a match read theirs (:meth:`titles`, given to :func:`match.compare`)."""
        n = len(rows)
        pieces = self._by_segment(rows)
        width = max([1, *(int(part.n_authors[local].max(initial=0)) for part, _, local in pieces)])
        authors = np.full((n, width), -1, dtype=np.int64)
        count = np.zeros(n, dtype=np.int64)
        title = np.empty(n, dtype=object)
        days = np.empty((n, 3), dtype=np.int64)
        fields = {f: np.empty(n, dtype=np.int64)
                  for f in ("unit", "title_code", "head", "tail", "portal", "author_set")}
        for part, at, local in pieces:
            a, c = _author_matrix(part, local)
            authors[at, :a.shape[1]] = a
            count[at] = c
            days[at] = part.days[local]
            for f, out in fields.items():
                out[at] = getattr(part, f)[local]
        days[days == _DAY32_MISSING] = NO_DAY
        unit = fields["unit"]
        return match.Prepared(n, unit, _parents_of(unit, parents), title, fields["title_code"],
                              fields["head"], fields["tail"], authors, count,
                              {c: days[:, k] for k, c in enumerate(match.DATE_COLUMNS)}, fields["portal"],
                              fields["author_set"])

    def lookup(self, rule: int, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(key, index row) of every row, standing or not, holding one of the sorted ``keys`` under ``rule``."""
        found_k, found_r = [], []
        for offset, table in zip(self.offsets, self.keys, strict=False):
            stored, rows = table[2 * rule], table[2 * rule + 1]
            start, end = np.searchsorted(stored, keys, "left"), np.searchsorted(stored, keys, "right")
            count = end - start
            found_k.append(np.repeat(keys, count))
            found_r.append(offset + rows[ranges(start, count)].astype(np.int64))
        return np.concatenate(found_k), np.concatenate(found_r)


def _titles(part: Rows, local: np.ndarray) -> list[str]:
    """The folded titles of a segment's rows ``local``."""
    ends = part.title_ends
    begin = np.where(local > 0, ends[np.maximum(local - 1, 0)], 0).tolist()
    end = ends[local].tolist()
    view = part.title_bytes.data
    if len(local) * 8 > part.n and part.title_bytes.max(initial=0) < 128:
        text = str(view, "ascii")  # folded titles are ASCII: one decode, then slices (byte offsets are char offsets)
        return [text[a:b] for a, b in zip(begin, end, strict=False)]
    return [str(view[a:b], "utf-8") for a, b in zip(begin, end, strict=False)]


def _rows_holding(index: MatchIndex, raw_ids: np.ndarray) -> np.ndarray:
    """Every row (standing or not, sorted) whose record is one of ``raw_ids``.

    A segment in raw id order (a base one) is searched; the others (appended) are few."""
    found = []
    for k, part in enumerate(index.parts):
        if index.ordered[k]:
            pos = np.clip(np.searchsorted(part.raw_id, raw_ids), 0, max(part.n - 1, 0))
            hit = pos[part.raw_id[pos] == raw_ids] if part.n else pos[:0]
            found.append(index.offsets[k] + np.unique(hit))
        else:
            found.append(index.offsets[k] + np.flatnonzero(np.isin(part.raw_id, raw_ids)))
    return np.concatenate(found).astype(np.int64) if found else np.empty(0, dtype=np.int64)


def _parents_of(units: np.ndarray, parents: dict[str, tuple[str | None, str | None]] | None) -> np.ndarray:
    """(n, 2) parent codes for unit codes (as :func:`match.parent_codes` gives for unit names)."""
    out = np.full((len(units), 2), -1, dtype=np.int64)
    if not parents:
        return out
    names = list(parents)
    own = match.hash_codes(names)
    table = np.stack([match.hash_codes([parents[u][k] for u in names]) for k in range(2)], axis=1)
    order = np.argsort(own)
    pos = np.clip(np.searchsorted(own[order], units), 0, len(own) - 1)
    hit = own[order][pos] == units
    out[hit] = table[order][pos[hit]]
    return out


def is_current(conn: Connection) -> bool:
    """Whether a stored index exists and is coded under this scheme (what :func:`load` would return), without
    reading its segments."""
    t = store.match_index.c
    schemes = conn.execute(sa.select(t.scheme).distinct()).scalars().all()
    return bool(schemes) and all(s == match.CODE_SCHEME for s in schemes)


def load(conn: Connection) -> MatchIndex | None:
    """The stored index, or None when there is none or it was coded under another scheme.

    A segment whose file is in the local cache (:func:`cache_dir`) is mapped from it; the
    others are fetched from the store (and cached for the next run)."""
    t = store.match_index.c
    segments = conn.execute(sa.select(t.seq, t.scheme, t.created_run, t.token).order_by(t.seq)).all()
    if not segments or any(s.scheme != match.CODE_SCHEME for s in segments):
        return None
    cache = cache_dir(conn)
    parts, keys, offsets, base_rows, at = [], [], [], 0, 0
    for seq, _scheme, created, token in segments:
        part, part_keys = _from_cache(cache, token)
        if part is None:
            payload = bytes(conn.execute(sa.select(t.payload).where(t.seq == seq)).scalar_one())
            if token:  # segments written before tokens (0005) have no file of their own
                _cache(cache, token, payload)
            part, part_keys = Rows.from_bytes(payload)
        if len(part_keys) != 2 * len(match.BLOCKING_RULES):
            return None  # written before the index kept its keys: rebuilt by a full run
        parts.append(part)
        keys.append(part_keys)
        offsets.append(at)
        at += part.n
        if created == _BASE:
            base_rows += part.n
    _prune(cache, {s.token for s in segments})
    raw_id = np.concatenate([p.raw_id for p in parts])
    initiative = np.concatenate([p.initiative for p in parts])
    ordered = [bool(np.all(p.raw_id[1:] > p.raw_id[:-1])) for p in parts]
    index = MatchIndex(parts, raw_id, initiative, np.ones(len(raw_id), dtype=bool), base_rows,
                       np.asarray(offsets, dtype=np.int64), keys, ordered)
    # a record's latest row stands, a tombstone stands for nothing: an appended segment's records
    # supersede their rows in every segment before it
    for k in range(len(parts) - 1, -1, -1):
        if offsets[k] < base_rows:
            break
        earlier = _rows_holding(index, parts[k].raw_id)
        index.alive[earlier[earlier < offsets[k]]] = False
    index.alive &= initiative >= 0
    return index


_BASE = -1  # created_run of a base segment (one a full run or a compaction wrote)


def write_base(conn: Connection, rows: Rows) -> None:
    """Replace the index with ``rows`` (every resolved record, in raw id order)."""
    conn.execute(store.match_index.delete())
    tokens = {_insert(conn, rows.slice(start, min(start + SEGMENT_ROWS, rows.n)), _BASE)
              for start in range(0, rows.n, SEGMENT_ROWS)}
    _prune(cache_dir(conn), tokens)  # the old segments' files (refetched from the store if this rolls back)


def append(conn: Connection, index: MatchIndex, rows: Rows, run_id: int | None) -> None:
    """Add an incremental run's rows; rewrite the index whole when appended rows grow past COMPACT_SHARE."""
    appended = index.n - index.base_rows + rows.n
    if appended > COMPACT_SHARE * max(index.base_rows, 1):
        merged = concat([*index.parts, rows])
        alive = np.r_[index.alive, rows.initiative >= 0]
        alive[_rows_holding(index, rows.raw_id)] = False  # superseded by ``rows``
        keep = np.flatnonzero(alive)
        keep = keep[np.argsort(merged.raw_id[keep], kind="stable")]
        write_base(conn, _take(merged, keep))
        return
    _insert(conn, rows, run_id if run_id is not None else 0)


def _take(rows: Rows, keep: np.ndarray) -> Rows:
    starts = np.r_[0, np.cumsum(rows.n_authors.astype(np.int64))]
    begin = np.r_[0, rows.title_ends[:-1]][keep]
    length = rows.title_ends[keep] - begin
    return Rows(**{f: getattr(rows, f)[keep] for f in _ROW_ARRAYS},
                authors=rows.authors[ranges(starts[keep], rows.n_authors[keep].astype(np.int64))],
                title_bytes=rows.title_bytes[ranges(begin, length)], title_ends=np.cumsum(length))


def _insert(conn: Connection, rows: Rows, created_run: int | None) -> str:
    """Store a segment of ``rows`` and cache it; its token."""
    payload = rows.to_bytes(segment_keys(rows))
    token = uuid.uuid4().hex
    conn.execute(store.match_index.insert().values(scheme=match.CODE_SCHEME, rows=rows.n, created_run=created_run,
                                                   token=token, payload=payload))
    _cache(cache_dir(conn), token, payload)  # a rolled-back run leaves a file no segment names: pruned later
    return token


# --- the local cache ----------------------------------------------------------------------
# A night reads every segment (hundreds of MB at 2 M records). Segments never change once
# written, and each has a random token, so a file named by its token can stand in for the
# payload: the night maps it instead of fetching it from the store. A file cut short (or
# longer than its header says) is ignored; anything the cache cannot do (no home, a
# read-only disk) falls back to the store.

CACHE_ENV = "SANGKIEN_INDEX_CACHE"
_TOKEN = re.compile(r"[0-9a-f]{32}")


def cache_dir(conn: Connection) -> Path | None:
    """This store's folder of cached segments, or None (an in-memory store, or the cache turned off).

    ``SANGKIEN_INDEX_CACHE`` names the root (``off`` turns the cache off); by default it is
    ``$XDG_CACHE_HOME/sangkien/match-index`` (``~/.cache/...``). Each store has its own folder,
    named by a hash of its URL (a SQLite file's absolute path)."""
    root = os.environ.get(CACHE_ENV)
    if root == "off":
        return None
    url = conn.engine.url
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            return None
        ident = str(Path(url.database).resolve())
    else:
        ident = url.render_as_string(hide_password=True)
    if not root:
        try:
            root = str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sangkien" / "match-index")
        except RuntimeError:  # no home directory to be found: no cache
            return None
    return Path(root) / hashlib.sha256(ident.encode()).hexdigest()[:24]


def _from_cache(folder: Path | None, token: str | None) -> tuple[Rows | None, list[np.ndarray]]:
    """A segment mapped from its cached file, or (None, []) when the file is missing or not whole
    (its header must account for its every byte)."""
    if folder is None or not token or not _TOKEN.fullmatch(token):
        return None, []
    try:
        with open(folder / token, "rb") as f:
            if os.fstat(f.fileno()).st_size < 4:
                return None, []
            return Rows.from_bytes(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
    except (OSError, ValueError, TypeError, KeyError) as exc:  # unreadable, or not a segment
        log.info("match index cache file %s not used (%s): reading the store", token, exc)
        return None, []


def _cache(folder: Path | None, token: str, payload: bytes) -> None:
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f"{token}.part{os.getpid()}"
        part.write_bytes(payload)
        os.replace(part, folder / token)
    except OSError as exc:
        log.info("match index cache not written (%s): the next run reads the store", exc)


def _prune(folder: Path | None, tokens: set[str]) -> None:
    """Remove the files of segments the store no longer holds (and leftovers of interrupted writes)."""
    if folder is None or not folder.is_dir():
        return
    for path in folder.iterdir():
        name = path.name
        stale = (_TOKEN.fullmatch(name) and name not in tokens) or (".part" in name and _older_than(path, 3600))
        if stale:
            with contextlib.suppress(OSError):
                path.unlink()


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False


def delta_pairs(index: MatchIndex, standing: np.ndarray, delta: match.Prepared,
                model: match.MatchModel = match.DEFAULT_MODEL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidate pairs a full run would make that hold a ``delta`` record, the others being the
    ``standing`` index rows: ``(near, i, j)`` with ``near`` the index rows met and i < j positions in
    ``near`` followed by the delta's rows.

    Per blocking rule: the delta's keys are looked up in each segment's sorted keys; a block (its
    standing rows and delta rows) of 2 to ``model.max_block`` records pairs every delta row with
    every other member, as :func:`match.candidate_pairs` pairs all of a block's members.
    """
    total = index.n
    codes = []
    for rule, (dkeys, drows) in enumerate(match.blocking_keys(delta, model).values()):
        ok = dkeys >= 0
        dk = pd.DataFrame({"k": dkeys[ok], "r": drows[ok] + total}).drop_duplicates()
        if dk.empty:
            continue
        wanted = sorted_unique(dk["k"].to_numpy())
        hit_k, hit_r = index.lookup(rule, wanted)
        keep = standing[hit_r]
        key = np.r_[hit_k[keep], dk["k"].to_numpy()]
        member = np.r_[hit_r[keep], dk["r"].to_numpy()]
        order = np.lexsort((member, key))
        key, member = key[order], member[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        sizes = np.diff(np.r_[starts, len(key)])
        block = np.repeat(np.arange(len(starts)), sizes)
        mine = np.flatnonzero((member >= total) & (sizes[block] >= 2) & (sizes[block] <= model.max_block))
        b = block[mine]
        left = np.repeat(member[mine], sizes[b])
        right = member[ranges(starts[b], sizes[b])]
        other = left != right
        left, right = left[other], right[other]
        codes.append(sorted_unique(np.minimum(left, right) * np.int64(total + delta.n)
                                          + np.maximum(left, right)))
    code = sorted_unique(np.concatenate(codes)) if codes else np.empty(0, dtype=np.int64)
    lo, hi = code // (total + delta.n), code % (total + delta.n)
    near = sorted_unique(lo[lo < total])
    near = sorted_unique(np.r_[near, hi[hi < total]])

    def position(g: np.ndarray) -> np.ndarray:
        return np.where(g < total, np.searchsorted(near, g), len(near) + g - total)

    i, j = position(lo), position(hi)
    return near, np.minimum(i, j), np.maximum(i, j)
