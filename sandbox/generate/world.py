"""``generate_world``: draw the tree, the initiatives and their sources, and write the world's files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sandbox.generate.constants import NOISE_LEVELS, REFERENCE_DIR, STATUSES, TRUTH_COLUMNS
from sandbox.generate.initiatives import _draw_initiatives
from sandbox.generate.noise import _unit_variants
from sandbox.generate.orgs import _Draw, _grassroots_count, _OrgBuilder
from sandbox.generate.quotas import _quotas
from sandbox.generate.realnoise import kinds_of
from sandbox.generate.render import _RenderContext
from sandbox.generate.seeds import write_seeds
from sandbox.generate.sources import _SOURCES, _assign_sources
from sandbox.generate.writers import _write_config, _write_source


@dataclass(frozen=True)
class WorldSummary:
    """What ``generate_world`` wrote: paths, row counts per source, and the size of the world."""

    out_dir: Path
    orgs_path: Path
    quotas_path: Path
    truth_path: Path
    source_configs: dict[str, Path]
    source_files: dict[str, tuple[Path, ...]]
    rows_per_source: dict[str, int]
    initiatives: int
    units: int
    grassroots_units: int
    seed: int
    noise: str
    seed_files: dict[str, Path] | None = None  # with seeds=True: the seed world's files (sandbox.generate.seeds)

    @property
    def total_rows(self) -> int:
        """Number of source rows over all sources (= rows of truth.csv)."""
        return sum(self.rows_per_source.values())


def _check_arguments(initiatives: int, seed: int, noise: str) -> None:
    if noise not in NOISE_LEVELS and not noise.startswith("real:"):
        raise ValueError(f"noise must be one of {', '.join(NOISE_LEVELS)} or real:KIND; got {noise!r}")
    if noise.startswith("real:"):
        kinds_of(noise)  # raises for an unknown kind
    if isinstance(initiatives, bool) or not isinstance(initiatives, (int, np.integer)) or initiatives < 1:
        raise ValueError(f"initiatives must be a positive integer; got {initiatives!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")


def generate_world(out_dir: Path, initiatives: int, seed: int = 0, noise: str = "none",
                   seeds: bool = False) -> WorldSummary:
    """Write a simulated world of ``initiatives`` initiatives under ``out_dir`` and say what was written.

    Same arguments, same bytes. The noise level ("none", "light", "hard") only changes how
    duplicate copies are typed (diacritics, typos, author order, dropped co-author, dates
    shifted by 1-3 days, unit typed by name); the org tree, quotas, which initiatives each
    source holds and ``truth.csv`` are identical across noise levels. Under "none", all
    copies of an initiative carry the same content and differ only in format. Files
    already in ``sources/<name>/`` with the source's extension are replaced.

    With ``seeds``, the targets, rounds, member counts and clusters of the five source documents
    are written over it (sandbox.generate.seeds: quotas.csv replaced, members.csv, clusters.csv,
    programs/, seeds.csv, SEEDS.md).

    Raises ValueError for an unknown noise level, or a non-positive count or negative seed.
    """
    _check_arguments(initiatives, seed, noise)
    initiatives, seed = int(initiatives), int(seed)
    out_dir = Path(out_dir)
    sources_dir = out_dir / "sources"
    sources_dir.mkdir(parents=True, exist_ok=True)

    provinces = pd.read_csv(REFERENCE_DIR / "provinces_2022.csv", dtype=str, keep_default_na=False)
    sectors = pd.read_csv(REFERENCE_DIR / "sector_unions.csv", dtype=str, keep_default_na=False)
    tree = _OrgBuilder(_Draw(np.random.default_rng([seed, 1])), provinces, sectors).build(
        _grassroots_count(initiatives))
    world = _draw_initiatives(np.random.default_rng([seed, 2]), tree, initiatives)
    membership = _assign_sources(np.random.default_rng([seed, 3]), tree, world)

    orgs_path = out_dir / "orgs.csv"
    tree.orgs.to_csv(orgs_path, index=False, encoding="utf-8", lineterminator="\n")
    quotas_path = out_dir / "quotas.csv"
    _quotas(np.random.default_rng([seed, 4]), tree, world).to_csv(quotas_path, index=False, lineterminator="\n")

    copies = np.zeros(initiatives, dtype=np.int8)
    for rows in membership.values():
        copies[rows] += 1
    portal_rows = membership["portal"]
    portal_ids = np.full(initiatives, "", dtype=object)
    portal_ids[portal_rows] = [f"SK{(s * 7919) % 10_000_000:07d}" for s in range(1, len(portal_rows) + 1)]
    ctx = _RenderContext(seed, noise, tree, world, copies, portal_ids, _unit_variants(tree.grassroots))

    width = max(7, len(str(initiatives)))
    initiative_ids = np.array([f"I{i:0{width}d}" for i in range(1, initiatives + 1)], dtype=object)
    unit_codes = tree.grassroots["code"].to_numpy(dtype=object)
    status_names = np.array(STATUSES, dtype=object)
    phase, eligible = world.phase, np.where(world.eligible, "true", "false").astype(object)

    truth_path = out_dir / "truth.csv"
    pd.DataFrame(columns=list(TRUTH_COLUMNS)).to_csv(truth_path, index=False, lineterminator="\n")
    configs, files, counts = {}, {}, {}
    for index, spec in enumerate(_SOURCES):
        rows = membership[spec.name]
        files[spec.name], record_ids = _write_source(spec, index, rows, ctx, sources_dir)
        configs[spec.name] = _write_config(spec, sources_dir)
        counts[spec.name] = len(rows)
        truth = pd.DataFrame({
            "source": np.full(len(rows), spec.name, dtype=object), "source_record_id": record_ids,
            "initiative_id": initiative_ids[rows], "unit_code": unit_codes[world.unit[rows]],
            "phase": phase[rows], "status": status_names[world.status[rows]], "eligible": eligible[rows],
        }, dtype=object)
        truth.to_csv(truth_path, mode="a", header=False, index=False, lineterminator="\n")

    seed_files = write_seeds(out_dir, np.random.default_rng([seed, 5]), tree, world) if seeds else None
    return WorldSummary(out_dir=out_dir, orgs_path=orgs_path, quotas_path=quotas_path, truth_path=truth_path,
                        source_configs=configs, source_files=files, rows_per_source=counts,
                        initiatives=initiatives, units=len(tree.orgs), grassroots_units=len(tree.grassroots),
                        seed=seed, noise=noise, seed_files=seed_files)
