"""One source's rows as canonical field -> column values: labels, ids, file keys and noise applied."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sandbox.generate.dates import PHASE1_LAST
from sandbox.generate.initiatives import _Initiatives
from sandbox.generate.noise import _noise_flags, _typo
from sandbox.generate.orgs import _OrgTree
from sandbox.generate.realnoise import apply_real, real_flags
from sandbox.generate.sources import _REGION_FILES, _SourceSpec
from sandbox.generate.text import _map_text, _strip_table, strip_diacritics
from sandbox.generate.vocab import _FIELD_LABELS, _SOLUTION_TYPE_LABELS, _STATUS_LABELS


def _styled_labels(labels: Sequence[str], style: str) -> np.ndarray:
    styled = {"asis": lambda s: s, "upper": str.upper, "lower": str.lower, "ascii": strip_diacritics}[style]
    return np.array([styled(s) for s in labels], dtype=object)


def _labels(codes: np.ndarray, labels: Sequence[str], style: str, fmt_rng: np.random.Generator) -> np.ndarray:
    if style == "mixed":  # consolidated from many provinces: some typed with diacritics, some without
        with_marks = fmt_rng.random(len(codes)) < 0.6
        return np.where(with_marks, _styled_labels(labels, "asis")[codes], _styled_labels(labels, "ascii")[codes])
    return _styled_labels(labels, style)[codes]


@dataclass
class _RenderContext:
    seed: int
    noise: str
    tree: _OrgTree
    world: _Initiatives
    copies: np.ndarray          # per initiative: number of sources holding it
    portal_ids: np.ndarray      # per initiative: portal id or "" when not on the portal
    unit_variants: np.ndarray


def _record_ids(spec: _SourceSpec, rows: np.ndarray, ctx: _RenderContext) -> np.ndarray:
    """The source's own record ids for ``rows`` (initiative indices in file order); unique within the source."""
    n = len(rows)
    seq = np.arange(1, n + 1)
    submitted = ctx.world.submitted[rows]
    years = (submitted.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970)
    if spec.id_scheme == "portal":
        return np.array([str(1_000_000 + s) for s in seq.tolist()], dtype=object)
    if spec.id_scheme in ("hanoi", "nganhang"):
        in_year = pd.Series(years).groupby(years).cumcount().to_numpy() + 1
        fmt = "HN-{}-{:06d}" if spec.id_scheme == "hanoi" else "NH/{}/{:05d}"
        return np.array([fmt.format(y, s) for y, s in zip(years.tolist(), in_year.tolist(), strict=False)],
                        dtype=object)
    if spec.id_scheme == "baocao_tinh":
        province = ctx.tree.grassroots["province"].to_numpy()[ctx.world.unit[rows]]
        in_prov = pd.Series(province).groupby(province).cumcount().to_numpy() + 1
        return np.array([f"BC{p[1:]}-{s:06d}" for p, s in zip(province.tolist(), in_prov.tolist(), strict=False)],
                        dtype=object)
    prefix = {"thaibinh_yte": "TBYT-", "hcm": "HCM-", "danang": "DN-"}[spec.id_scheme]
    width = max(5, len(str(n)))
    return np.array([f"{prefix}{s:0{width}d}" for s in seq.tolist()], dtype=object)


def _file_keys(spec: _SourceSpec, rows: np.ndarray, ctx: _RenderContext) -> np.ndarray:
    """File name (without extension) for each row."""
    submitted = ctx.world.submitted[rows]
    years = submitted.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    if spec.split == "year":
        return np.array([f"{spec.stem}_{y}" for y in years.tolist()], dtype=object)
    if spec.split == "phase":
        return np.where(submitted <= PHASE1_LAST, f"{spec.stem}_dot1", f"{spec.stem}_dot2").astype(object)
    if spec.split == "two_years":
        return np.where(years <= 2022, f"{spec.stem}_2021-2022", f"{spec.stem}_2023").astype(object)
    if spec.split == "region":
        region = ctx.tree.grassroots["region"].to_numpy()[ctx.world.unit[rows]]
        return np.array([f"{spec.stem}_{_REGION_FILES[r]}" for r in region.tolist()], dtype=object)
    return np.full(len(rows), spec.stem, dtype=object)


def _render(spec: _SourceSpec, index: int, rows: np.ndarray, ctx: _RenderContext) -> dict[str, np.ndarray]:
    """Canonical field -> column values for the source's rows, noise applied, not yet in the source's text form.

    Dates stay int day numbers and ``updated_at`` int seconds; ``benefit_vnd`` is int64 (-1 when empty).
    """
    w, g = ctx.world, ctx.tree.grassroots
    fmt_rng = np.random.default_rng([ctx.seed, 200 + index])
    noise_rng = np.random.default_rng([ctx.seed, 300 + index])
    n = len(rows)
    real = ctx.noise.startswith("real")
    flags = (real_flags if real else _noise_flags)(noise_rng, ctx.copies[rows], ctx.noise)
    out: dict[str, np.ndarray] = {}

    title = w.title[rows].copy()
    plain = flags["title_plain"]
    title[plain] = _map_text(lambda s: s.translate(_strip_table()), title[plain])
    typo = np.flatnonzero(flags["title_typo"])
    where, how = noise_rng.random(len(typo)), noise_rng.integers(0, 3, len(typo))
    title[typo] = [_typo(title[i], wh, int(hw)) for i, wh, hw in zip(typo, where, how, strict=False)]
    n_auth = w.n_authors[rows] - (flags["coauthor_dropped"] & (w.n_authors[rows] >= 2))
    swapped = flags["authors_swapped"]
    names = [np.where(swapped, w.person_name_swapped[w.authors[rows, j]], w.person_name[w.authors[rows, j]])
             for j in range(4)]
    if real:  # its own random stream: the draws above stay those of the other levels
        title, names = apply_real(title, names, flags, np.random.default_rng([ctx.seed, 400 + index]))
    out["title"] = title
    authors = names[0]
    for j in range(1, len(names)):
        authors = np.where(n_auth > j, authors + spec.authors_joiner + names[j], authors)
    out["authors"] = authors

    unit = w.unit[rows]
    variant = ctx.unit_variants[unit, noise_rng.integers(0, ctx.unit_variants.shape[1], n)]
    if spec.unit_as == "code":
        out["unit"] = np.where(flags["unit_variant"], variant, g["code"].to_numpy(dtype=object)[unit])
    else:
        out["unit"] = np.where(flags["unit_variant"], variant, g["name"].to_numpy(dtype=object)[unit])

    dates = {"recognized_on": w.recognized[rows].copy(), "applied_on": w.applied[rows].copy(),
             "submitted_at": w.submitted[rows].copy()}
    shifted = np.flatnonzero(flags["date_shifted"])
    which = noise_rng.integers(0, 3, len(shifted))
    delta = noise_rng.choice(np.array([-3, -2, -1, 1, 2, 3]), len(shifted))
    for k, key in enumerate(dates):
        hit = shifted[which == k]
        dates[key][hit] += delta[which == k]
    out |= dates

    style = spec.label_style
    out["status"] = _labels(w.status[rows], _STATUS_LABELS[spec.status_set], style, fmt_rng)
    out["field"] = _labels(w.field[rows], _FIELD_LABELS, style, fmt_rng)
    out["solution_type"] = _labels(w.stype[rows], _SOLUTION_TYPE_LABELS, style, fmt_rng)
    out["benefit_vnd"] = w.benefit[rows]
    out["updated_at"] = w.updated[rows]
    out["source_record_id"] = _record_ids(spec, rows, ctx)

    portal_ids = ctx.portal_ids[rows]
    if spec.name == "hanoi":  # the province copies the portal id for part of what it also finds there
        out["portal_id"] = np.where((portal_ids != "") & (fmt_rng.random(n) < 0.7), portal_ids, "").astype(object)
    else:
        out["portal_id"] = portal_ids
    if spec.name == "portal":
        by_officer = fmt_rng.random(n) < 0.3
        first_author = w.person_name[w.authors[rows, 0]]
        out["submitted_by"] = np.where(by_officer, "BCH " + g["name"].to_numpy(dtype=object)[unit], first_author)
    return out
