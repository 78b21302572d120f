"""Deterministic simulated world for sangkien-sync.

``generate_world(out_dir, initiatives, seed, noise)`` writes under ``out_dir``:

* ``orgs.csv``: the union tree (VGCL, 63 provinces, the national sector and
  corporation unions, districts, provincial sector unions, industrial-zone
  unions, grassroots units), some grassroots units with a sector parent too;
* ``quotas.csv``: cascaded phase-1/phase-2 targets scaled to the world;
* ``sources/<name>/...``: the same initiatives as several systems export them
  (encodings, delimiters, date formats, headers, labels, NFC/NFD, one xlsx),
  and ``sources/<name>.yaml``: a file-drop connector config for each source;
* ``truth.csv``: for every source row, the true initiative, unit, phase, status
  and eligibility.

Every random draw comes from a numpy generator seeded by ``(seed, stage)``, so the
same arguments give the same bytes, and the noise level never changes which
initiatives exist or where they appear; it only changes how duplicate copies are
typed. Work on initiatives is vectorized (numpy object arrays, lookup tables for
dates and names); only the org tree (at most 25,000 grassroots units) and the
noisy typos are built one record at a time.

Run ``python -m sandbox.generate --out DIR --initiatives N`` for a manual world.

Modules, each one job: ``constants`` (columns, vocabularies of codes, reference folder),
``dates``, ``text`` (Vietnamese folding and cp1258), ``vocab`` (names and labels),
``orgs`` (the tree), ``initiatives``, ``sources`` (the systems and who holds what),
``noise``, ``render`` (a source's rows), ``writers`` (files and configs), ``quotas``,
``world`` (``generate_world``) and ``cli``.
"""

from sandbox.generate.world import WorldSummary, generate_world

__all__ = ["WorldSummary", "generate_world"]
